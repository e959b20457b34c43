"""A fleet of simulated devices on one site, and the deterministic message plan it publishes."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from simulators.devices import SYSTEMS, DeviceModel, message_metrics
from simulators.scenarios import SCENARIOS, Scenario


@dataclass(frozen=True, slots=True)
class Message:
    due_s: float  # seconds after the run's start at which to publish
    topic: str
    payload: bytes
    retain: bool = False
    will: bool = False  # drop this device's own connection so the broker publishes its last will


@dataclass(frozen=True, slots=True)
class FaultTruth:
    site: str
    system: str
    device_id: str
    scenario: str
    start_ms: int
    end_ms: int

    def as_json(self) -> dict[str, object]:
        return {
            "site": self.site,
            "system": self.system,
            "device_id": self.device_id,
            "fault": self.scenario,
            "start_ms": self.start_ms,
            "end_ms": self.end_ms,
            "start": _iso(self.start_ms),
            "end": _iso(self.end_ms),
        }


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat()


class Fleet:
    """`devices` devices spread round-robin over the five systems, each reporting every
    1/rate seconds for `duration_s`, starting at `start_ms` (timestamps are simulated time)."""

    def __init__(
        self,
        site: str,
        devices: int,
        rate: float,
        duration_s: float,
        *,
        seed: int = 1,
        scenario: str | None = None,
        start_ms: int,
        systems: tuple[str, ...] = SYSTEMS,
    ) -> None:
        if scenario is not None and scenario not in SCENARIOS:
            raise ValueError(
                f"unknown scenario {scenario!r}; known: {', '.join(sorted(SCENARIOS))}"
            )
        if rate <= 0 or devices <= 0 or duration_s <= 0:
            raise ValueError("devices, rate and duration must be positive")
        self.site, self.rate, self.duration_s, self.seed = site, rate, duration_s, seed
        self.start_ms = start_ms
        self.scenario: Scenario | None = SCENARIOS[scenario] if scenario else None
        if self.scenario and self.scenario.system not in systems:
            systems = (*systems, self.scenario.system)
        interval = 1.0 / rate
        self.models = [
            DeviceModel(system, f"{system}-{n // len(systems) + 1:03d}", seed * 7919 + n, interval)
            for n in range(devices)
            for system in (systems[n % len(systems)],)
        ]
        self.faulty = self._pick_faulty_device()

    def _pick_faulty_device(self) -> DeviceModel | None:
        if self.scenario is None:
            return None
        candidates = [m for m in self.models if m.system == self.scenario.system]
        return random.Random(self.seed).choice(candidates)

    @property
    def steps(self) -> int:
        return max(1, int(self.duration_s * self.rate))

    def truth(self) -> list[FaultTruth]:
        if self.scenario is None or self.faulty is None:
            return []
        begin, end = self.scenario.window
        return [
            FaultTruth(
                self.site,
                self.faulty.system,
                self.faulty.device_id,
                self.scenario.name,
                self.start_ms + int(begin * self.duration_s * 1000),
                self.start_ms + int(end * self.duration_s * 1000),
            )
        ]

    def write_truth(self, path: Path) -> None:
        path.write_text(json.dumps([t.as_json() for t in self.truth()], indent=2) + "\n")

    def topic(self, model: DeviceModel, kind: str) -> str:
        return f"facility/{self.site}/{model.system}/{model.device_id}/{kind}"

    def statuses(self, online: bool) -> list[Message]:
        state = b"online" if online else b"offline"
        return [Message(0.0, self.topic(m, "status"), state, retain=True) for m in self.models]

    def messages(self) -> Iterator[Message]:
        """Telemetry (and fault events / last wills) in publishing order."""
        interval = 1.0 / self.rate
        truth = self.truth()
        fault = truth[0] if truth else None
        offline_sent = online_sent = False
        for step in range(self.steps):
            for index, model in enumerate(self.models):
                offset = interval * index / len(self.models)  # spread devices over the interval
                due = step * interval + offset
                ts_ms = self.start_ms + int(due * 1000)
                values = model.sample(step, self.start_ms / 1000 + due)
                if fault and model is self.faulty and self.scenario is not None:
                    if fault.start_ms <= ts_ms < fault.end_ms:
                        progress = (ts_ms - fault.start_ms) / max(fault.end_ms - fault.start_ms, 1)
                        if ts_ms - fault.start_ms < interval * 1000:
                            yield from self._fault_start(model, due, ts_ms)
                        if self.scenario.offline:
                            if not offline_sent:
                                offline_sent = True
                                yield Message(
                                    due, self.topic(model, "status"), b"offline", True, will=True
                                )
                            continue
                        values = self.scenario.apply(progress, values)
                    elif ts_ms >= fault.end_ms and self.scenario.offline and not online_sent:
                        online_sent = True
                        yield Message(due, self.topic(model, "status"), b"online", True)
                body = {
                    "ts": ts_ms,
                    "seq": step,
                    "metrics": message_metrics(model.system, values, step),
                }
                yield Message(due, self.topic(model, "telemetry"), json.dumps(body).encode())

    def _fault_start(self, model: DeviceModel, due: float, ts_ms: int) -> Iterator[Message]:
        assert self.scenario is not None
        for code, severity, text in self.scenario.events:
            body = {"ts": ts_ms, "code": code, "severity": severity, "message": text}
            yield Message(due, self.topic(model, "event"), json.dumps(body).encode())
