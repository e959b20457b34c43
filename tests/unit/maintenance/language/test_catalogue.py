"""The catalogues are complete: every message the code, templates and script say (extracted
now, as `make translations` does) has a translation in each language, none fuzzy, none left
over; and each translation keeps the placeholders its message has."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from maintenance.language import catalogue

ROOT = Path(__file__).resolve().parents[4]
PLACEHOLDER = re.compile(r"%\((\w+)\)s|\{(\w+)\}")


# The keywords of the Makefile's `translations` target, on top of Babel's defaults.
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None, "gettext_": None, "ngettext_": (1, 2), "t": None}


@pytest.fixture(scope="module")
def extracted() -> set[str]:
    """What `make translations` extracts, with the same mapping (babel.cfg)."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)  # type: ignore[no-untyped-call]
    found = extract_from_dir(str(ROOT), method_map, options_map, keywords=KEYWORDS)
    return {m if isinstance(m, str) else m[0] for _, _, m, _, _ in found}


@pytest.mark.parametrize("language", catalogue.SUPPORTED)
def test_every_extracted_message_is_translated_and_none_is_fuzzy(
    extracted: set[str], language: str
) -> None:
    with catalogue.catalogue_path(language).open("rb") as f:
        po = read_po(f)
    entries = {str(m.id): m for m in po if m.id}
    assert sorted(extracted - entries.keys()) == []  # missing: run `make translations`
    assert sorted(entries.keys() - extracted) == []  # obsolete
    assert sorted(m for m, e in entries.items() if not e.string) == []  # untranslated
    assert sorted(m for m, e in entries.items() if e.fuzzy) == []
    for message, entry in entries.items():
        assert sorted(PLACEHOLDER.findall(str(entry.string))) == sorted(
            PLACEHOLDER.findall(message)
        ), message


def test_the_extraction_finds_the_templates_the_script_and_the_code(extracted: set[str]) -> None:
    assert {"Acknowledge", "No standing alarms."} <= extracted  # console templates
    assert {"Service quality against the service standards"} <= extracted  # documents
    assert {"What was done?", "response in {clock}"} <= extracted  # console.js
    assert {"There is no such page.", "in progress"} <= extracted  # Python


def test_the_compiled_catalogue_says_chinese() -> None:
    with catalogue.using("zh-CN"):
        assert catalogue.gettext_("Acknowledge") == "确认"
        assert catalogue.current() == "zh-CN"
    assert catalogue.current() == "en"
    assert catalogue.in_language("en", "normal (priority)") == "normal"
    assert catalogue.in_language("zh-CN", "normal (priority)") == "一般"
    with catalogue.using("fr"):  # not supported: the first supported language
        assert catalogue.current() == "en"
