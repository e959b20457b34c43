"""Small numerical pieces of the anomaly detector: input matrices, causal gap filling, runs of
consecutive flags, and the extreme-value limit of a score distribution."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]
TAIL_SHARE = 0.1  # the scores above their 90 % quantile make the fitted tail


def sustained(over: NDArray[np.bool_], rows: int) -> NDArray[np.bool_]:
    """The rows of runs of at least `rows` consecutive True values."""
    out = np.zeros_like(over)
    start = None
    for i, flag in enumerate([*over.tolist(), False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            if i - start >= rows:
                out[start:i] = True
            start = None
    return out


def extreme_value_limit(scores: Array, rate: float) -> float:
    """The score that normal rows exceed with probability `rate`: peaks over the 90 % quantile
    fitted with a generalised Pareto distribution (its shape bounded, as few peaks cannot say
    much about it); never below the largest score seen."""
    from scipy.stats import genpareto  # training only: a collector never fits a tail

    scores = scores[np.isfinite(scores)]
    if len(scores) == 0:
        return 1.0
    top = float(scores.max())
    u = float(np.quantile(scores, 1 - TAIL_SHARE))
    excess = scores[scores > u] - u
    if len(excess) < 10 or float(excess.std()) <= 0:
        return max(top * 1.5, 1e-6)
    shape, _, scale = genpareto.fit(excess, floc=0)
    shape = float(np.clip(shape, -0.5, 0.5))
    tail = rate / TAIL_SHARE
    limit = u + float(genpareto.ppf(1 - tail, shape, loc=0, scale=scale))
    return max(limit, top, 1e-6)


def as_matrix(X: Any) -> tuple[list[str] | None, Array]:
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


def fill_forward(values: Array, fallback: Array) -> Array:
    """Causal gap filling: a missing value takes the column's last value, or the fallback."""
    missing = np.isnan(values)
    if not missing.any():
        return values
    index = np.where(~missing, np.arange(len(values))[:, np.newaxis], -1)
    np.maximum.accumulate(index, axis=0, out=index)
    filled = values[np.maximum(index, 0), np.arange(values.shape[1])]
    return np.where(index < 0, fallback, filled)
