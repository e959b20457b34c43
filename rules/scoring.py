"""Scoring the live stream with the anomaly models in service: a device's own model if it has
one, else its device type's. Each device keeps the detector's causal state (`AnomalyStream`), so
the persistence filter (k anomalous rows of n) holds on the stream as in `predict`.

A raised finding says why in its values: the model and version, the score, and the metrics that
drove it (`drivers`, largest part first), each with the value seen, the normal range the model
learned and its share of the score. Tickets and the alarm detail show them."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence

from ingest.readings import DeviceKey, Reading
from rules.anomaly_state import Scoring
from rules.anomaly_stream import AnomalyStream, Contribution
from rules.engine import ConditionChange
from rules.registry import ModelMeta, ModelRegistry

log = logging.getLogger(__name__)
ANOMALY_RULE = "anomaly:{system}"
# A finding's messages, as raised (the console says them in the reader's language:
# api/documents/words.py matches these).
RAISED = "Behaves unlike its normal history (anomaly score {score:.2f}; {names})"
CLEARED = "Back to its normal behaviour"
REBASELINED = "The change lasted: the model takes it as its new baseline"


class AnomalyScorer:
    def __init__(self, registry: ModelRegistry, severity: str = "warning") -> None:
        self.registry = registry
        self.severity = severity
        self._stamp: tuple[tuple[str, int | None], ...] | None = None
        self._models: dict[str, tuple[ModelMeta, Scoring]] = {}
        self._streams: dict[DeviceKey, tuple[ModelMeta, AnomalyStream]] = {}
        self._active: set[DeviceKey] = set()
        self.refresh()

    def refresh(self) -> None:
        """Take up models put in service since the last look (a retrain); the alarm clock calls
        it. Cheap when nothing changed: one small file read per model."""
        stamp = self.registry.stamp()
        if stamp == self._stamp:
            return
        self._stamp = stamp
        models: dict[str, tuple[ModelMeta, Scoring]] = {}
        for key, version in stamp:
            if version is None:
                continue
            try:
                loaded = self.registry.load_state(key, version)
            except Exception:
                log.exception("anomaly model %s v%s cannot be loaded; skipped", key, version)
                continue
            if loaded:
                detector, meta = loaded
                models[key] = (meta, detector)
        self._models = models
        self._streams.clear()  # new models start fresh streams
        log.info("anomaly models in service: %s", ", ".join(sorted(models)) or "none")

    def _stream(self, device: DeviceKey) -> tuple[ModelMeta, AnomalyStream] | None:
        found = self._streams.get(device)
        if found is None:
            model = self._models.get(f"{device.system}/{device.device_id}") or self._models.get(
                device.system
            )
            if model is None:
                return None
            meta, detector = model
            found = self._streams[device] = (meta, detector.stream())
        return found

    def score(self, reading: Reading) -> list[ConditionChange]:
        found = self._stream(reading.device)
        if found is None:
            return []
        meta, stream = found
        row = [_number(reading.metrics.get(name)) for name in meta.features]
        if all(math.isnan(v) for v in row):
            return []
        score, anomalous = stream.update(row)
        device = reading.device
        if anomalous == (device in self._active):
            return []
        values: dict[str, float | bool | str] = {
            "score": round(score, 3),
            "model": f"{meta.key} v{meta.version}",
        }
        if anomalous:
            self._active.add(device)
            drivers = stream.explain(names=meta.features)
            values.update(explanation_values(drivers))
            names = ", ".join(c.column for c in drivers) or "-"
            message = RAISED.format(score=score, names=names)
            change = "raise"
        else:
            self._active.discard(device)
            change = "clear"
            message = REBASELINED if stream.rebaselined else CLEARED
        return [
            ConditionChange(
                ANOMALY_RULE.format(system=device.system),
                device,
                change,  # type: ignore[arg-type]
                reading.ts_ms,
                self.severity,
                message,
                values,
            )
        ]


def explanation_values(drivers: Sequence[Contribution]) -> dict[str, float | bool | str]:
    """Flat alarm values for the metrics behind a finding (the alarm values are flat JSON)."""
    out: dict[str, float | bool | str] = {"drivers": ", ".join(c.column for c in drivers)}
    for c in drivers:
        out[c.column] = round(c.value, 4)
        out[f"{c.column} normal"] = f"{c.normal_low:.4g} .. {c.normal_high:.4g}"
        out[f"{c.column} share"] = c.share
    return out


def _number(value: object) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return math.nan


def drivers_of(values: Mapping[str, object]) -> list[str]:
    """The metrics a finding's alarm values name as behind it (`explanation_values`' `drivers`),
    largest part first."""
    return [d.strip() for d in str(values.get("drivers") or "").split(",") if d.strip()]
