"""`facility deadletters [list|replay]`: what the collector refused and why; held messages of
gateway devices mapped since, brought in once."""

from __future__ import annotations

import argparse
import json
import time

from api.cli.formats import iso
from api.settings import Settings
from ingest.deadletters import DeadLetterStore
from ingest.sources.mapping import UNMAPPED


def deadletters_list(settings: Settings, args: argparse.Namespace) -> int:
    path = settings.state_dir / "deadletters.sqlite"
    if not path.exists():
        print(f"no dead letters ({path} does not exist)")
        return 0
    store = DeadLetterStore(path)
    if args.action == "replay":
        return _replay(store, args.reason, args.wait)
    letters = store.list(limit=args.limit, after_id=args.after)
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "id": s.id,
                        "received": iso(s.letter.received_ms),
                        "topic": s.letter.topic,
                        "reason": s.letter.reason,
                        "payload": s.letter.payload.decode("utf-8", "replace"),
                    }
                    for s in letters
                ],
                indent=2,
            )
        )
    else:
        print(f"{store.count()} dead letters")
        for s in letters:
            print(f"#{s.id} {iso(s.letter.received_ms)} {s.letter.topic}\n    {s.letter.reason}")
    store.close()
    return 0


def _replay(store: DeadLetterStore, reason: str, wait_s: float) -> int:
    """The collector replays what is asked (it owns the spool); this waits for it to answer."""
    asked = store.request_replay(reason)
    deadline = time.monotonic() + wait_s
    while asked and store.pending_replays() and time.monotonic() < deadline:
        time.sleep(0.2)
    pending = store.pending_replays()
    held = len(store.held(reason))
    store.close()
    if pending:
        print(
            f"{asked} held messages asked for; the collector has not taken {pending} yet "
            "(it replays them when it runs)"
        )
        return 1
    print(f"{asked} held messages: {asked - held} replayed, {held} still held (device unmapped)")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    dead = sub.add_parser("deadletters", help="list dead letters")
    dead.add_argument("--limit", type=int, default=50)
    dead.add_argument("--after", type=int, default=0, help="only ids after this one")
    dead.add_argument("--json", action="store_true")
    dead.add_argument(
        "action",
        nargs="?",
        choices=["list", "replay"],
        default="list",
        help="replay: bring in the held messages of devices mapped since",
    )
    dead.add_argument("--reason", default=UNMAPPED, choices=[UNMAPPED])
    dead.add_argument("--wait", type=float, default=30.0, help="seconds to wait for the collector")
    dead.set_defaults(func=deadletters_list)
