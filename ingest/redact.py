"""URLs as they may be shown: in the start-up table, logs, API answers and the delivery log.

Server and webhook URLs carry credentials (`postgresql://facility:secret@db/facility`,
`https://hooks.example/x?token=...`, a token as a path segment as in Slack's and Discord's
webhook URLs). `mask_url` keeps what an operator needs to recognise the address (scheme, user
name, host, port, the plain words of the path, the query's parameter names) and replaces the
rest with `***`. `mask_text` does the same for every URL inside a free text (an error message);
`MaskingFilter` applies it to every log record, so that no URL leaves the process unmasked."""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl, urlsplit, urlunsplit

HIDDEN = "***"
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>`]+")
# A path segment or lone user name that is a token rather than a word: long and holding both
# letters and digits (webhook tokens, ids used as secrets), or 32 characters and more.
_TOKENISH = re.compile(r"(?=.*[0-9])(?=.*[A-Za-z])[A-Za-z0-9_\-.~%+=]{16,}")


def _tokenish(text: str) -> bool:
    return bool(_TOKENISH.fullmatch(text)) or len(text) >= 32


def mask_url(url: str) -> str:
    """The URL with its password, query values, fragment and token-like path segments hidden."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on a malformed port)
    except ValueError:
        return HIDDEN
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if at:
        user, colon, _ = userinfo.partition(":")
        if colon:
            userinfo = f"{user}:{HIDDEN}"
        elif _tokenish(user):
            userinfo = HIDDEN
        netloc = f"{userinfo}@{hostport}"
    else:
        netloc = hostport
    path = "/".join(HIDDEN if _tokenish(s) else s for s in parts.path.split("/"))
    query = "&".join(
        f"{name}={HIDDEN}" for name, _ in parse_qsl(parts.query, keep_blank_values=True)
    )
    if "://" not in url:  # no authority part (mailto:, a bare path): nothing but the path
        return urlunsplit((parts.scheme, netloc, path, query, HIDDEN if parts.fragment else ""))
    return (
        f"{parts.scheme}://{netloc}{path}"
        + (f"?{query}" if query else "")
        + (f"#{HIDDEN}" if parts.fragment else "")
    )


def mask_text(text: str) -> str:
    """Every URL in the text masked."""
    if "://" not in text:
        return text
    return _URL.sub(lambda m: mask_url(m.group(0)), text)


class MaskingFilter(logging.Filter):
    """For the handlers of an entry point: each record's message with its URLs masked, whoever
    logged it (our modules, httpx, uvicorn, the database driver)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            # the traceback's text, made here so that it can be masked (formatters reuse it)
            record.exc_text = _FORMATTER.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info)
        return True


_FORMATTER = logging.Formatter()
