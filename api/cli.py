"""The `facility` command: run the service, run one collector, simulate a fleet, inspect state."""

from __future__ import annotations

import argparse
import json
import logging
import re
import signal
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from api import cli_alarms, cli_broker, cli_users, cli_workorders
from api.runtime import (
    Runtime,
    freeze_startup_objects,
    make_alarm_monitor,
    make_ingest,
    open_database,
)
from api.settings import Settings
from ingest.deadletters import DeadLetterStore
from ingest.devices import DeviceRegistry
from ingest.redact import MaskingFilter, mask_text, mask_url
from ingest.sources.mapping import UNMAPPED
from ingest.sources.sourcefile import SourceFileError, load_sources
from ingest.sources.unmapped import unmapped_devices
from maintenance.alarms.ledger import LedgerDevices
from maintenance.errors import MaintenanceError
from maintenance.notifications.notifier import LogNotifier
from maintenance.storage import crypto
from simulators.fleet import Fleet
from simulators.publisher import FleetPublisher
from simulators.scenarios import SCENARIOS

log = logging.getLogger("facility")

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}


def duration(text: str) -> float:
    match = _DURATION.fullmatch(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 90s, 10m, 2h, 1d")
    return float(match.group(1)) * _UNITS[match.group(2)]


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")


def _noted(signum: int, frame: FrameType | None) -> None:
    """A stop signal that uvicorn has already acted on."""


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from api.main import create_app

    runtime = Runtime(settings)
    runtime.start()
    print("facility service running:")
    for line in runtime.describe():
        print("  " + line)
    print(
        f"  HTTP API        http://{settings.http_host}:{settings.http_port} "
        "(/health, /metrics, /openapi.json)"
    )
    print("Ctrl-C stops it.", flush=True)
    app = create_app(runtime)
    freeze_startup_objects()
    # uvicorn shuts down on SIGTERM/SIGINT and then raises the signal again for the handler it
    # found: Python's default would kill the process (status -15) or raise KeyboardInterrupt
    # before the collector is flushed. Found these, it carries on to the stop below; a second
    # signal during the flush then has its default effect again.
    stopping = {sig: signal.signal(sig, _noted) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        uvicorn.run(
            app,
            host=settings.http_host,
            port=settings.http_port,
            log_level="warning",
            log_config=None,  # uvicorn's records go through our handlers (format, masking)
        )
    finally:
        for sig, handler in stopping.items():
            signal.signal(sig, handler)
        print("stopping: flushing the collector ...", flush=True)
        health = runtime.stop()
        print(
            f"stopped: {health.written} points written, {health.spool_backlog_points} left "
            f"in the spool, {health.dead_lettered} dead letters",
            flush=True,
        )
    return 0


def cmd_collect(settings: Settings, args: argparse.Namespace) -> int:
    url = settings.mqtt_url or "mqtt://127.0.0.1:1883"
    monitor = publisher = database = None
    if settings.rules_enabled or settings.sources_file is not None:
        database = open_database(settings)  # the ledger: alarms, and gateway devices' identity
    if settings.rules_enabled and database is not None:
        monitor, _, publisher = make_alarm_monitor(settings, database, LogNotifier(), url)
    service = make_ingest(
        settings, url, arrival_sinks=[monitor.receive] if monitor else [], database=database
    )
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if monitor:
        monitor.restore([(r.device, r.last_seen_ms) for r in service.collector.devices.all()])
        monitor.start(settings.alarm_clock_interval_s)
    service.start()
    freeze_startup_objects()
    log.info(
        "collector %s on %s -> %s (state in %s)",
        settings.mqtt_client_id,
        mask_url(url),
        mask_url(settings.influx_url) if settings.influx_url else "embedded store",
        settings.state_dir,
    )
    stop.wait()
    log.info("stopping: flushing")
    service.stop()
    if monitor:
        monitor.stop()
        if publisher:
            publisher.close()
    stats = service.collector.stats
    log.info(
        "stopped: %d received, %d written, %d dead letters, %d points left in the spool",
        stats.received,
        stats.written,
        stats.dead_lettered,
        service.collector.spool.backlog_points,
    )
    return 0


def cmd_simulate(settings: Settings, args: argparse.Namespace) -> int:
    url = settings.mqtt_url or settings.embedded_mqtt_url()
    fleet = Fleet(
        args.site,
        args.devices,
        args.rate,
        args.duration,
        seed=args.seed,
        scenario=args.scenario,
        start_ms=int(time.time() * 1000),
    )
    if args.truth:
        fleet.write_truth(Path(args.truth))
    publisher = FleetPublisher(
        url, fleet, client_id=f"simulator-{args.site}-{args.seed}", mqtt5=not args.mqtt311
    )
    total = fleet.steps * len(fleet.models)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda s, f: stop.set())
    signal.signal(signal.SIGINT, lambda s, f: stop.set())

    def progress() -> None:
        while not stop.wait(5):
            print(f"published {publisher.published}/{total}", flush=True)

    threading.Thread(target=progress, daemon=True).start()
    try:
        publisher.publish_all(fleet.statuses(online=True), realtime=False)
        publisher.publish_all(fleet.messages(), realtime=not args.fast, stop=stop)
    finally:
        stop.set()
        publisher.close()
    print(
        f"published {publisher.published} messages to {url}"
        + (f"; ground truth in {args.truth}" if args.truth else "")
    )
    return 0


def cmd_deadletters(settings: Settings, args: argparse.Namespace) -> int:
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
                        "received": _iso(s.letter.received_ms),
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
            print(f"#{s.id} {_iso(s.letter.received_ms)} {s.letter.topic}\n    {s.letter.reason}")
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


def cmd_devices(settings: Settings, args: argparse.Namespace) -> int:
    registry = DeviceRegistry(settings.state_dir / "devices.sqlite")
    ledger = LedgerDevices(open_database(settings)) if args.unmapped else None
    for r in registry.all():
        if ledger is not None and ledger.knows(r.device):
            continue
        state = "online " if r.online else "offline"
        print(
            f"{state} {r.device.site}/{r.device.system}/{r.device.device_id} "
            f"first {_iso(r.first_seen_ms)} last {_iso(r.last_seen_ms)}"
        )
    registry.close()
    path = settings.state_dir / "deadletters.sqlite"
    if args.unmapped and path.exists():
        # Gateway devices nobody mapped: not stored, their messages held until they are.
        store = DeadLetterStore(path)
        for d in unmapped_devices(store):
            print(
                f"held    {d.source}: {d.device!r} {d.messages} messages held, "
                f"last {_iso(d.last_ms)} on {d.topic}; metrics {', '.join(d.metrics) or '-'}"
            )
        store.close()
    return 0


def cmd_sources_check(settings: Settings, args: argparse.Namespace) -> int:
    failed = 0
    for name in args.files:
        try:
            sources = load_sources(Path(name))
        except SourceFileError as error:
            print(f"{error}", file=sys.stderr)
            failed += 1
            continue
        formats = ", ".join(f"{s.name} ({s.format})" for s in sources)
        print(f"{name}: {len(sources)} sources ok: {formats}")
    return 1 if failed else 0


def cmd_rules_check(settings: Settings, args: argparse.Namespace) -> int:
    from rules.rulefile import RuleFileError, load_rules

    failed = 0
    for name in args.files:
        try:
            rules = load_rules(Path(name))
        except RuleFileError as error:
            print(f"{error}", file=sys.stderr)
            failed += 1
            continue
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(_count_kinds(rules).items()))
        print(f"{name}: {len(rules)} rules ok ({kinds})")
    return 1 if failed else 0


def _count_kinds(rules: list[Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for rule in rules:
        counts[rule.kind] = counts.get(rule.kind, 0) + 1
    return counts


def cmd_data_key(settings: Settings, args: argparse.Namespace) -> int:
    print(crypto.new_key())
    return 0


def cmd_scenarios(settings: Settings, args: argparse.Namespace) -> int:
    for s in SCENARIOS.values():
        print(f"{s.name:34} {s.system:9} {s.description}")
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="facility", description=__doc__)
    sub = root.add_subparsers(dest="command", required=True)
    sub.add_parser(
        "run", help="the whole service: broker (embedded unless set), collector, API, demo fleet"
    ).set_defaults(func=cmd_run)
    sub.add_parser("collect", help="one collector process (scale-out)").set_defaults(
        func=cmd_collect
    )
    sim = sub.add_parser("simulate", help="publish a simulated fleet")
    sim.add_argument("--site", default="site1")
    sim.add_argument("--devices", type=int, default=10)
    sim.add_argument("--rate", type=float, default=1.0, help="messages per second per device")
    sim.add_argument("--duration", type=duration, default=60.0, help="e.g. 90s, 10m, 2h")
    sim.add_argument("--scenario", choices=sorted(SCENARIOS), default=None)
    sim.add_argument("--seed", type=int, default=1)
    sim.add_argument("--truth", help="write the fault ground truth (JSON) here")
    sim.add_argument("--fast", action="store_true", help="publish as fast as possible")
    sim.add_argument("--mqtt311", action="store_true", help="MQTT 3.1.1 (embedded broker)")
    sim.set_defaults(func=cmd_simulate)
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
    dead.set_defaults(func=cmd_deadletters)
    devices = sub.add_parser("devices", help="list the device registry")
    devices.add_argument(
        "--unmapped",
        action="store_true",
        help="only the devices no asset of the ledger names (they raise no alarms), and the "
        "gateway devices nobody mapped (their messages held)",
    )
    devices.set_defaults(func=cmd_devices)
    sub.add_parser("scenarios", help="list fault scenarios").set_defaults(func=cmd_scenarios)
    sub.add_parser(
        "data-key", help="a new key for FACILITY_DATA_KEY (personal data at rest)"
    ).set_defaults(func=cmd_data_key)
    rules = sub.add_parser("rules", help="alarm rules").add_subparsers(dest="verb", required=True)
    check = rules.add_parser("check", help="validate rule files (file:line: reason on error)")
    check.add_argument("files", nargs="+")
    check.set_defaults(func=cmd_rules_check)
    sources = sub.add_parser("sources", help="gateway sources").add_subparsers(
        dest="verb", required=True
    )
    sources_check = sources.add_parser(
        "check", help="validate sources files (file:line: field: reason on error)"
    )
    sources_check.add_argument("files", nargs="+")
    sources_check.set_defaults(func=cmd_sources_check)
    cli_workorders.register(sub)
    cli_alarms.register(sub)
    cli_users.register(sub)
    cli_broker.register(sub)
    return root


def log_uncaught() -> None:
    """An exception nobody caught, in the main thread or another, is logged (and so masked)
    instead of printed raw to stderr by Python."""

    def main_thread(kind: type[BaseException], error: BaseException, tb: Any) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, error, tb)
            return
        log.critical("uncaught exception", exc_info=(kind, error, tb))

    def other_thread(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit or args.exc_value is None:
            return
        name = args.thread.name if args.thread else "?"
        log.critical(
            "uncaught exception in thread %s",
            name,
            exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
        )

    sys.excepthook = main_thread
    threading.excepthook = other_thread


def quiet_libraries() -> None:
    """At INFO a line per event an operator cares about: not httpx's line per InfluxDB write
    or webhook request, nor APScheduler's two lines per job run, nor alembic's plugin list.
    Their warnings still show; FACILITY_LOG_LEVEL=DEBUG shows everything."""
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        for noisy in (
            "httpx",
            "httpcore",
            "apscheduler.executors",
            "apscheduler.scheduler",
            "alembic.runtime.plugins",  # a line per plugin at every start
        ):
            logging.getLogger(noisy).setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = Settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(MaskingFilter())  # no URL leaves the process with its credentials
    log_uncaught()
    quiet_libraries()
    try:
        code: int = args.func(settings, args)
    except (ValueError, MaintenanceError) as error:
        print(f"facility: {mask_text(str(error))}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
