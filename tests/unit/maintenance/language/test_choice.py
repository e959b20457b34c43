"""Which language a request gets: the account's choice, else Accept-Language by its weights,
else the installation's default."""

from __future__ import annotations

import pytest

from maintenance.language.choice import choose, from_accept_language, supported


@pytest.mark.parametrize(
    ("tag", "language"),
    [
        ("zh-CN", "zh-CN"),
        ("zh", "zh-CN"),
        ("zh_cn", "zh-CN"),
        ("zh-Hans-CN", "zh-CN"),
        ("en-GB", "en"),
        ("EN", "en"),
        ("fr", None),
        ("", None),
        (None, None),
    ],
)
def test_a_tag_means_a_supported_language(tag: str | None, language: str | None) -> None:
    assert supported(tag) == language


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
        ("en-US,en;q=0.9,zh-CN;q=0.8", "en"),
        ("fr-FR,fr;q=0.9,zh;q=0.5,en;q=0.4", "zh-CN"),  # the best one we have
        ("en;q=0.2, zh;q=0.7", "zh-CN"),  # weights, not order
        ("zh;q=0, en", "en"),  # q=0: not acceptable
        ("zh;q=abc, en;q=0.1", "en"),  # a broken weight counts as not acceptable
        ("de, fr", None),
        ("*", None),
        ("", None),
    ],
)
def test_accept_language_by_its_weights(header: str, language: str | None) -> None:
    assert from_accept_language(header) == language


def test_the_account_then_the_browser_then_the_default() -> None:
    assert choose(account="en", accept_language="zh-CN", default="zh-CN") == "en"
    assert choose(account=None, accept_language="zh-CN", default="en") == "zh-CN"
    assert choose(account=None, accept_language="de", default="zh-CN") == "zh-CN"
    assert choose(account=None, accept_language=None, default="en") == "en"
    assert choose(account="xx", accept_language=None, default="nonsense") == "en"
