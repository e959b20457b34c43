"""`facility contractors create|list|assign`: contractor companies and the assets they are
responsible for; the site options of `facility users` and `facility api-keys`."""

from __future__ import annotations

import argparse

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.settings import Settings
from maintenance.assets.models import Site
from maintenance.dispatch import contractors
from maintenance.dispatch.contractors import AssetAssignment, ContractorCreate
from maintenance.errors import InvalidInput
from maintenance.process import open_database
from maintenance.scope import EVERYTHING
from maintenance.storage.db import utcnow
from maintenance.vocabulary import System


def site_ids(s: Session, codes: list[str] | None) -> list[int] | None:
    """Site codes as ids (None: every site); an unknown code is an error on `--site`."""
    if codes is None:
        return None
    rows = s.execute(select(Site.code, Site.id).where(Site.code.in_(codes)))
    found: dict[str, int] = {str(code): int(site) for code, site in rows}
    missing = sorted(set(codes) - set(found))
    if missing:
        raise InvalidInput("--site", f"unknown site(s) {', '.join(missing)}")
    return [found[c] for c in codes]


def contractor_id(s: Session, name: str | None) -> int | None:
    return contractors.find(s, name).id if name is not None else None


def contractors_create(settings: Settings, args: argparse.Namespace) -> int:
    with open_database(settings).transaction() as s:
        made = contractors.create(
            s, ContractorCreate(name=args.name, contact=args.contact), now=utcnow()
        )
        print(f"contractor {made.id}: {made.name}")
    return 0


def contractors_list(settings: Settings, args: argparse.Namespace) -> int:
    with open_database(settings).read() as s:
        for c in contractors.all_contractors(s):
            assets = contractors.assets_of(s, c.id, scope=EVERYTHING)
            print(f"{c.id}\t{c.name}\t{len(assets)} asset(s)\t{' '.join(map(str, assets))}")
    return 0


def contractors_assign(settings: Settings, args: argparse.Namespace) -> int:
    with open_database(settings).transaction() as s:
        company = contractors.find(s, args.name)
        sites = site_ids(s, [args.site] if args.site else None)
        which = AssetAssignment(
            site_id=sites[0] if sites else None,
            system=System(args.system) if args.system else None,
            asset_type=args.asset_type,
            asset_ids=args.asset or None,
        )
        ids = contractors.assign(s, company, which)
        print(f"contractor {company.name}: responsible for {len(ids)} more asset(s)")
    return 0


def scope_options(parser: argparse.ArgumentParser) -> None:
    """`--site CODE` (repeatable; none: every site) and `--contractor NAME`."""
    parser.add_argument("--site", action="append", help="a site code it sees (repeatable)")
    parser.add_argument("--contractor", help="a contractor's account: the company's name")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    verbs = sub.add_parser("contractors", help="contractor companies and their assets")
    nouns = verbs.add_subparsers(dest="verb", required=True)
    create = nouns.add_parser("create", help="a new contractor company")
    create.add_argument("name")
    create.add_argument("--contact", default="")
    create.set_defaults(func=contractors_create)
    nouns.add_parser("list", help="companies and their assets").set_defaults(func=contractors_list)
    assign = nouns.add_parser(
        "assign", help="make the company responsible for a site's system/asset type, or assets"
    )
    assign.add_argument("name")
    assign.add_argument("--site", help="site code")
    assign.add_argument("--system", choices=[s.value for s in System])
    assign.add_argument("--asset-type")
    assign.add_argument("--asset", type=int, action="append", help="an asset id (repeatable)")
    assign.set_defaults(func=contractors_assign)
