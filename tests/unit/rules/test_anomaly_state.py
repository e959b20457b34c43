"""The scoring state a collector loads: numpy arrays and JSON, scoring exactly as the
estimator does."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from rules.anomaly import TelemetryAnomalyDetector
from rules.anomaly_state import FittedState
from rules.registry import ModelRegistry
from tests.unit.rules.test_anomaly import normal_rows

META = {
    "key": "water",
    "version": 0,
    "features": ["current", "flow", "pressure"],
    "training_start_ms": 0,
    "training_end_ms": 1,
    "training_rows": 3000,
    "threshold": 1.0,
    "training_score": 0.0,
    "validation_false_alarm_share": 0.0,
    "trained_at_ms": 0,
    "detector_params": {},
}


def streamed(
    scoring: TelemetryAnomalyDetector | FittedState, rows: np.ndarray
) -> list[tuple[float, bool]]:
    stream = scoring.stream()
    return [stream.update(row) for row in rows]


def test_the_saved_state_scores_and_explains_exactly_as_the_estimator(tmp_path: Path) -> None:
    detector = TelemetryAnomalyDetector().fit(normal_rows(3000))
    registry = ModelRegistry(tmp_path)
    meta = registry.save(META, detector)
    folder = tmp_path / "water" / f"v{meta.version}"
    assert sorted(p.name for p in folder.iterdir()) == [
        "meta.json",
        "model.joblib",
        "state.json",
        "state.npz",
    ]
    loaded = registry.load_state("water", meta.version)
    assert loaded is not None and loaded[1] == meta
    state = loaded[0]
    rows = normal_rows(600, seed=5)
    rows[300:400, 1] *= 0.7  # a fault, so that the stream raises and explains
    assert streamed(state, rows) == streamed(detector, rows)
    a, b = detector.stream(), state.stream()
    for row in rows[:350]:
        a.update(row)
        b.update(row)
    names = ["current", "flow", "pressure"]
    assert a.explain(names=names) == b.explain(names=names)
    assert b.explain(names=names)[0].column == "flow"


def test_a_model_saved_before_the_state_is_read_from_its_estimator(tmp_path: Path) -> None:
    detector = TelemetryAnomalyDetector().fit(normal_rows(3000))
    registry = ModelRegistry(tmp_path)
    meta = registry.save(META, detector)
    folder = tmp_path / "water" / f"v{meta.version}"
    (folder / "state.json").unlink()
    (folder / "state.npz").unlink()
    loaded = registry.load_state("water", meta.version)
    assert loaded is not None
    rows = normal_rows(200, seed=6)
    assert streamed(loaded[0], rows) == streamed(detector, rows)


def test_a_state_of_another_format_is_refused(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path)
    meta = registry.save(META, TelemetryAnomalyDetector().fit(normal_rows(3000)))
    state_file = tmp_path / "water" / f"v{meta.version}" / "state.json"
    state = json.loads(state_file.read_text())
    state_file.write_text(json.dumps({**state, "format": 1}))
    with pytest.raises(TypeError, match="trained by an older version: retrain it"):
        registry.load_state("water", meta.version)
    shutil.rmtree(tmp_path / "water")
