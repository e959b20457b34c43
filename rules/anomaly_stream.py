"""The anomaly detector's causal state for one device (`Scoring.stream()`):
the live telemetry scored row by row with the same computation `predict` runs over a block."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from rules.anomaly_state import Scoring

from rules.anomaly_math import Array


@dataclass(frozen=True, slots=True)
class Contribution:
    """One column's part in a row's anomaly score, with what training called normal for it."""

    column: str
    share: float  # of the score, 0..1
    value: float
    normal_low: float
    normal_high: float


class AnomalyStream:
    """The detector's causal state for one device: last values, the smoothing filters, the
    adaptive baseline and the recent threshold hits."""

    def __init__(self, detector: Scoring) -> None:
        self.detector = detector
        self._last = detector.center_.copy()
        self._ewma: Array | None = None
        self._recent: deque[Array] = deque(maxlen=detector.despike)
        self._hits: deque[bool] = deque(maxlen=detector.n)
        self.offset = np.zeros(detector.n_features_in_)  # the baseline's wander from training
        self.anomalous_for = 0
        self.seen = 0
        self._last_trained = np.inf
        self.rebaselined = False  # the baseline is a re-baselined level, not the trained one
        self._levels: deque[Array] = deque(maxlen=max(detector.relearn_after, 1))
        self.deviation = np.zeros(detector.n_features_in_)  # of the last row, for explain()
        self.values = detector.center_.copy()

    def update(self, row: Sequence[float] | Array) -> tuple[float, bool]:
        """Score one row (NaN = not reported in it, the last value carries forward)."""
        d = self.detector
        values = np.asarray(row, dtype=np.float64)
        self._last = np.where(np.isnan(values), self._last, values)
        self.values = self._last.copy()
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
        return self.step(self._ewma)

    def step(self, smoothed: Array) -> tuple[float, bool]:
        """The part after smoothing, shared with predict: score, persistence, baseline."""
        d = self.detector
        home = smoothed - d.mean_
        adapted = home - self.offset
        trained_score = d._score_of(home)
        score = d._score_of(adapted) if self.offset.any() else trained_score
        heading_home = self.rebaselined and trained_score < self._last_trained
        self._last_trained = trained_score
        if trained_score < score:
            # Nearer the trained normal than the new baseline: after a re-baselining, the way
            # back (a repair, a set point restored) is no new finding; once clearly there, the
            # baseline is the trained one again.
            score, adapted = trained_score, home
            if trained_score < d.gate * d.threshold_:
                self.offset = np.zeros_like(self.offset)
                self.rebaselined = False
        self.deviation = adapted
        self.seen += 1
        # The filters start from one row, which is as noisy as a raw reading: no verdicts
        # until they have run in (a fresh stream after a restart or a new model).
        warm = self.seen > d.smoothing + d.despike
        self._hits.append(warm and score > d.threshold_ and not heading_home)
        anomalous = sum(self._hits) >= d.k
        self._levels.append(home)
        if anomalous:
            self.anomalous_for += 1
            if d.relearn_after and self.anomalous_for >= d.relearn_after and self._steady():
                # Reported for long enough: the present level becomes the baseline. Off the
                # normal directions all of the change is taken in; along them only if it is
                # anomalous there itself: what normal variation (the load) explains now is
                # not fixed into the baseline, or the next swing of the load would alarm.
                along = (home @ d.components_.T) @ d.components_
                self.offset = home - along
                if d._score_of(along) > d.threshold_:
                    self.offset = home.copy()
                self.rebaselined = True
                self._hits.clear()
                self.anomalous_for = 0
        else:
            self.anomalous_for = 0
            if d.adapt and score < d.gate * d.threshold_:
                self.offset = self.offset + adapted / d.adapt
        return score, anomalous

    def _steady(self) -> bool:
        """Whether the last `relearn_after` rows hold one level (a step that has settled),
        rather than a fault that keeps moving (cavitation, a growing leak): only a level can
        become a baseline; a moving fault keeps its alarm until it ends."""
        d = self.detector
        now = self._levels[-1]
        return all(
            d._score_of(now - self._levels[i]) < d.threshold_ for i in (0, len(self._levels) // 2)
        )

    def explain(self, top: int = 3, names: Sequence[str] | None = None) -> list[Contribution]:
        """The columns behind the last row's score (`names`: the columns' names, if the
        detector was fitted on an array)."""
        return self.detector.explain(self.deviation, self.values, top, names)
