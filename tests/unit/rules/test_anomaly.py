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


def onsets(flags: np.ndarray) -> list[int]:
    """The rows where an alarm starts."""
    return [int(i) for i in np.flatnonzero(np.diff(np.concatenate([[0], flags])) == 1)]


def test_normal_data_is_quiet_and_faults_are_found() -> None:
    train = normal_rows(3000)
    detector = TelemetryAnomalyDetector().fit(train)
    test = normal_rows(2000, seed=1)
    assert detector.predict(test).sum() == 0  # fresh normal data: not one row flagged
    faulty = test.copy()
    faulty[1000:1200, 1] *= 0.7  # flow drops while current stays: a broken correlation
    faulty[1500:1600, 2] += 0.6  # pressure shifted
    flags = detector.predict(faulty)
    found = onsets(flags)
    # Every finding is inside a fault or as it ends (the flow fault grows with the load: after
    # a finding re-baselines, its growth is found again, the last just as the fault ends).
    assert found == [1005, 1168, 1191, 1200, 1503]
    assert 1000 <= found[0] <= 1010 and 1500 <= min(a for a in found if a >= 1500) <= 1510
    # A finding is reported for `relearn_after` rows and until the step has settled (one row
    # more here), then the present level is the baseline: a lasting change does not hold an
    # alarm for ever.
    assert flags[1500:1600].sum() == detector.relearn_after + 1
    assert flags[:1000].sum() == 0 and flags[1210:1500].sum() == 0 and flags[1600:].sum() == 0


def test_without_re_baselining_the_alarm_lasts_as_long_as_the_fault() -> None:
    detector = TelemetryAnomalyDetector(relearn_after=0).fit(normal_rows(3000))
    faulty = normal_rows(2000, seed=1)
    faulty[1000:1200, 1] *= 0.7
    flags = detector.predict(faulty)
    assert onsets(flags)[0] <= 1010 and flags[1010:1200].mean() > 0.9


def test_a_lasting_level_shift_is_one_finding_then_the_new_normal() -> None:
    """A set point moved on another day: one alarm at the change, quiet afterwards."""
    detector = TelemetryAnomalyDetector().fit(normal_rows(3000))
    test = normal_rows(4000, seed=6)
    test[1000:, 2] += 0.5
    flags = detector.predict(test)
    assert len(onsets(flags)) == 1 and 1000 <= onsets(flags)[0] <= 1010
    assert flags[1100:].sum() == 0


def test_operating_modes_seen_in_training_are_normal() -> None:
    """A pump that runs and stops: both modes are normal, and the switches between them."""
    rng = np.random.default_rng(7)
    running = (np.arange(6000) // 500) % 2 == 0
    current = np.where(running, 20.0, 0.3) + rng.normal(0, 0.3, 6000)
    flow = np.where(running, 50.0, 0.0) + rng.normal(0, 0.8, 6000)
    rows = np.column_stack([current, flow])
    detector = TelemetryAnomalyDetector().fit(rows[:4000])
    assert detector.predict(rows[4000:]).sum() == 0
    broken = rows[4000:].copy()
    broken[1200:1400, 1] = 0.0 + rng.normal(0, 0.8, 200)  # runs (current) but moves nothing
    flags = detector.predict(broken)
    assert len(onsets(flags)) == 1 and 1200 <= onsets(flags)[0] <= 1210


def test_a_developing_fault_is_not_absorbed_by_the_adaptive_baseline() -> None:
    """Pressure creeping up by 0.0005 per row: the baseline follows only clearly normal rows,
    so the creep is reported instead of learned."""
    detector = TelemetryAnomalyDetector().fit(normal_rows(3000))
    test = normal_rows(5000, seed=8)
    test[1000:, 2] += 0.0005 * np.arange(4000)
    flags = detector.predict(test)
    assert flags[:1000].sum() == 0
    first = onsets(flags)[0]
    assert 1000 < first < 1000 + 1200  # under 0.6 of creep, a tenth of the pressure range


def test_training_on_history_that_holds_a_fault() -> None:
    """A sixth of the history was a pump with a clogged line (flow low for its current): the
    trimmed fit does not learn it as normal, and finds it when it comes back."""
    history = normal_rows(3000)
    history[1200:1700, 1] *= 0.7
    robust = TelemetryAnomalyDetector().fit(history)
    naive = TelemetryAnomalyDetector(trim=False).fit(history)
    test = normal_rows(2000, seed=9)
    assert robust.predict(test).sum() == 0
    test[1000:1200, 1] *= 0.7
    assert onsets(robust.predict(test))[0] == 1006
    assert naive.predict(test).sum() == 0  # the untrimmed model took the fault in as normal


def test_the_explanation_names_the_perturbed_column() -> None:
    frame = pd.DataFrame(normal_rows(3000), columns=["current", "flow", "pressure"])
    detector = TelemetryAnomalyDetector().fit(frame)
    stream = detector.stream()
    test = normal_rows(600, seed=10)
    test[300:, 2] += 0.6
    raised = None
    for i, row in enumerate(test):
        _, anomalous = stream.update(row)
        if anomalous:
            raised = i, stream.explain()
            break
    assert raised is not None
    at, (top, *_) = raised
    assert 300 <= at <= 310
    assert top.column == "pressure" and top.share > 0.5
    assert top.value == test[at, 2]
    low, high = np.percentile(frame["pressure"], [0.5, 99.5])
    assert (top.normal_low, top.normal_high) == (low, high)


def test_a_fresh_stream_gives_no_verdict_while_its_filters_run_in() -> None:
    detector = TelemetryAnomalyDetector().fit(normal_rows(3000))
    wild = normal_rows(20, seed=11)
    wild[:, 0] += 30
    flags = detector.predict(wild)
    warm_up = detector.smoothing + detector.despike
    assert flags[:warm_up].sum() == 0 and flags[warm_up + detector.k - 1] == 1


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
    assert onsets(flags) == [onsets(flags)[0]] and 800 <= onsets(flags)[0] <= 810
    assert flags[:800].sum() == 0


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


def test_rows_confirmed_normal_raise_the_threshold_as_far_as_they_need_and_no_further() -> None:
    """A technician found no fault behind a finding: its rows (y=0) are trained on as normal,
    never trimmed, and the threshold rises until they raise no alarm, by at most the factor."""
    train = normal_rows(3000)
    odd = normal_rows(300, seed=2)
    odd[:, 2] += 0.09  # pressure a little high for a while: a day the pump was throttled
    rows = np.vstack([train, odd])
    labels = np.r_[np.full(3000, -1), np.zeros(300, dtype=int)]
    plain = TelemetryAnomalyDetector().fit(train)
    assert plain.threshold_ == 1.0 and plain.predict(odd).sum() > 0  # the finding
    taught = TelemetryAnomalyDetector().fit(rows, labels)
    assert taught.confirmed_normal_rows_ == 300
    assert 1.0 < taught.threshold_ < 1.5
    assert taught.predict(rows)[3000:].sum() == 0  # the window is normal now
    # Rows far outside normal that no normal direction explains (sensor noise of a loose
    # connector): the rise stops at the factor, so one verdict cannot blunt the model.
    wild = normal_rows(60, seed=3) + np.random.default_rng(4).normal(0, 2, (60, 3))
    wild_labels = np.r_[np.full(3000, -1), np.zeros(60, dtype=int)]
    capped = TelemetryAnomalyDetector().fit(np.vstack([train, wild]), wild_labels)
    assert capped.threshold_ == 1.5
    wider = TelemetryAnomalyDetector(confirmed_normal_factor=20.0)
    assert 1.5 < wider.fit(np.vstack([train, wild]), wild_labels).threshold_ < 20.0


def test_labels_other_than_confirmed_normal_or_unlabelled_are_refused() -> None:
    with pytest.raises(ValueError, match="0 = confirmed normal, -1 = unlabelled"):
        TelemetryAnomalyDetector().fit(normal_rows(100), np.ones(100))
    with pytest.raises(ValueError, match="0 = confirmed normal"):
        TelemetryAnomalyDetector().fit(normal_rows(100), np.zeros(99))
