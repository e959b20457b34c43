"""Training anomaly models from telemetry history: one model per device type (system) over its
gauge metrics, and one per device where its own history is long enough. A new model is validated
on held-out history (the newest share of each device's rows, never used to fit) and put in
service only if it stays quiet there; otherwise the model in service stays."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ingest.catalogue import CATALOGUE
from ingest.devices import DeviceRegistry
from ingest.store.base import TelemetryStore
from rules.anomaly import Array, TelemetryAnomalyDetector
from rules.feedback import DeviceId, Feedback, Window
from rules.registry import ModelMeta, ModelRegistry
from rules.settings import RuleSettings

log = logging.getLogger(__name__)
DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class TrainingPlan:
    start_ms: int
    end_ms: int
    min_rows: int = 500  # a model needs at least this much history
    device_min_rows: int = 5_000  # a device gets a model of its own from this much
    holdout_share: float = 0.2
    max_false_alarm_share: float = 0.01  # validation: flagged share of held-out normal rows
    # validation: alarm onsets per device-day on held-out history believed normal; each is a
    # technician sent out, so this is the budget a new model must keep
    max_false_alarms_per_device_day: float = 0.2


@dataclass(frozen=True, slots=True)
class TrainingResult:
    key: str
    meta: ModelMeta | None
    activated: bool
    reason: str


def features_of(system: str) -> list[str]:
    return [m.name for m in CATALOGUE.get(system, ()) if m.kind == "gauge"]


@dataclass(frozen=True, slots=True)
class History:
    """One device's rows (columns = features) and the time of each row."""

    stamps_ms: NDArray[np.int64]
    rows: Array
    confirmed: NDArray[np.bool_] | None = None  # rows a technician's feedback says are normal

    def __len__(self) -> int:
        return len(self.rows)

    def days(self) -> float:
        return float(self.stamps_ms[-1] - self.stamps_ms[0]) / DAY_MS if len(self) > 1 else 0.0

    def take(self, columns: Sequence[int]) -> History:
        return History(self.stamps_ms, self.rows[:, list(columns)], self.confirmed)

    def select(self, rows: NDArray[np.bool_]) -> History:
        confirmed = None if self.confirmed is None else self.confirmed[rows]
        return History(self.stamps_ms[rows], self.rows[rows], confirmed)

    def labels(self) -> NDArray[np.int64]:
        """Per row, as the detector's `fit` takes them: 0 = confirmed normal, -1 = unlabelled."""
        if self.confirmed is None:
            return np.full(len(self), -1, dtype=np.int64)
        return np.where(self.confirmed, 0, -1).astype(np.int64)

    def split(self, share: float) -> tuple[History, History]:
        """The older rows to fit and the newest `share` held out to validate on; rows confirmed
        normal are always fitted on (held out, they would only test the model against itself)."""
        confirmed = self.confirmed if self.confirmed is not None else np.zeros(len(self), bool)
        rank = np.cumsum(~confirmed) - 1  # each unconfirmed row's place among them
        older = ~confirmed & (rank < int((~confirmed).sum() * (1 - share)))
        return self.select(older | confirmed), self.select(~older & ~confirmed)


def device_history(
    store: TelemetryStore,
    site: str,
    system: str,
    device_id: str,
    features: Sequence[str],
    plan: TrainingPlan,
) -> History:
    """Rows at every timestamp any feature was reported; a feature not in a row is NaN (the
    detector carries the last value forward)."""
    series = {
        name: store.raw(
            system, {"site": site, "device_id": device_id}, name, plan.start_ms, plan.end_ms
        )
        for name in features
    }
    stamps = sorted({ts for points in series.values() for ts, _ in points})
    index = {ts: i for i, ts in enumerate(stamps)}
    rows = np.full((len(stamps), len(features)), np.nan)
    for column, name in enumerate(features):
        for ts, value in series[name]:
            if isinstance(value, int | float) and not isinstance(value, bool):
                rows[index[ts], column] = float(value)
    return History(np.asarray(stamps, dtype=np.int64), rows)


def within(stamps_ms: NDArray[np.int64], windows: Sequence[Window]) -> NDArray[np.bool_]:
    inside = np.zeros(len(stamps_ms), dtype=bool)
    for start, end in windows:
        inside |= (stamps_ms >= start) & (stamps_ms <= end)
    return inside


def with_feedback(
    history: History,
    fetch: Callable[[Window], History],
    normal: Sequence[Window],
    faulty: Sequence[Window],
) -> History:
    """A device's history as its technicians' feedback has it: the rows of each window where
    no fault was found (read by `fetch`, also from before the training period) marked
    confirmed normal, the rows of confirmed faults left out."""
    if not normal and not faulty:
        return history
    outside = ~within(history.stamps_ms, normal)
    parts = [
        History(history.stamps_ms[outside], history.rows[outside], np.zeros(outside.sum(), bool))
    ]
    for window in normal:
        part = fetch(window)
        parts.append(History(part.stamps_ms, part.rows, np.ones(len(part), dtype=bool)))
    stamps = np.concatenate([p.stamps_ms for p in parts])
    _, first = np.unique(stamps, return_index=True)  # overlapping windows: each row once
    merged = History(
        stamps[first],
        np.concatenate([p.rows for p in parts])[first],
        np.concatenate([p.confirmed for p in parts if p.confirmed is not None])[first],
    )
    return merged.select(~within(merged.stamps_ms, faulty))


def train(
    store: TelemetryStore,
    registry: ModelRegistry,
    devices: Sequence[DeviceId],
    plan: TrainingPlan,
    *,
    now_ms: int,
    progress: Callable[[str], None] = lambda line: None,
    feedback: Feedback | None = None,
) -> list[TrainingResult]:
    feedback = feedback or Feedback()
    results: list[TrainingResult] = []
    by_system: dict[str, list[History]] = {}
    for index, (site, system, device_id) in enumerate(devices, 1):
        features = features_of(system)
        if not features:
            continue

        def fetch(
            window: Window,
            site: str = site,
            system: str = system,
            device: str = device_id,
            features: Sequence[str] = features,
        ) -> History:
            return device_history(store, site, system, device, features, TrainingPlan(*window))

        key = (site, system, device_id)
        history = with_feedback(
            device_history(store, site, system, device_id, features, plan),
            fetch,
            feedback.normal.get(key, []),
            feedback.faulty.get(key, []),
        )
        progress(f"[{index}/{len(devices)}] {site}/{device_id}: {len(history)} rows")
        if len(history) == 0:
            continue
        by_system.setdefault(system, []).append(history)
        if len(history) >= plan.device_min_rows:
            results.append(
                _fit(registry, f"{system}/{device_id}", features, [history], plan, now_ms)
            )
    for system, histories in sorted(by_system.items()):
        results.append(_fit(registry, system, features_of(system), histories, plan, now_ms))
    for result in results:
        progress(f"{result.key}: {result.reason}")
    return results


def _fit(
    registry: ModelRegistry,
    key: str,
    features: list[str],
    histories: list[History],
    plan: TrainingPlan,
    now_ms: int,
) -> TrainingResult:
    fit_parts, holdout_parts = [], []
    for history in histories:
        fitted, held_out = history.split(plan.holdout_share)
        fit_parts.append(fitted)
        holdout_parts.append(held_out)
    fit_rows = np.concatenate([part.rows for part in fit_parts])
    labels = np.concatenate([part.labels() for part in fit_parts])
    # Columns a device type never reports cannot be modelled: leave them out.
    seen = [i for i in range(len(features)) if not np.isnan(fit_rows[:, i]).all()]
    if len(fit_rows) < plan.min_rows or not seen:
        return TrainingResult(key, None, False, f"not trained: {len(fit_rows)} rows of history")
    holdout = np.concatenate([part.rows for part in holdout_parts])
    drifting = [i for i in seen if _drifts(fit_rows[:, i], holdout[:, i])]
    seen = [i for i in seen if i not in drifting] or seen
    names = [features[i] for i in seen]
    detector = TelemetryAnomalyDetector().fit(fit_rows[:, seen], labels)
    false_share, per_day = validate(detector, [part.take(seen) for part in holdout_parts])
    meta = registry.save(
        {
            "key": key,
            "version": 0,
            "features": names,
            "training_start_ms": plan.start_ms,
            "training_end_ms": plan.end_ms,
            "training_rows": len(fit_rows),
            "confirmed_normal_rows": int((labels == 0).sum()),
            "threshold": detector.threshold_,
            "training_score": detector.training_score_,
            "validation_false_alarm_share": false_share,
            "validation_false_alarms_per_device_day": per_day,
            "trained_at_ms": now_ms,
            "detector_params": detector.get_params(),
        },
        detector,
    )
    refused = _refusal(meta, false_share, per_day, plan)
    if refused is not None:
        return TrainingResult(key, meta, False, refused)
    registry.activate(key, meta.version)
    reason = (
        f"v{meta.version} in service ({len(fit_rows)} rows, held-out flagged {false_share:.2%}, "
        f"{per_day:.2f} alarms per device-day)"
    )
    return TrainingResult(key, meta, True, reason)


def _refusal(meta: ModelMeta, false_share: float, per_day: float, plan: TrainingPlan) -> str | None:
    """Why a validated candidate stays out of service, or None."""
    if per_day > plan.max_false_alarms_per_device_day:
        return (
            f"v{meta.version} not put in service: {per_day:.2f} alarms per device-day on "
            f"held-out normal history (budget {plan.max_false_alarms_per_device_day:.2f}); "
            "the model in service stays"
        )
    if false_share > plan.max_false_alarm_share:
        return (
            f"v{meta.version} not put in service: flags {false_share:.1%} of held-out normal "
            f"history (limit {plan.max_false_alarm_share:.1%}); the model in service stays"
        )
    return None


def validate(
    detector: TelemetryAnomalyDetector, held_out: Sequence[History]
) -> tuple[float, float]:
    """A candidate on recent history believed normal: the share of rows it flags, and its alarm
    onsets (a new alarm, which opens an inspection) per device-day. Each device's rows run
    through a fresh stream, as in service after a model is taken up."""
    rows = onsets = 0
    flagged = 0
    days = 0.0
    for part in held_out:
        if not len(part):
            continue
        flags = detector.predict(part.rows)
        rows += len(flags)
        flagged += int(flags.sum())
        onsets += int(np.sum(np.diff(np.concatenate([[0], flags])) == 1))
        days += part.days()
    share = flagged / rows if rows else 0.0
    # Less than an hour of history cannot say much per day: count it as an hour.
    per_day = onsets / max(days, 1 / 24) if rows else 0.0
    return share, per_day


def _drifts(fitted: Array, held_out: Array) -> bool:
    """A column whose newest values lie outside what it did before (a fill level, a counter in
    disguise) has no stationary normal to learn: scoring it would only raise false alarms."""
    before, after = fitted[~np.isnan(fitted)], held_out[~np.isnan(held_out)]
    if len(before) == 0 or len(after) == 0:
        return False
    low, high = np.percentile(before, [1, 99])
    return not low <= float(np.median(after)) <= high


def retrain(
    settings: RuleSettings,
    store: TelemetryStore,
    *,
    now_ms: int | None = None,
    progress: Callable[[str], None] = lambda line: None,
    feedback: Feedback | None = None,
) -> list[TrainingResult]:
    """Retrain every device type's (and long-lived device's) model on the last
    FACILITY_ANOMALY_TRAINING_DAYS of telemetry, for the devices this state dir has seen, with
    the technicians' feedback on earlier findings."""
    now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
    start_ms = now_ms - int(settings.anomaly_training_days * 86_400_000)
    registry = DeviceRegistry(settings.state_dir / "devices.sqlite")
    try:
        devices = [(r.device.site, r.device.system, r.device.device_id) for r in registry.all()]
    finally:
        registry.close()
    return train(
        store,
        ModelRegistry(settings.models_dir),
        devices,
        TrainingPlan(start_ms, now_ms),
        now_ms=now_ms,
        progress=progress,
        feedback=feedback,
    )
