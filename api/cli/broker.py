"""`facility broker ...`: mosquitto's access list and password file from the ledger."""

from __future__ import annotations

import argparse
import getpass
import os
import secrets
import sys
from pathlib import Path

from api.settings import Settings
from ingest.client import BrokerAddress
from ingest.sources.sourcefile import load_sources
from maintenance.assets import broker
from maintenance.process import open_database


def _service_user(settings: Settings, args: argparse.Namespace) -> str:
    if args.service_user:
        return str(args.service_user)
    if settings.mqtt_url:
        address = BrokerAddress.from_url(settings.mqtt_url)
        if address.username:
            return address.username
    return "facility"


def _gateway(text: str) -> tuple[str, str]:
    name, equals, site = text.partition("=")
    if not equals or not name or not site:
        raise argparse.ArgumentTypeError(f"{text!r}: expected NAME=SITE")
    return name, site


def broker_acl(settings: Settings, args: argparse.Namespace) -> int:
    with open_database(settings).read() as s:
        devices = broker.device_accounts(s)
    sources_file = args.sources or settings.sources_file  # its reads and answers too
    text = broker.acl_text(
        devices,
        service_user=_service_user(settings, args),
        gateways=args.gateway or [],
        sources=load_sources(Path(sources_file)) if sources_file else (),
    )
    if args.out:
        path = Path(args.out)
        partial = path.with_name(path.name + ".new")
        partial.write_text(text)
        os.replace(partial, path)  # mosquitto never reads half a file
        print(f"{path}: {len(devices)} device(s)", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def broker_passwd(settings: Settings, args: argparse.Namespace) -> int:
    path = Path(args.file)
    if args.ledger_devices:
        # Accounts for the ledger's devices that have none yet; each password shown once.
        known = (
            {line.split(":", 1)[0] for line in path.read_text().splitlines()}
            if path.exists()
            else set()
        )
        with open_database(settings).read() as s:
            devices = broker.device_accounts(s)
        made = 0
        for device in devices:
            if device.username in known:
                continue
            password = secrets.token_urlsafe(18)
            broker.set_password(path, device.username, password)
            print(f"{device.username} {password}")
            made += 1
        print(f"{path}: {made} new device account(s); passwords shown once", file=sys.stderr)
        return 0
    if not args.username:
        raise ValueError("name an account, or give --ledger-devices")
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("password: ")
        if password != getpass.getpass("again: "):
            raise ValueError("the passwords differ")
    new = broker.set_password(path, args.username, password)
    print(f"{path}: {'added' if new else 'changed'} {args.username}", file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    verbs = sub.add_parser("broker", help="mosquitto accounts and access list").add_subparsers(
        dest="verb", required=True
    )
    acl = verbs.add_parser("acl", help="the access list from the ledger (docs/security.md)")
    acl.add_argument("--service-user", help="the service's account (default: from the MQTT URL)")
    acl.add_argument(
        "--gateway",
        action="append",
        type=_gateway,
        metavar="NAME=SITE",
        help="an account that publishes for every device of a site (repeatable)",
    )
    acl.add_argument("--sources", help="the sources file (default: FACILITY_SOURCES_FILE)")
    acl.add_argument("--out", help="write this file (atomically) instead of standard output")
    acl.set_defaults(func=broker_acl)
    passwd = verbs.add_parser("passwd", help="add or change an account in a password file")
    passwd.add_argument("file")
    passwd.add_argument("username", nargs="?")
    passwd.add_argument("--password-stdin", action="store_true", help="read it from stdin")
    passwd.add_argument(
        "--ledger-devices",
        action="store_true",
        help="accounts with generated passwords for the ledger's devices that have none",
    )
    passwd.set_defaults(func=broker_passwd)
