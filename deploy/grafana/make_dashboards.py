"""Writes the Grafana dashboards (deploy/grafana/dashboards/*.json) from the metric catalogue:
one per system with a panel per gauge metric, and the failure-rate trends from the work-order
database. Run it after changing the catalogue: `python deploy/grafana/make_dashboards.py`;
tests/unit/test_grafana.py checks that the committed files match the catalogue."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from ingest.catalogue import CATALOGUE

OUT = Path(__file__).parent / "dashboards"
INFLUX = {"type": "influxdb", "uid": "facility-influx"}
POSTGRES = {"type": "grafana-postgresql-datasource", "uid": "facility-postgres"}


def _grid(index: int, width: int = 12, height: int = 8) -> dict[str, int]:
    return {"x": (index % 2) * width, "y": (index // 2) * height, "w": width, "h": height}


def system_dashboard(system: str) -> dict[str, Any]:
    panels = []
    gauges = [m for m in CATALOGUE[system] if m.kind == "gauge"]
    for index, metric in enumerate(gauges):
        query = (
            f'SELECT mean("{metric.name}") FROM "{system}" WHERE "site" =~ /^$site$/ '
            f'AND $timeFilter GROUP BY time($__interval), "device_id" fill(null)'
        )
        panels.append(
            {
                "id": index + 1,
                "type": "timeseries",
                "title": f"{metric.description} ({metric.unit})",
                "datasource": INFLUX,
                "gridPos": _grid(index),
                "fieldConfig": {"defaults": {"unit": metric.unit}, "overrides": []},
                "targets": [
                    {
                        "refId": "A",
                        "rawQuery": True,
                        "query": query,
                        "alias": "$tag_device_id",
                        "resultFormat": "time_series",
                    }
                ],
            }
        )
    return {
        "uid": f"facility-{system}",
        "title": f"{system.capitalize()} telemetry",
        "tags": ["facility", system],
        "schemaVersion": 39,
        "time": {"from": "now-24h", "to": "now"},
        "refresh": "30s",
        "templating": {
            "list": [
                {
                    "name": "site",
                    "type": "query",
                    "datasource": INFLUX,
                    "query": f'SHOW TAG VALUES FROM "{system}" WITH KEY = "site"',
                    "includeAll": True,
                    "multi": True,
                    "current": {"text": "All", "value": "$__all"},
                }
            ]
        },
        "panels": panels,
    }


FAILURES = """SELECT date_trunc('month', t.created_at) AS time, a.system AS metric,
       count(*) AS failures
FROM tickets t JOIN assets a ON a.id = t.asset_id
WHERE t.type IN ('alarm', 'repair') AND t.state <> 'cancelled' AND $__timeFilter(t.created_at)
GROUP BY 1, 2 ORDER BY 1"""
PER_ASSET = """SELECT date_trunc('month', t.created_at) AS time, a.system AS metric,
       count(*)::float / (SELECT count(*) FROM assets b WHERE b.system = a.system)
       AS failures_per_asset
FROM tickets t JOIN assets a ON a.id = t.asset_id
WHERE t.type IN ('alarm', 'repair') AND t.state <> 'cancelled' AND $__timeFilter(t.created_at)
GROUP BY 1, 2 ORDER BY 1"""
BREACHES = """SELECT date_trunc('month', detected_at) AS time, kind AS metric, count(*) AS breaches
FROM sla_breaches WHERE kind NOT LIKE 'near_%' AND $__timeFilter(detected_at)
GROUP BY 1, 2 ORDER BY 1"""
STANDING = """SELECT site, device_id, rule_id, severity, state, raised_at, ticket_id
FROM alarms WHERE state <> 'normal' ORDER BY raised_at DESC LIMIT 200"""


def failures_dashboard() -> dict[str, Any]:
    def panel(
        index: int, title: str, sql: str, kind: str = "timeseries", fmt: str = "time_series"
    ) -> dict[str, Any]:
        return {
            "id": index + 1,
            "type": kind,
            "title": title,
            "datasource": POSTGRES,
            "gridPos": _grid(index),
            "targets": [
                {"refId": "A", "rawQuery": True, "rawSql": sql, "format": fmt, "editorMode": "code"}
            ],
        }

    return {
        "uid": "facility-failures",
        "title": "Failure-rate trends",
        "tags": ["facility", "reports"],
        "schemaVersion": 39,
        "time": {"from": "now-1y", "to": "now"},
        "panels": [
            panel(0, "Failures per month by system", FAILURES),
            panel(1, "Failures per asset per month by system", PER_ASSET),
            panel(2, "SLA breaches per month", BREACHES),
            panel(3, "Standing alarms", STANDING, kind="table", fmt="table"),
        ],
    }


def dashboards() -> dict[str, dict[str, Any]]:
    out = {f"{system}.json": system_dashboard(system) for system in CATALOGUE}
    out["failures.json"] = failures_dashboard()
    return out


if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    for name, body in dashboards().items():
        (OUT / name).write_text(json.dumps(body, indent=2) + "\n")
        print(f"wrote {OUT / name}")
