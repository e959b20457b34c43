"""Multivariate anomaly detection for sensor telemetry, in scikit-learn style.

`TelemetryAnomalyDetector` learns what normal looks like from time-ordered rows believed normal,
and flags rows that are unlike them. It makes no assumption about which sensors there are. The
method and its measured limits are in docs/anomaly.md; in short:

1. Each column is scaled robustly (median, inter-quartile range, with a floor for columns that
   were constant in training), so units and outliers in the training data do not dominate.
2. A causal running median of the last `despike` rows removes single-row spikes, then a causal
   exponentially weighted mean (EWMA, `smoothing` rows) takes the noise off each column.
3. PCA on the smoothed training rows keeps the components that explain `variance_kept` of the
   variance; a row is scored by Hotelling's T² (unusual values along the normal directions) and
   the squared prediction error (SPE: a broken correlation between sensors). The fit is trimmed:
   the training rows that score worst are left out and the model fitted again, so a minority of
   faulty rows in the history is not learned as normal.
4. The threshold is an extreme-value one: a generalised Pareto tail fitted to the scores of the
   training rows gives the score that normal rows exceed with probability `false_alarm_rate`,
   times `margin`. A quantile of a few hundred rows would only be their maximum.
5. Adaptive baseline: the model's centre follows slow wander of normal operation (time constant
   `adapt` rows), but only from rows that are clearly normal (score under `gate` x threshold),
   so a developing fault, whose score climbs, does not pull the baseline after it.
6. Persistence: a row is anomalous only where at least `k` of the last `n` rows were above the
   threshold, so a spike is not an alarm.
7. Re-baselining: an anomaly that has lasted `relearn_after` rows has been reported; the detector
   then takes the present level as its new baseline, so a lasting change (a set point moved, a
   fault already reported) is one finding, not an alarm that never ends, and the next change is
   seen. `relearn_after=0` never re-baselines.

Everything at prediction time is causal: a row's answer depends on it and the rows before it in
the block, never on later rows. `stream()` gives the same computation row by row, for the live
telemetry stream; `predict(X)` is that stream run over X's rows, so the two are equal.

`score_samples` answers the anomaly score (higher = more anomalous, 1.0 = the extreme-value edge
of normal), the same direction as `predict`'s 1 = anomalous.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.signal import lfilter
from scipy.stats import chi2
from sklearn.base import BaseEstimator
from sklearn.covariance import MinCovDet
from sklearn.decomposition import PCA

from rules.anomaly_math import TAIL_SHARE, as_matrix, extreme_value_limit, fill_forward, sustained
from rules.anomaly_state import MODEL_FORMAT, NotFitted, Scoring
from rules.anomaly_stream import AnomalyStream

__all__ = ["MODEL_FORMAT", "NotFitted", "TelemetryAnomalyDetector"]

Array = NDArray[np.float64]
_MCD_ROWS = 2000  # the robust covariance is estimated on at most this many rows
_TRIM_QUANTILE = 0.9999
_FAULT_SHARE = 0.25  # at most this share of the history is taken for a fault
_FAULT_EPISODES = 3


class TelemetryAnomalyDetector(BaseEstimator, Scoring):  # type: ignore[misc]
    def __init__(
        self,
        smoothing: int = 5,
        despike: int = 3,
        variance_kept: float = 0.95,
        false_alarm_rate: float = 1e-4,
        margin: float = 1.0,
        trim: bool = True,
        trim_min_rows: int = 2000,
        adapt: int = 2000,
        gate: float = 0.8,
        relearn_after: int = 10,
        k: int = 3,
        n: int = 5,
        confirmed_normal_factor: float = 1.5,
    ) -> None:
        self.smoothing = smoothing
        self.despike = despike
        self.variance_kept = variance_kept
        self.false_alarm_rate = false_alarm_rate
        self.margin = margin
        self.trim = trim
        self.trim_min_rows = trim_min_rows
        self.adapt = adapt
        self.gate = gate
        self.relearn_after = relearn_after
        self.k = k
        self.n = n
        self.confirmed_normal_factor = confirmed_normal_factor

    # -- fitting -------------------------------------------------------------------------------

    def fit(self, X: Any, y: Any = None) -> TelemetryAnomalyDetector:
        """Learns normal from X's rows, in time order. `y` (optional, one per row): 0 marks rows
        a person confirmed as normal (a finding a technician found no fault behind): never
        trimmed as a fault, and the threshold rises as far as they need, at most by
        `confirmed_normal_factor`; -1 (or no `y`) is unlabelled."""
        if not 1 <= self.k <= self.n:
            raise ValueError(f"persistence needs 1 <= k <= n, got k={self.k}, n={self.n}")
        if self.smoothing < 1 or self.despike < 1:
            raise ValueError("smoothing and despike are numbers of rows, at least 1")
        if not 0 < self.false_alarm_rate < TAIL_SHARE:
            raise ValueError(f"false_alarm_rate must be in (0, {TAIL_SHARE})")
        columns, values = as_matrix(X)
        if len(values) < 2:
            raise ValueError("fit needs at least 2 rows of normal data")
        labels = np.full(len(values), -1) if y is None else np.asarray(y).reshape(-1)
        if labels.shape != (len(values),) or not np.isin(labels, (0, -1)).all():
            raise ValueError("y labels each row: 0 = confirmed normal, -1 = unlabelled")
        confirmed = labels == 0
        self.feature_names_in_ = columns
        self.n_features_in_ = values.shape[1]
        self.center_ = np.nanmedian(values, axis=0)
        self.center_ = np.where(np.isnan(self.center_), 0.0, self.center_)
        q75, q25 = np.nanpercentile(values, [75, 25], axis=0)
        scale = (q75 - q25) / 1.349
        std = np.nanstd(values, axis=0)
        scale = np.where(np.isfinite(scale) & (scale > 0), scale, std)
        # A column constant in training: any change is news, but not infinitely so.
        floor = np.maximum(np.abs(self.center_) * 1e-2, 1e-3)
        self.scale_ = np.where(np.isfinite(scale) & (scale > floor), scale, floor)
        filled = fill_forward(values, self.center_)
        low, high = np.percentile(filled, [0.5, 99.5], axis=0)
        self.normal_low_, self.normal_high_ = low, high
        smoothed = self._smooth(self._standardize(filled))
        # The threshold comes from the scores of all the training rows (a whole daily cycle,
        # the rare bursts of normal operation), with an extreme-value tail. Measured against
        # a held-out newest share and cross-fitting over blocks (docs/anomaly.md): a held-out
        # share of a short history misses parts of normal, and scored on a few hundred rows
        # the threshold swings; this held the best trade-off on both public sets.
        kept = self._fit_trimmed(smoothed, confirmed)
        # A fault left out of the fit sets no threshold; the rows people confirmed as normal set
        # it only through the bounded rise below, so one false finding cannot blunt the model.
        tail = kept & ~confirmed if (kept & ~confirmed).sum() >= 2 else kept
        raw = self._raw_scores(smoothed[tail])
        self.edge_ = extreme_value_limit(raw, self.false_alarm_rate)
        self.threshold_ = float(self.margin)
        self.confirmed_normal_rows_ = int(confirmed.sum())
        if confirmed.any():
            need = self._persistent_peak(self._raw_scores(smoothed[confirmed]) / self.edge_)
            ceiling = self.margin * self.confirmed_normal_factor
            self.threshold_ = float(min(max(self.threshold_, need * 1.001), ceiling))
        self.training_score_ = float(np.mean(raw / self.edge_ > self.threshold_))
        self.n_training_rows_ = len(values)
        self.format_ = MODEL_FORMAT
        return self

    def _persistent_peak(self, scores: Array) -> float:
        """The lowest threshold under which these consecutive rows raise no alarm: the highest
        k-th largest score of any n rows in a row."""
        if len(scores) < self.n:
            return float(np.sort(scores)[-min(self.k, len(scores))])
        windows = np.lib.stride_tricks.sliding_window_view(scores, self.n)
        return float(np.max(np.sort(windows, axis=1)[:, -self.k]))

    def _fit_trimmed(self, train: Array, confirmed: NDArray[np.bool_]) -> NDArray[np.bool_]:
        """Robust training. A robust covariance (minimum covariance determinant, which ignores
        up to a quarter of the rows) marks the rows far from the bulk for a while; short
        excursions (spikes, bursts) are never marked. The normal directions and variances are
        fitted on the rest, so no minority regime bends them. Whether the marked rows also stay
        out of the threshold depends on what they look like: a fault is one episode or a few
        and a minority of a long history; a regime that keeps coming back or fills much of it
        is an operating mode (a pump's runs, occupied hours), which is normal and must be under
        the threshold. Answers the rows the threshold is taken from."""
        everything = np.ones(len(train), dtype=bool)
        varying = np.ptp(train, axis=0) > 1e-9
        if not self.trim or not varying.any() or len(train) < 4 * train.shape[1] + 10:
            self._fit_subspace(train)
            return everything
        rows = train[:, varying]
        step = max(1, len(rows) // _MCD_ROWS)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                mcd = MinCovDet(support_fraction=0.75, random_state=0).fit(rows[::step])
            distance = mcd.mahalanobis(rows)
        except (ValueError, np.linalg.LinAlgError):
            distance = np.zeros(len(rows))
        far = sustained(distance > float(chi2.ppf(_TRIM_QUANTILE, rows.shape[1])), 4 * self.n)
        far &= ~confirmed
        bulk = ~far if far.mean() <= 0.5 else everything
        self._fit_subspace(train[bulk])
        episodes = int(np.sum(np.diff(np.concatenate([[0], far.astype(np.int64)])) == 1))
        # Below `trim_min_rows` the history holds each rare normal event (a morning start-up)
        # once, and a single episode far from the rest cannot be told from a fault.
        fault_like = (
            len(train) >= self.trim_min_rows
            and 0 < far.mean() <= _FAULT_SHARE
            and episodes <= _FAULT_EPISODES
        )
        return ~far if fault_like else everything

    def _fit_subspace(self, rows: Array) -> None:
        self.mean_ = rows.mean(axis=0)
        centered = rows - self.mean_
        if np.allclose(centered, 0):
            self.components_ = np.eye(rows.shape[1])[:1]
            self.variances_ = np.ones(1)
        else:
            pca = PCA(n_components=min(rows.shape), svd_solver="full").fit(centered)
            explained = np.cumsum(pca.explained_variance_ratio_)
            kept = int(np.searchsorted(explained, self.variance_kept) + 1)
            kept = max(1, min(kept, len(pca.components_)))
            self.components_ = pca.components_[:kept]
            self.variances_ = np.maximum(pca.explained_variance_[:kept], 1e-6)
        t2, spe = self._statistics(rows - self.mean_)
        # Each statistic in units of its own typical training size, so neither dominates.
        self.t2_unit_ = max(float(np.quantile(t2, 0.99)), 1e-6)
        self.spe_unit_ = max(float(np.quantile(spe, 0.99)), 1e-3)

    # -- scoring -------------------------------------------------------------------------------

    def score_samples(self, X: Any) -> Array:
        """The anomaly score of each row: higher is more anomalous; 1.0 is the edge of normal."""
        return self._run(X)[0]

    def predict(self, X: Any) -> NDArray[np.int64]:
        """1 for anomalous rows, 0 for normal ones (after persistence and re-baselining)."""
        return self._run(X)[1]

    def decision_function(self, X: Any) -> Array:
        """Score minus threshold: positive means above the threshold (before persistence)."""
        return self.score_samples(X) - self.threshold_

    # -- the steps -----------------------------------------------------------------------------

    def _run(self, X: Any) -> tuple[Array, NDArray[np.int64]]:
        values = self._matrix_for_predict(X)
        smoothed = self._smooth(self._standardize(fill_forward(values, self.center_)))
        stream = AnomalyStream(self)
        scores = np.empty(len(smoothed))
        flags = np.zeros(len(smoothed), dtype=np.int64)
        for i, row in enumerate(smoothed):
            scores[i], anomalous = stream.step(row)
            flags[i] = anomalous
        return scores, flags

    def _matrix_for_predict(self, X: Any) -> Array:
        self._check_fitted()
        columns, values = as_matrix(X)
        if columns is not None and self.feature_names_in_ is not None:
            missing = [c for c in self.feature_names_in_ if c not in columns]
            if missing:
                raise ValueError(f"columns missing from X: {missing}")
            values = values[:, [columns.index(c) for c in self.feature_names_in_]]
        if values.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {values.shape[1]} columns; fitted on {self.n_features_in_}")
        return values

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
