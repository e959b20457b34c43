"""`facility simulate` and `facility scenarios`: a simulated fleet publishing to the broker."""

from __future__ import annotations

import argparse
import signal
import threading
import time
from pathlib import Path

from api.cli.formats import duration
from api.settings import Settings
from ingest.redact import mask_url
from simulators.fleet import Fleet
from simulators.publisher import FleetPublisher
from simulators.scenarios import SCENARIOS


def fleet_simulate(settings: Settings, args: argparse.Namespace) -> int:
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
        f"published {publisher.published} messages to {mask_url(url)}"
        + (f"; ground truth in {args.truth}" if args.truth else "")
    )
    return 0


def fleet_scenarios(settings: Settings, args: argparse.Namespace) -> int:
    for s in SCENARIOS.values():
        print(f"{s.name:34} {s.system:9} {s.description}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    sim.set_defaults(func=fleet_simulate)
    sub.add_parser("scenarios", help="list fault scenarios").set_defaults(func=fleet_scenarios)
