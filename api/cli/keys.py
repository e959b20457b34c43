"""`facility data-key`: a new key for FACILITY_DATA_KEY (personal data at rest)."""

from __future__ import annotations

import argparse

from api.settings import Settings
from maintenance.storage import crypto


def data_key_new(settings: Settings, args: argparse.Namespace) -> int:
    print(crypto.new_key())
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub.add_parser(
        "data-key", help="a new key for FACILITY_DATA_KEY (personal data at rest)"
    ).set_defaults(func=data_key_new)
