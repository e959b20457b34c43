"""`facility alarms ...` and `facility anomaly ...`: the operator's basics from a shell."""

from __future__ import annotations

import argparse
import sys
import time

from api.settings import Settings
from ingest.process import make_store
from maintenance.alarms import findings, queries
from maintenance.alarms.lifecycle import AlarmState
from maintenance.alarms.monitor import AlarmMonitor
from maintenance.notifications.notifier import LogNotifier
from maintenance.process import open_database
from maintenance.scope import EVERYTHING
from rules.engine import RuleEngine
from rules.registry import ModelRegistry


def alarms_list(settings: Settings, args: argparse.Namespace) -> int:
    with open_database(settings).read() as s:
        rows, total = queries.list_alarms(
            s,
            scope=EVERYTHING,  # the operator at the shell sees every site
            site=args.site,
            state=AlarmState(args.state) if args.state else None,
            standing=True if args.standing else None,
            limit=args.limit,
        )
        for a in rows:
            flags = " ".join(
                f
                for f, on in (
                    ("shelved", a.shelved_until is not None),
                    ("suppressed", a.suppressed_by is not None),
                    ("chattering", a.chattering),
                    (f"flood#{a.flood_id}", a.flood_id is not None),
                )
                if on
            )
            raised = a.raised_at.isoformat(timespec="seconds") if a.raised_at else "-"
            ticket = f"ticket {a.ticket_id}" if a.ticket_id else "no ticket"
            print(
                f"{a.id:>6} {a.severity:8} {a.state.value:24} {a.site}/{a.device_id} "
                f"{a.rule_id} raised {raised} {ticket} {flags}".rstrip()
            )
    print(f"{total} alarms", file=sys.stderr)
    return 0


def alarms_ack(settings: Settings, args: argparse.Namespace) -> int:
    monitor = AlarmMonitor(
        open_database(settings),
        RuleEngine([]),
        policy=settings.alarm_policy(),
        notifier=LogNotifier(),
    )
    done = monitor.acknowledge(args.id, by=args.actor, note=args.note)
    print(f"alarm {done.alarm_id}: {done.from_state} -> {done.to_state}")
    return 0


def anomaly_train(settings: Settings, args: argparse.Namespace) -> int:
    if args.days:
        settings = settings.model_copy(update={"anomaly_training_days": args.days})
    from rules.training import retrain  # scikit-learn: loaded by this command only

    with open_database(settings).read() as session:
        said = findings.feedback(session)  # technicians' verdicts on earlier findings
    store = make_store(settings)
    started = time.monotonic()
    try:
        results = retrain(
            settings,
            store,
            progress=lambda line: print(line, file=sys.stderr, flush=True),
            feedback=said,
        )
    finally:
        store.close()
    if not results:
        print("no devices with telemetry in the training window; nothing trained")
        return 1
    for r in results:
        print(f"{r.key:32} {'in service' if r.activated else 'NOT in service'}: {r.reason}")
    print(f"{len(results)} models in {time.monotonic() - started:.1f} s", file=sys.stderr)
    return 0 if any(r.activated for r in results) else 1


def anomaly_models(settings: Settings, args: argparse.Namespace) -> int:
    registry = ModelRegistry(settings.models_dir)
    for key in registry.keys():
        current = registry.current_version(key)
        for version in registry.versions(key):
            meta = registry.meta(key, version)
            mark = "*" if version == current else " "
            print(
                f"{mark} {key:32} v{version:<3} {meta.training_rows:>8} rows "
                f"threshold {meta.threshold:.2f} held-out flagged "
                f"{meta.validation_false_alarm_share:.2%} "
                f"({meta.validation_false_alarms_per_device_day:.2f} alarms per device-day) "
                f"features {','.join(meta.features)}"
            )
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    alarms = sub.add_parser("alarms", help="alarms").add_subparsers(dest="verb", required=True)
    listing = alarms.add_parser("list", help="most severe first")
    listing.add_argument("--site")
    listing.add_argument("--state", choices=[s.value for s in AlarmState])
    listing.add_argument("--standing", action="store_true", help="not yet normal and acknowledged")
    listing.add_argument("--limit", type=int, default=50)
    listing.set_defaults(func=alarms_list)
    ack = alarms.add_parser("ack", help="acknowledge an alarm")
    ack.add_argument("id", type=int)
    ack.add_argument("--actor", required=True)
    ack.add_argument("--note", default="")
    ack.set_defaults(func=alarms_ack)
    anomaly = sub.add_parser("anomaly", help="anomaly models").add_subparsers(
        dest="verb", required=True
    )
    train = anomaly.add_parser("train", help="train on recent telemetry; validated models go live")
    train.add_argument("--days", type=float, help="history to learn from (default: settings)")
    train.set_defaults(func=anomaly_train)
    anomaly.add_parser("models", help="models on disk; * = in service").set_defaults(
        func=anomaly_models
    )
