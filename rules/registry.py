"""Anomaly models on disk, versioned: `<root>/<key>/v<N>/` holds the estimator
(`model.joblib`, for training tools), its scoring state (`state.npz` + `state.json`, what the
collectors load: numpy only, no pickle) and `meta.json`; `<root>/<key>/current` names the version
in service. A new version is saved first and put in service only once it is validated, so the
previous model keeps scoring until then."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rules.anomaly_state import MODEL_FORMAT, FittedState

if TYPE_CHECKING:
    from rules.anomaly import TelemetryAnomalyDetector


@dataclass(frozen=True, slots=True)
class ModelMeta:
    key: str  # "water" (a device type) or "water/water-001" (one device)
    version: int
    features: list[str]
    training_start_ms: int
    training_end_ms: int
    training_rows: int
    threshold: float
    training_score: float  # share of held-out training rows above the threshold
    validation_false_alarm_share: float  # share of held-out rows flagged after persistence
    trained_at_ms: int
    detector_params: dict[str, Any]
    # alarm onsets per device-day on the held-out newest history (the false-alarm budget)
    validation_false_alarms_per_device_day: float = 0.0
    confirmed_normal_rows: int = 0  # rows technicians' "no fault found" made normal


class ModelRegistry:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _dir(self, key: str) -> Path:
        return self.root / key.replace("/", "__")

    def keys(self) -> list[str]:
        if not self.root.exists():
            return []
        return sorted(p.name.replace("__", "/") for p in self.root.iterdir() if p.is_dir())

    def versions(self, key: str) -> list[int]:
        folder = self._dir(key)
        if not folder.exists():
            return []
        return sorted(int(p.name[1:]) for p in folder.glob("v*") if p.name[1:].isdigit())

    def save(self, meta_fields: dict[str, Any], detector: TelemetryAnomalyDetector) -> ModelMeta:
        key = str(meta_fields["key"])
        version = max(self.versions(key), default=0) + 1
        meta = ModelMeta(**{**meta_fields, "version": version})
        folder = self._dir(key) / f"v{version}"
        folder.mkdir(parents=True)
        import joblib  # the training side's; a collector only reads the state below

        joblib.dump(detector, folder / "model.joblib")
        FittedState.of(detector).save(folder)
        (folder / "meta.json").write_text(json.dumps(asdict(meta), indent=2))
        return meta

    def activate(self, key: str, version: int) -> None:
        pointer = self._dir(key) / "current"
        temporary = pointer.with_suffix(".tmp")
        temporary.write_text(str(version))
        os.replace(temporary, pointer)  # atomic: a reader sees the old or the new version

    def current_version(self, key: str) -> int | None:
        try:
            return int((self._dir(key) / "current").read_text().strip())
        except (OSError, ValueError):
            return None

    def meta(self, key: str, version: int) -> ModelMeta:
        data = json.loads((self._dir(key) / f"v{version}" / "meta.json").read_text())
        return ModelMeta(**data)

    def load(
        self, key: str, version: int | None = None
    ) -> tuple[TelemetryAnomalyDetector, ModelMeta] | None:
        """The estimator itself (training tools, the benchmarks); it imports scikit-learn."""
        import joblib

        from rules.anomaly import TelemetryAnomalyDetector

        version = version if version is not None else self.current_version(key)
        if version is None:
            return None
        detector = joblib.load(self._dir(key) / f"v{version}" / "model.joblib")
        if not isinstance(detector, TelemetryAnomalyDetector):
            raise TypeError(f"{key} v{version} is not a TelemetryAnomalyDetector")
        if getattr(detector, "format_", 1) != MODEL_FORMAT:
            raise TypeError(f"{key} v{version} was trained by an older version: retrain it")
        return detector, self.meta(key, version)

    def load_state(
        self, key: str, version: int | None = None
    ) -> tuple[FittedState, ModelMeta] | None:
        """What scoring needs (numpy only). A model saved before the state was kept is read
        from its estimator once (that loads scikit-learn)."""
        version = version if version is not None else self.current_version(key)
        if version is None:
            return None
        folder = self._dir(key) / f"v{version}"
        if (folder / "state.json").exists():
            return FittedState.load(folder), self.meta(key, version)
        loaded = self.load(key, version)
        return (FittedState.of(loaded[0]), loaded[1]) if loaded else None

    def stamp(self) -> tuple[tuple[str, int | None], ...]:
        """What is in service now; a change means the scorer should reload."""
        return tuple((key, self.current_version(key)) for key in self.keys())
