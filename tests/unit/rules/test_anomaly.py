"""The anomaly detector on synthetic sensor data with known anomalies."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from rules.anomaly import NotFitted, TelemetryAnomalyDetector


def normal_rows(n: int, seed: int = 0) -> np.ndarray:
    """Three sensors driven by one load (correlated), with noise: a pump's current, flow and
    pressure."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    load = 0.6 + 0.3 * np.sin(2 * np.pi * t / 600) + rng.normal(0, 0.02, n)
    current = 20 * load + rng.normal(0, 0.4, n)
    flow = 50 * load + rng.normal(0, 1.0, n)
    pressure = 4 + 1.5 * load + rng.normal(0, 0.05, n)
    return np.column_stack([current, flow, pressure])


def test_normal_data_is_quiet_and_faults_are_found() -> None:
    train = normal_rows(3000)
    detector = TelemetryAnomalyDetector().fit(train)
    test = normal_rows(2000, seed=1)
    assert detector.predict(test).mean() < 0.01  # fresh normal data: under 1 % flagged
    faulty = test.copy()
    faulty[1000:1200, 1] *= 0.7  # flow drops while current stays: a broken correlation
    faulty[1500:1600, 2] += 0.6  # pressure shifted
    flags = detector.predict(faulty)
    assert flags[1010:1200].mean() > 0.9
    assert flags[1510:1600].mean() > 0.9
    assert flags[:990].mean() < 0.01


def test_a_single_spike_is_not_an_anomaly() -> None:
    detector = TelemetryAnomalyDetector().fit(normal_rows(3000))
    test = normal_rows(500, seed=2)
    test[250, 0] += 30
    assert detector.score_samples(test)[240:270].max() < detector.threshold_  # despiked
    assert detector.predict(test)[240:270].sum() == 0
    test[300:305, 0] += 30  # five rows in a row are no spike
    assert detector.predict(test)[300:310].sum() >= 3


def test_predict_is_causal_and_equals_the_stream() -> None:
    detector = TelemetryAnomalyDetector().fit(normal_rows(2000))
    test = normal_rows(400, seed=3)
    test[200:, 1] *= 0.6
    whole = detector.predict(test)
    assert np.array_equal(detector.predict(test[:250]), whole[:250])  # later rows change nothing
    stream = detector.stream()
    streamed = [stream.update(row) for row in test]
    assert np.array_equal(np.array([hit for _, hit in streamed], dtype=np.int64), whole)
    assert np.allclose([score for score, _ in streamed], detector.score_samples(test))


def test_a_dataframe_with_a_datetime_index_and_one_column() -> None:
    index = pd.date_range("2026-01-01", periods=1500, freq="s")
    train = pd.DataFrame({"temperature": normal_rows(1500)[:, 2]}, index=index)
    detector = TelemetryAnomalyDetector().fit(train)
    assert detector.feature_names_in_ == ["temperature"]
    test = train.copy()
    test.iloc[800:900, 0] += 1.0
    flags = detector.predict(test)
    assert flags.shape == (1500,) and set(np.unique(flags)) <= {0, 1}
    assert flags[810:900].mean() > 0.9 and flags[:790].mean() < 0.02


def test_dataframe_columns_are_matched_by_name_and_gaps_carry_forward() -> None:
    rows = normal_rows(1500)
    frame = pd.DataFrame(rows, columns=["current", "flow", "pressure"])
    frame["label"] = "pump"  # non-numeric columns are left out
    detector = TelemetryAnomalyDetector().fit(frame)
    shuffled = frame[["pressure", "label", "flow", "current"]].copy()
    shuffled.iloc[100:110, 0] = np.nan
    assert detector.predict(shuffled)[:300].sum() == 0
    with pytest.raises(ValueError, match="missing"):
        detector.predict(frame[["current", "flow"]])


def test_parameters_follow_scikit_learn_conventions() -> None:
    detector = TelemetryAnomalyDetector(k=2, n=4)
    assert clone(detector).get_params()["k"] == 2
    with pytest.raises(NotFitted):
        detector.predict(normal_rows(10))
    with pytest.raises(ValueError, match="k <= n"):
        TelemetryAnomalyDetector(k=5, n=3).fit(normal_rows(100))
