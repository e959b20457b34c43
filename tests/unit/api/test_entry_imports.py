"""What each process entry point loads: a collector process carries no HTTP, console or
document code (its memory and start time are the collector's, not the whole application's)."""

from __future__ import annotations

import json
import subprocess
import sys

HTTP_SIDE = ("fastapi", "starlette", "uvicorn", "jinja2", "weasyprint", "openpyxl")
TRAINING = ("sklearn", "scipy", "joblib")  # a collector scores with numpy alone


def loaded(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(json.loads(out.stdout.splitlines()[-1]))


def test_facility_collect_loads_no_http_console_or_documents() -> None:
    modules = loaded(
        "import api.cli, api.cli.collector\napi.cli.parser()\nimport maintenance.process"
    )
    assert sorted(m for m in modules if m.split(".")[0] in HTTP_SIDE) == []
    assert sorted(m for m in modules if m.split(".")[0] in TRAINING) == []
    assert (
        sorted(m for m in modules if m.startswith(("api.main", "api.routes", "api.console"))) == []
    )
    assert "api.runtime" not in modules and "api.documents" not in modules


def test_python_m_ingest_loads_only_the_collector() -> None:
    modules = loaded("import ingest.__main__")
    later = ("rules", "maintenance", "api", "simulators", "sqlalchemy", "sklearn", *HTTP_SIDE)
    assert sorted(m for m in modules if m.split(".")[0] in later) == []
