"""`python -m ingest`: one collector on its own (no rules, no alarms, no database): telemetry
from the broker into the store, validated and spooled, from the FACILITY_* collector settings.
A gateway device is matched by the sources file's mapping only (`facility collect` also asks the
equipment ledger)."""

from __future__ import annotations

import sys

from ingest import logs
from ingest.process import make_ingest, serve
from ingest.redact import mask_text
from ingest.service import IngestService
from ingest.settings import IngestSettings


def main() -> int:
    settings = IngestSettings()
    logs.configure(settings.log_level)
    url = settings.mqtt_url or "mqtt://127.0.0.1:1883"
    try:
        service = make_ingest(settings, url)
    except ValueError as error:  # a bad URL or sources file
        print(f"ingest: {mask_text(str(error))}", file=sys.stderr)
        return 2

    def start() -> IngestService:
        service.start()
        return service

    return serve(settings, url, start, service.stop)


if __name__ == "__main__":
    sys.exit(main())
