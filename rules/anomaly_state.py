"""What scoring needs of a fitted anomaly detector, in numpy alone: the estimator
(`rules.anomaly.TelemetryAnomalyDetector`, scikit-learn) and the state a collector loads
(`FittedState`) share it. A collector scores with the state and never imports scikit-learn or
SciPy (about 120 MB of a process's memory), and the state is read from plain arrays and JSON,
not unpickled."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rules.anomaly_math import Array
from rules.anomaly_stream import AnomalyStream, Contribution

# Bumped when fitted attributes change: a model saved by an older version must be retrained.
MODEL_FORMAT = 2
ARRAYS = ("center_", "scale_", "mean_", "components_", "variances_", "normal_low_", "normal_high_")
NUMBERS = ("t2_unit_", "spe_unit_", "edge_", "threshold_")
PARAMS = ("smoothing", "despike", "gate", "adapt", "relearn_after", "k", "n")


class NotFitted(RuntimeError):
    pass


class Scoring:
    """The scoring half of the detector: standardising, the statistics, the score of a row and
    its explanation, and the causal stream."""

    center_: Array
    scale_: Array
    mean_: Array
    components_: Array
    variances_: Array
    normal_low_: Array
    normal_high_: Array
    t2_unit_: float
    spe_unit_: float
    edge_: float
    threshold_: float
    n_features_in_: int
    feature_names_in_: list[str] | None
    smoothing: int
    despike: int
    gate: float
    adapt: int
    relearn_after: int
    k: int
    n: int
    format_: int

    def stream(self) -> AnomalyStream:
        """Row-by-row scoring with the same results as predict, for live telemetry."""
        self._check_fitted()
        return AnomalyStream(self)

    def explain(
        self, deviation: Array, values: Array, top: int = 3, names: Sequence[str] | None = None
    ) -> list[Contribution]:
        """The columns that drive a row's score (largest first), each with its share of the
        statistic that is the larger part of the score, the value seen and the normal range."""
        self._check_fitted()
        t2_parts, spe_parts = self._contributions(deviation)
        t2, spe = t2_parts.sum() / self.t2_unit_, spe_parts.sum() / self.spe_unit_
        parts = t2_parts if t2 >= spe else spe_parts
        parts = np.maximum(parts, 0.0)
        total = float(parts.sum()) or 1.0
        names = names or self.feature_names_in_ or [f"x{i}" for i in range(self.n_features_in_)]
        order = np.argsort(-parts)[:top]
        return [
            Contribution(
                names[i],
                round(float(parts[i]) / total, 3),
                float(values[i]),
                float(self.normal_low_[i]),
                float(self.normal_high_[i]),
            )
            for i in order
            if parts[i] > 0
        ]

    def _check_fitted(self) -> None:
        if not hasattr(self, "threshold_"):
            raise NotFitted("call fit(X) with normal data first")

    def _standardize(self, values: Array) -> Array:
        return (values - self.center_) / self.scale_

    def _alpha(self) -> float:
        return 2.0 / (self.smoothing + 1.0)

    def _statistics(self, centered: Array) -> tuple[Array, Array]:
        projected = centered @ self.components_.T
        t2 = np.sum(projected**2 / self.variances_, axis=-1)
        residual = centered - projected @ self.components_
        spe = np.sum(residual**2, axis=-1)
        return t2, spe

    def _raw_scores(self, smoothed: Array) -> Array:
        t2, spe = self._statistics(smoothed - self.mean_)
        return np.asarray(np.maximum(t2 / self.t2_unit_, spe / self.spe_unit_), dtype=np.float64)

    def _score_of(self, deviation: Array) -> float:
        t2, spe = self._statistics(deviation)
        return float(max(t2 / self.t2_unit_, spe / self.spe_unit_) / self.edge_)

    def _contributions(self, deviation: Array) -> tuple[Array, Array]:
        """Per-column parts of T² and SPE for one centred row (they sum to the statistics)."""
        weights = self.components_.T @ np.diag(1 / self.variances_) @ self.components_
        t2_parts = deviation * (weights @ deviation)
        residual = deviation - (deviation @ self.components_.T) @ self.components_
        return t2_parts, residual**2


class FittedState(Scoring):
    """A fitted detector's scoring state, saved as `state.npz` (arrays, no pickles) and
    `state.json` (numbers, parameters, column names) beside the estimator."""

    @classmethod
    def of(cls, fitted: Scoring) -> FittedState:
        fitted._check_fitted()
        state = cls()
        for name in (*ARRAYS, *NUMBERS, *PARAMS, "n_features_in_", "feature_names_in_"):
            setattr(state, name, getattr(fitted, name))
        state.format_ = getattr(fitted, "format_", 1)  # pickled before MODEL_FORMAT existed: 1
        return state

    def save(self, folder: Path) -> None:
        np.savez(folder / "state.npz", **{name: getattr(self, name) for name in ARRAYS})
        numbers: dict[str, Any] = {n: float(getattr(self, n)) for n in NUMBERS}
        numbers |= {p: getattr(self, p) for p in (*PARAMS, "n_features_in_")}
        numbers |= {"feature_names_in_": self.feature_names_in_, "format": self.format_}
        (folder / "state.json").write_text(json.dumps(numbers, indent=2))

    @classmethod
    def load(cls, folder: Path) -> FittedState:
        numbers = json.loads((folder / "state.json").read_text())
        if numbers.pop("format", None) != MODEL_FORMAT:
            raise TypeError(f"{folder} was trained by an older version: retrain it")
        state = cls()
        state.format_ = MODEL_FORMAT
        with np.load(folder / "state.npz", allow_pickle=False) as arrays:
            for name in ARRAYS:
                setattr(state, name, np.asarray(arrays[name], dtype=np.float64))
        for name, value in numbers.items():
            setattr(state, name, value)
        return state
