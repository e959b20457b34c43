"""URLs and texts as they may be shown: credentials hidden, the address still recognisable."""

from __future__ import annotations

import logging
import sys

import pytest

from ingest.redact import MaskingFilter, mask_text, mask_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql://facility:s3cret@db:5432/facility",
            "postgresql://facility:***@db:5432/facility",
        ),
        ("postgresql+psycopg://u:p%40ss@db/facility", "postgresql+psycopg://u:***@db/facility"),
        ("mqtts://collector:pw@broker:8883", "mqtts://collector:***@broker:8883"),
        ("http://127.0.0.1:8086", "http://127.0.0.1:8086"),
        ("sqlite:///.state/facility.sqlite", "sqlite:///.state/facility.sqlite"),
        (
            "https://hooks.example/alarms?token=abc&channel=ops",
            "https://hooks.example/alarms?token=***&channel=***",
        ),
        (
            "https://hooks.slack.com/services/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",
            "https://hooks.slack.com/services/T0123ABCD/B0123ABCD/***",
        ),
        ("https://ghp_0123456789abcdefghij@host/x", "https://***@host/x"),
        ("https://ops@host/x#sig=abc", "https://ops@host/x#***"),
        (
            "smtp://mail:pw@smtp.example:587?starttls=true",
            "smtp://mail:***@smtp.example:587?starttls=***",
        ),
        ("http://host:notaport/x", "***"),
    ],
)
def test_mask_url(url: str, shown: str) -> None:
    assert mask_url(url) == shown


def test_mask_text_masks_every_url_and_leaves_the_rest() -> None:
    text = "connect to postgresql://a:b1@h/db failed; webhook https://x/y?key=k2 refused (a:b)"
    assert mask_text(text) == (
        "connect to postgresql://a:***@h/db failed; webhook https://x/y?key=*** refused (a:b)"
    )
    assert mask_text("no address here") == "no address here"


def test_the_log_filter_masks_a_traceback_too() -> None:
    try:
        raise ValueError("cannot reach postgresql://u:pw1@db/x")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    assert MaskingFilter().filter(record)
    text = logging.Formatter().format(record)
    assert "pw1" not in text and "postgresql://u:***@db/x" in text


def test_the_log_filter_masks_a_record_before_it_is_formatted() -> None:
    record = logging.LogRecord(
        "httpx", logging.INFO, __file__, 1, "HTTP Request: POST %s", ("http://u:pw@h/w",), None
    )
    assert MaskingFilter().filter(record)
    assert record.getMessage() == "HTTP Request: POST http://u:***@h/w"
