"""Grafana's side of PostgreSQL: the read-only role reads the reporting tables and nothing else,
and every SQL query of the provisioned dashboards runs."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import psycopg
import pytest

from api.runtime import Runtime
from api.settings import Settings
from tests.servers import Postgres, free_port

DASHBOARDS = Path(__file__).resolve().parents[3] / "deploy" / "grafana" / "dashboards"


def test_the_readonly_role_and_the_dashboard_queries(
    postgres_server: Postgres, tmp_path: Path
) -> None:
    role = f"grafana_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_server.url(), autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN")
    url = postgres_server.create_database(f"g_{uuid.uuid4().hex[:12]}")
    runtime = Runtime(
        Settings(
            state_dir=tmp_path / "state",
            database_url=url,
            embedded_mqtt_port=free_port(),
            demo_fleet=False,
            plan_generation=False,
            rules_enabled=False,
            readonly_role=role,
        )
    )
    runtime.start()
    runtime.stop()
    as_grafana = url.replace("postgres@", f"{role}@")
    with psycopg.connect(as_grafana, autocommit=True) as grafana:
        assert grafana.execute("SELECT count(*) FROM tickets").fetchone() == (0,)
        for private in ("users", "api_keys", "login_sessions", "security_events"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                grafana.execute(f"SELECT * FROM {private}")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            grafana.execute("DELETE FROM tickets")
        for path in DASHBOARDS.glob("*.json"):
            for panel in json.loads(path.read_text())["panels"]:
                sql = panel["targets"][0].get("rawSql")
                if sql is None:
                    continue
                # Grafana's time macro, as it expands it for a one-year range
                for column in ("t.created_at", "detected_at"):
                    sql = sql.replace(
                        f"$__timeFilter({column})", f"{column} > now() - interval '1 year'"
                    )
                grafana.execute(sql).fetchall()
