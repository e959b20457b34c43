"""Detection on public, labelled data from real equipment: the development sets in
`../shared/anomaly-dev` (NAB series, LBNL air-handling units), scored by their own evaluator.

    python -m bench.detection_public [--data ../shared/anomaly-dev] [--no-curve]

Prints, in one run, the detector before issue 13 (`bench.baseline_anomaly`) and the detector in
service (`rules.anomaly`), then the trade-off curves of both: recall and false alarms as the
`margin` (the threshold, for the new detector in units of the extreme-value edge of normal)
moves.
The models are calibrated from normal rows only (each set's training rows); the labels are
used to score, never to fit.

Targets (issue 13): NAB window recall >= 0.80 at <= 1.0 alarm row per 1000 normal rows; LBNL
fault-day recall >= 0.80 with <= 10 % of normal days alarming.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from bench.baseline_anomaly import BaselineAnomalyDetector
from rules.anomaly import TelemetryAnomalyDetector

CATEGORIES = [
    "realAWSCloudwatch",
    "realTraffic",
    "realAdExchange",
    "artificialWithAnomaly",
    "artificialNoAnomaly",
]
CURVE = (0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0)
CURVE_BEFORE = (1.25, 2.0, 4.0, 8.0, 16.0)  # its margin multiplied a 0.999 quantile


def evaluator(data: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("anomaly_dev_evaluate", data / "evaluate.py")
    if spec is None or spec.loader is None:
        raise SystemExit(f"no evaluator at {data / 'evaluate.py'}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def score(ev: ModuleType, data: Path, make: Callable[[], Any]) -> tuple[str, str]:
    nab = ev.nab(make, data / "nab", CATEGORIES, True)
    lbnl = ev.lbnl(make, data / "lbnl", True, 1)
    return str(nab), str(lbnl)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    default = os.environ.get("ANOMALY_DEV_DATA", str(Path("..") / "shared" / "anomaly-dev"))
    parser.add_argument("--data", type=Path, default=Path(default))
    parser.add_argument("--no-curve", action="store_true", help="before/after only")
    args = parser.parse_args()
    ev = evaluator(args.data)
    warnings.filterwarnings("ignore", category=RuntimeWarning)  # the old PCA on flat series
    runs: list[tuple[str, Callable[[], Any]]] = [
        ("before", BaselineAnomalyDetector),
        ("after", TelemetryAnomalyDetector),
    ]
    for name, make in runs:
        started = time.monotonic()
        nab, lbnl = score(ev, args.data, make)
        print(f"{name:6} {nab}")
        print(f"{name:6} {lbnl}   ({time.monotonic() - started:.0f} s)", flush=True)
    if not args.no_curve:
        print("\ntrade-off of the detector in service over its margin (threshold):")
        for margin in CURVE:
            nab, lbnl = score(ev, args.data, lambda m=margin: TelemetryAnomalyDetector(margin=m))
            print(f"margin {margin:<4} {nab}")
            print(f"margin {margin:<4} {lbnl}", flush=True)
        print("\nthe same for the detector before (its margin, from 1.25):")
        for margin in CURVE_BEFORE:
            nab, lbnl = score(ev, args.data, lambda m=margin: BaselineAnomalyDetector(margin=m))
            print(f"margin {margin:<4} {nab}")
            print(f"margin {margin:<4} {lbnl}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
