"""`facility collect`: one collector with its alarm stage, for scale-out (docs/scaling.md)."""

from __future__ import annotations

import argparse

from api.settings import Settings
from ingest.process import serve
from maintenance.process import collect


def collector_run(settings: Settings, args: argparse.Namespace) -> int:
    process = collect(settings)
    return serve(
        settings, settings.mqtt_url or "mqtt://127.0.0.1:1883", process.start, process.stop
    )


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub.add_parser("collect", help="one collector process (scale-out)").set_defaults(
        func=collector_run
    )
