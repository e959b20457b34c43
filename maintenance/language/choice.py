"""Which language a request is answered in: the account's choice, else the browser's
`Accept-Language`, else the installation's default (FACILITY_DEFAULT_LOCALE)."""

from __future__ import annotations

from maintenance.language.catalogue import SUPPORTED


def supported(tag: str | None) -> str | None:
    """The supported language a tag means: zh, zh-CN, zh-Hans-CN, zh_cn -> zh-CN; en-GB -> en."""
    if not tag:
        return None
    parts = tag.strip().replace("_", "-").lower().split("-")
    if parts[0] == "zh":
        return "zh-CN"  # the one Chinese catalogue: Simplified, readable where Traditional is used
    if parts[0] == "en":
        return "en"
    return None


def from_accept_language(header: str | None) -> str | None:
    """The best supported language of an Accept-Language header (RFC 9110 weights); None when
    it names none of them."""
    if not header:
        return None
    weighted: list[tuple[float, int, str]] = []
    for index, item in enumerate(header.split(",")):
        tag, _, params = item.strip().partition(";")
        weight = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        language = supported(tag)
        if language is not None and weight > 0:
            weighted.append((-weight, index, language))
    return min(weighted)[2] if weighted else None


def choose(*, account: str | None, accept_language: str | None, default: str) -> str:
    return (
        supported(account)
        or from_accept_language(accept_language)
        or supported(default)
        or SUPPORTED[0]
    )
