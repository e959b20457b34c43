"""The Grafana provisioning kept in the repository: dashboards match the metric catalogue, every
panel uses a provisioned data source, docker-compose mounts them."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import yaml

from ingest.catalogue import CATALOGUE

DEPLOY = Path(__file__).resolve().parents[3] / "deploy" / "grafana"


def generator() -> object:
    spec = importlib.util.spec_from_file_location("make_dashboards", DEPLOY / "make_dashboards.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_dashboards_are_what_the_catalogue_generates() -> None:
    expected = generator().dashboards()  # type: ignore[attr-defined]
    on_disk = {p.name: json.loads(p.read_text()) for p in (DEPLOY / "dashboards").glob("*.json")}
    assert on_disk == expected  # else: python deploy/grafana/make_dashboards.py
    assert set(on_disk) == {f"{s}.json" for s in CATALOGUE} | {"failures.json"}


def test_every_panel_uses_a_provisioned_data_source_and_every_gauge_has_a_panel() -> None:
    sources = yaml.safe_load(
        (DEPLOY / "provisioning" / "datasources" / "facility.yaml").read_text()
    )
    uids = {s["uid"] for s in sources["datasources"]}
    for path in (DEPLOY / "dashboards").glob("*.json"):
        dashboard = json.loads(path.read_text())
        assert {p["datasource"]["uid"] for p in dashboard["panels"]} <= uids, path.name
    lifts = json.loads((DEPLOY / "dashboards" / "elevator.json").read_text())
    queried = {p["targets"][0]["query"].split('"')[1] for p in lifts["panels"]}
    assert queried == {m.name for m in CATALOGUE["elevator"] if m.kind == "gauge"}


def test_docker_compose_provisions_grafana() -> None:
    compose = yaml.safe_load((DEPLOY.parents[1] / "docker-compose.yml").read_text())
    grafana = compose["services"]["grafana"]
    assert "./deploy/grafana/provisioning:/etc/grafana/provisioning:ro" in grafana["volumes"]
    assert "./deploy/grafana/dashboards:/var/lib/grafana/dashboards:ro" in grafana["volumes"]
    assert compose["x-facility-env"]["FACILITY_READONLY_ROLE"] == "grafana_ro"
