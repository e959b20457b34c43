"""`facility users ...` and `facility api-keys ...`: accounts and keys from a shell."""

from __future__ import annotations

import argparse
import getpass
import sys

from api.runtime import open_database
from api.settings import Settings
from maintenance.db import utcnow
from maintenance.users import service as users
from maintenance.users.models import ROLES


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if first != getpass.getpass("again: "):
        raise ValueError("the passwords differ")
    return first


def cmd_users_create(settings: Settings, args: argparse.Namespace) -> int:
    password = _password(args)
    with open_database(settings).transaction() as s:
        user = users.create_user(
            s, args.username, password, args.role, now=utcnow(), technician_id=args.technician
        )
        users.record(s, actor="cli", action="user_created", now=utcnow(), detail=args.username)
        print(f"user {user.id}: {user.username} ({user.role})")
    return 0


def cmd_api_keys_create(settings: Settings, args: argparse.Namespace) -> int:
    with open_database(settings).transaction() as s:
        key, row = users.create_api_key(s, args.name, args.role, now=utcnow())
        users.record(s, actor="cli", action="api_key_created", now=utcnow(), detail=args.name)
    print(key)
    print(f"api key {row.id} for {row.name} ({row.role}); shown once", file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    accounts = sub.add_parser("users", help="accounts").add_subparsers(dest="verb", required=True)
    create = accounts.add_parser("create", help="a new account (password asked twice)")
    create.add_argument("username")
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--technician", type=int, help="the roster entry of a technician")
    create.add_argument("--password-stdin", action="store_true", help="read it from stdin")
    create.set_defaults(func=cmd_users_create)
    keys = sub.add_parser("api-keys", help="API keys").add_subparsers(dest="verb", required=True)
    make = keys.add_parser("create", help="a new key, printed once")
    make.add_argument("name")
    make.add_argument("--role", required=True, choices=ROLES)
    make.set_defaults(func=cmd_api_keys_create)
