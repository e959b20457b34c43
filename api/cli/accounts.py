"""`facility users ...` and `facility api-keys ...`: accounts and keys from a shell."""

from __future__ import annotations

import argparse
import getpass
import sys

from api.cli.contractors import contractor_id, scope_options, site_ids
from api.settings import Settings
from maintenance.accounts import service as users
from maintenance.accounts.models import ROLES, ApiKey
from maintenance.process import open_database
from maintenance.storage.db import get_required, utcnow


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if first != getpass.getpass("again: "):
        raise ValueError("the passwords differ")
    return first


def users_create(settings: Settings, args: argparse.Namespace) -> int:
    password = _password(args)
    with open_database(settings).transaction() as s:
        user = users.create_user(
            s,
            args.username,
            password,
            args.role,
            now=utcnow(),
            technician_id=args.technician,
            site_ids=site_ids(s, args.site),
            contractor_id=contractor_id(s, args.contractor),
        )
        users.record(s, actor="cli", action="user_created", now=utcnow(), detail=args.username)
        print(f"user {user.id}: {user.username} ({user.role}){_sites(args.site)}")
    return 0


def _sites(codes: list[str] | None) -> str:
    return f", sites {', '.join(codes)}" if codes else ", every site"


def users_sites(settings: Settings, args: argparse.Namespace) -> int:
    """The sites an account sees from its next request on."""
    codes = None if args.all else args.site
    with open_database(settings).transaction() as s:
        user = users.find_user(s, args.username)
        users.set_sites(s, user, site_ids(s, codes))
        detail = f"{user.username}: sites {', '.join(codes) if codes else 'all'}"
        users.record(s, actor="cli", action="user_scoped", now=utcnow(), detail=detail)
    print(f"user {args.username}{_sites(codes)}")
    return 0


def api_keys_sites(settings: Settings, args: argparse.Namespace) -> int:
    codes = None if args.all else args.site
    with open_database(settings).transaction() as s:
        key = get_required(s, ApiKey, args.id, "api key")
        users.set_sites(s, key, site_ids(s, codes))
        detail = f"{key.name}: sites {', '.join(codes) if codes else 'all'}"
        users.record(s, actor="cli", action="api_key_scoped", now=utcnow(), detail=detail)
    print(f"api key {args.id}{_sites(codes)}")
    return 0


def api_keys_create(settings: Settings, args: argparse.Namespace) -> int:
    with open_database(settings).transaction() as s:
        key, row = users.create_api_key(
            s,
            args.name,
            args.role,
            now=utcnow(),
            site_ids=site_ids(s, args.site),
            contractor_id=contractor_id(s, args.contractor),
        )
        users.record(s, actor="cli", action="api_key_created", now=utcnow(), detail=args.name)
    print(key)
    print(f"api key {row.id} for {row.name} ({row.role}); shown once", file=sys.stderr)
    return 0


def users_list(settings: Settings, args: argparse.Namespace) -> int:
    with open_database(settings).read() as s:
        for user in users.all_users(s):
            state = "active" if user.active else "disabled"
            sites = users.site_ids(s, user)
            where = "every site" if sites is None else "sites " + ",".join(map(str, sites))
            print(f"{user.id}\t{user.username}\t{user.role}\t{state}\t{where}")
    return 0


def _set_active(settings: Settings, username: str, active: bool) -> int:
    now = utcnow()
    with open_database(settings).transaction() as s:
        user = users.find_user(s, username)
        was = user.active
        ended = users.set_active(s, user, active, now=now)
        if was != active:
            users.record(
                s,
                actor="cli",
                action="user_enabled" if active else "user_disabled",
                now=now,
                detail=username if active else f"{username}: {ended} sessions ended",
            )
    if active:
        print(f"user {username}: active")
    else:
        print(f"user {username}: disabled; {ended} sessions ended")
    return 0


def users_disable(settings: Settings, args: argparse.Namespace) -> int:
    return _set_active(settings, args.username, False)


def users_enable(settings: Settings, args: argparse.Namespace) -> int:
    return _set_active(settings, args.username, True)


def api_keys_list(settings: Settings, args: argparse.Namespace) -> int:
    with open_database(settings).read() as s:
        for key in users.all_api_keys(s):
            state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M} UTC" if key.revoked_at else "active"
            print(f"{key.id}\t{key.name}\t{key.role}\t{state}")
    return 0


def api_keys_revoke(settings: Settings, args: argparse.Namespace) -> int:
    now = utcnow()
    with open_database(settings).transaction() as s:
        row, revoked = users.revoke_api_key(s, args.id, now=now)
        if revoked:
            users.record(
                s, actor="cli", action="api_key_revoked", now=now, detail=f"{row.name} ({row.role})"
            )
    print(f"api key {row.id} ({row.name}): revoked" + ("" if revoked else " before"))
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    accounts = sub.add_parser("users", help="accounts").add_subparsers(dest="verb", required=True)
    create = accounts.add_parser("create", help="a new account (password asked twice)")
    create.add_argument("username")
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--technician", type=int, help="the roster entry of a technician")
    create.add_argument("--password-stdin", action="store_true", help="read it from stdin")
    scope_options(create)
    create.set_defaults(func=users_create)
    scoped = accounts.add_parser("sites", help="the sites an account sees")
    scoped.add_argument("username")
    _site_choice(scoped)
    scoped.set_defaults(func=users_sites)
    accounts.add_parser("list", help="accounts and whether active").set_defaults(func=users_list)
    disable = accounts.add_parser("disable", help="no more logins; its sessions end now")
    disable.add_argument("username")
    disable.set_defaults(func=users_disable)
    enable = accounts.add_parser("enable", help="a disabled account may log in again")
    enable.add_argument("username")
    enable.set_defaults(func=users_enable)
    keys = sub.add_parser("api-keys", help="API keys").add_subparsers(dest="verb", required=True)
    make = keys.add_parser("create", help="a new key, printed once")
    make.add_argument("name")
    make.add_argument("--role", required=True, choices=ROLES)
    scope_options(make)
    make.set_defaults(func=api_keys_create)
    scoped_key = keys.add_parser("sites", help="the sites a key speaks for")
    scoped_key.add_argument("id", type=int)
    _site_choice(scoped_key)
    scoped_key.set_defaults(func=api_keys_sites)
    keys.add_parser("list", help="keys (never the key itself)").set_defaults(func=api_keys_list)
    revoke = keys.add_parser("revoke", help="refused from the next request on")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(func=api_keys_revoke)


def _site_choice(parser: argparse.ArgumentParser) -> None:
    choice = parser.add_mutually_exclusive_group(required=True)
    choice.add_argument("--site", action="append", help="a site code (repeatable)")
    choice.add_argument("--all", action="store_true", help="every site")
