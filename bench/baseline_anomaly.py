"""The anomaly detector as it stood before issue 13 (main at c244cfd), unchanged but for
its name, kept as the "before" of `bench.detection_public`. Not used by the service."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.signal import lfilter
from sklearn.base import BaseEstimator
from sklearn.decomposition import PCA

Array = NDArray[np.float64]
_MIN_CALIBRATION_ROWS = 50


class NotFitted(RuntimeError):
    pass


class BaselineAnomalyDetector(BaseEstimator):  # type: ignore[misc]
    def __init__(
        self,
        smoothing: int = 5,
        despike: int = 3,
        variance_kept: float = 0.95,
        quantile: float = 0.999,
        margin: float = 1.25,
        calibration_share: float = 0.3,
        k: int = 3,
        n: int = 5,
    ) -> None:
        self.smoothing = smoothing
        self.despike = despike
        self.variance_kept = variance_kept
        self.quantile = quantile
        self.margin = margin
        self.calibration_share = calibration_share
        self.k = k
        self.n = n

    # -- fitting -------------------------------------------------------------------------------

    def fit(self, X: Any, y: Any = None) -> BaselineAnomalyDetector:
        if not 1 <= self.k <= self.n:
            raise ValueError(f"persistence needs 1 <= k <= n, got k={self.k}, n={self.n}")
        if self.smoothing < 1 or self.despike < 1:
            raise ValueError("smoothing and despike are numbers of rows, at least 1")
        columns, values = _as_matrix(X)
        if len(values) < 2:
            raise ValueError("fit needs at least 2 rows of normal data")
        self.feature_names_in_ = columns
        self.n_features_in_ = values.shape[1]
        self.center_ = np.nanmedian(values, axis=0)
        self.center_ = np.where(np.isnan(self.center_), 0.0, self.center_)
        q75, q25 = np.nanpercentile(values, [75, 25], axis=0)
        scale = (q75 - q25) / 1.349
        std = np.nanstd(values, axis=0)
        scale = np.where(np.isfinite(scale) & (scale > 0), scale, std)
        # A column constant in training: any change is news, but not infinitely so.
        floor = np.maximum(np.abs(self.center_) * 1e-3, 1e-6)
        self.scale_ = np.where(np.isfinite(scale) & (scale > floor), scale, floor)
        smoothed = self._smooth(self._standardize(_fill_forward(values, self.center_)))
        n_cal = int(len(smoothed) * self.calibration_share)
        if n_cal < _MIN_CALIBRATION_ROWS or len(smoothed) - n_cal < _MIN_CALIBRATION_ROWS:
            train, calibration = smoothed, smoothed  # too little data to hold some out
        else:
            train, calibration = smoothed[:-n_cal], smoothed[-n_cal:]
        self.mean_ = train.mean(axis=0)
        centered = train - self.mean_
        pca = PCA(n_components=min(train.shape), svd_solver="full").fit(centered)
        explained = np.cumsum(pca.explained_variance_ratio_)
        kept = int(np.searchsorted(explained, self.variance_kept) + 1)
        kept = max(1, min(kept, len(pca.components_)))
        self.components_ = pca.components_[:kept]
        self.variances_ = np.maximum(pca.explained_variance_[:kept], 1e-12)
        t2, spe = self._statistics(calibration)
        self.t2_limit_ = max(float(np.quantile(t2, self.quantile)), 1e-9)
        self.spe_limit_ = max(float(np.quantile(spe, self.quantile)), 1e-9)
        self.threshold_ = float(self.margin)
        self.training_score_ = float(np.mean(self._score_smoothed(calibration) > self.threshold_))
        self.n_training_rows_ = len(values)
        return self

    # -- scoring -------------------------------------------------------------------------------

    def score_samples(self, X: Any) -> Array:
        """The anomaly score of each row: higher is more anomalous; 1.0 is the edge of normal."""
        values = self._matrix_for_predict(X)
        return self._score_smoothed(
            self._smooth(self._standardize(_fill_forward(values, self.center_)))
        )

    def predict(self, X: Any) -> NDArray[np.int64]:
        """1 for anomalous rows, 0 for normal ones (after the k-of-n persistence filter)."""
        over = (self.score_samples(X) > self.threshold_).astype(np.int64)
        counts = np.convolve(over, np.ones(self.n, dtype=np.int64))[: len(over)]
        return (counts >= self.k).astype(np.int64)

    def decision_function(self, X: Any) -> Array:
        """Score minus threshold: positive means anomalous (before persistence)."""
        return self.score_samples(X) - self.threshold_

    def stream(self) -> AnomalyStream:
        """Row-by-row scoring with the same results as predict, for live telemetry."""
        self._check_fitted()
        return AnomalyStream(self)

    # -- the steps -----------------------------------------------------------------------------

    def _check_fitted(self) -> None:
        if not hasattr(self, "threshold_"):
            raise NotFitted("call fit(X) with normal data first")

    def _matrix_for_predict(self, X: Any) -> Array:
        self._check_fitted()
        columns, values = _as_matrix(X)
        if columns is not None and self.feature_names_in_ is not None:
            missing = [c for c in self.feature_names_in_ if c not in columns]
            if missing:
                raise ValueError(f"columns missing from X: {missing}")
            values = values[:, [columns.index(c) for c in self.feature_names_in_]]
        if values.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {values.shape[1]} columns; fitted on {self.n_features_in_}")
        return values

    def _standardize(self, values: Array) -> Array:
        return (values - self.center_) / self.scale_

    def _alpha(self) -> float:
        return 2.0 / (self.smoothing + 1.0)

    def _smooth(self, z: Array) -> Array:
        if len(z) == 0:
            return z
        if self.despike > 1:
            # The median of each row and the despike-1 before it (the first row stands in for
            # rows before the block), so one wild row never moves the result.
            w = self.despike
            padded = np.concatenate([np.repeat(z[:1], w - 1, axis=0), z])
            z = np.median(np.stack([padded[i : i + len(z)] for i in range(w)]), axis=0)
        if self.smoothing <= 1:
            return z
        a = self._alpha()
        initial = (1 - a) * z[0]
        out, _ = lfilter([a], [1.0, -(1 - a)], z, axis=0, zi=initial[np.newaxis, :])
        return np.asarray(out, dtype=np.float64)

    def _statistics(self, smoothed: Array) -> tuple[Array, Array]:
        centered = smoothed - self.mean_
        projected = centered @ self.components_.T
        t2 = np.sum(projected**2 / self.variances_, axis=1)
        residual = centered - projected @ self.components_
        spe = np.sum(residual**2, axis=1)
        return t2, spe

    def _score_smoothed(self, smoothed: Array) -> Array:
        t2, spe = self._statistics(smoothed)
        return np.asarray(np.maximum(t2 / self.t2_limit_, spe / self.spe_limit_), dtype=np.float64)


class AnomalyStream:
    """The detector's causal state for one device: last values, EWMA, recent threshold hits."""

    def __init__(self, detector: BaselineAnomalyDetector) -> None:
        self.detector = detector
        self._last = detector.center_.copy()
        self._ewma: Array | None = None
        self._recent: deque[Array] = deque(maxlen=detector.despike)
        self._hits: deque[bool] = deque(maxlen=detector.n)

    def update(self, row: Sequence[float] | Array) -> tuple[float, bool]:
        """Score one row (NaN = not reported in it, the last value carries forward)."""
        d = self.detector
        values = np.asarray(row, dtype=np.float64)
        self._last = np.where(np.isnan(values), self._last, values)
        z = (self._last - d.center_) / d.scale_
        if not self._recent:
            self._recent.extend([z] * d.despike)
        self._recent.append(z)
        if d.despike > 1:
            z = np.median(np.stack(list(self._recent)), axis=0)
        if self._ewma is None or d.smoothing <= 1:
            self._ewma = z
        else:
            a = d._alpha()
            self._ewma = a * z + (1 - a) * self._ewma
        score = float(d._score_smoothed(self._ewma[np.newaxis, :])[0])
        self._hits.append(score > d.threshold_)
        return score, sum(self._hits) >= d.k


def _as_matrix(X: Any) -> tuple[list[str] | None, Array]:
    """A 2-D float array from an array, a list of rows or a DataFrame (its numeric columns)."""
    columns: list[str] | None = None
    if hasattr(X, "select_dtypes") and hasattr(X, "columns"):
        X = X.select_dtypes(include=["number", "bool"])
        columns = [str(c) for c in X.columns]
        X = X.to_numpy(dtype=np.float64, na_value=np.nan)
    values = np.asarray(X, dtype=np.float64)
    if values.ndim == 1:
        values = values.reshape(-1, 1)
    if values.ndim != 2 or values.shape[1] == 0:
        raise ValueError("X must be 2-D with at least one numeric column")
    values = np.where(np.isinf(values), np.nan, values)
    return columns, values


def _fill_forward(values: Array, fallback: Array) -> Array:
    """Causal gap filling: a missing value takes the column's last value, or the fallback."""
    missing = np.isnan(values)
    if not missing.any():
        return values
    index = np.where(~missing, np.arange(len(values))[:, np.newaxis], -1)
    np.maximum.accumulate(index, axis=0, out=index)
    filled = values[np.maximum(index, 0), np.arange(values.shape[1])]
    return np.where(index < 0, fallback, filled)
