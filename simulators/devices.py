"""Behaviour models of one device per system: daily load, noise, correlations, monotone counters.

A model is a pure function of (device seed, step): the same seed gives the same values. A fault
is a set of overrides applied on top (scenarios.py).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

Metrics = dict[str, float | bool]

SYSTEMS = ("elevator", "water", "power", "fire", "camera")

# Each message carries one group (3-6 metrics), rotating by step, as devices that report fast and
# slow values in separate frames do.
GROUPS: dict[str, tuple[tuple[str, ...], ...]] = {
    "elevator": (
        ("motor_current", "vibration", "door_close_time", "running", "trips"),
        ("door_cycles", "door_open_time", "leveling_error", "cabin_temperature", "fault_code"),
    ),
    "water": (
        ("tank_level", "outlet_pressure", "flow", "pump_current", "pump_running"),
        ("running_hours", "leak_detected", "tank_level", "outlet_pressure"),
    ),
    "power": (
        ("voltage_l1", "voltage_l2", "voltage_l3", "current_l1", "current_l2", "current_l3"),
        (
            "active_power",
            "energy",
            "power_factor",
            "frequency",
            "transformer_temperature",
            "breaker_closed",
        ),
        ("ups_battery", "active_power", "transformer_temperature"),
    ),
    "fire": (
        (
            "panel_state",
            "detector_alarms",
            "sprinkler_pressure",
            "fire_pump_running",
            "panel_battery_voltage",
        ),
    ),
    "camera": (
        ("online", "frame_rate", "bitrate", "recording", "video_loss", "tamper"),
        ("storage_used", "online", "recording"),
    ),
}


def daily_load(t_s: float) -> float:
    """0.15 at night .. 1.0 in the evening peak: the load curve of a residential estate."""
    hour = (t_s / 3600.0) % 24
    return 0.15 + 0.85 * max(0.0, math.sin(math.pi * (hour - 6) / 16)) if 6 <= hour <= 22 else 0.15


@dataclass
class DeviceModel:
    system: str
    device_id: str
    seed: int
    interval_s: float
    counters: dict[str, float] = field(default_factory=dict)

    def sample(self, step: int, t_s: float) -> Metrics:
        """All metrics of the system at this step (t_s = seconds since local midnight of day 0)."""
        rng = random.Random(self.seed * 1_000_003 + step)
        load = daily_load(t_s)
        model: Callable[[random.Random, float], Metrics] = getattr(self, f"_{self.system}")
        return model(rng, load)

    def _count(self, name: str, increment: float, start: float, whole: bool = False) -> float:
        value = self.counters.get(name, start) + max(increment, 0.0)
        self.counters[name] = value
        return float(math.floor(value)) if whole else round(value, 3)

    def _elevator(self, rng: random.Random, load: float) -> Metrics:
        running = rng.random() < 0.2 + 0.6 * load
        trips_per_step = load * self.interval_s / 40.0
        return {
            "motor_current": round((35 + 25 * load if running else 4) + rng.gauss(0, 1.5), 2),
            "vibration": round(abs(1.1 + 0.4 * load + rng.gauss(0, 0.15)), 3),
            "door_close_time": round(2.8 + rng.gauss(0, 0.08), 3),
            "door_open_time": round(2.5 + rng.gauss(0, 0.08), 3),
            "running": running,
            "trips": self._count("trips", trips_per_step, 10_000 + self.seed % 5000, whole=True),
            "door_cycles": self._count(
                "door_cycles", 2 * trips_per_step, 25_000 + self.seed % 9000, whole=True
            ),
            "leveling_error": round(rng.gauss(0, 2.0), 2),
            "cabin_temperature": round(22 + 4 * load + rng.gauss(0, 0.3), 2),
            "fault_code": 0,
        }

    def _water(self, rng: random.Random, load: float) -> Metrics:
        flow = max(0.0, 8 + 30 * load + rng.gauss(0, 1.0))
        pump_running = flow > 5
        return {
            "tank_level": round(
                min(100.0, 70 + 10 * math.cos(load * math.pi) + rng.gauss(0, 0.5)), 2
            ),
            "outlet_pressure": round(4.2 - 0.6 * load + rng.gauss(0, 0.05), 3),
            "flow": round(flow, 2),
            "pump_current": round(
                (6 + 0.45 * flow if pump_running else 0.2) + rng.gauss(0, 0.3), 2
            ),
            "pump_running": pump_running,
            "running_hours": self._count(
                "running_hours", self.interval_s / 3600 if pump_running else 0, 3000.0
            ),
            "leak_detected": False,
        }

    def _power(self, rng: random.Random, load: float) -> Metrics:
        currents = [200 + 500 * load + rng.gauss(0, 8) for _ in range(3)]
        voltages = [230 + rng.gauss(0, 1.2) for _ in range(3)]
        active = sum(v * i for v, i in zip(voltages, currents, strict=True)) * 0.95 / 1000
        return {
            **{f"voltage_l{n + 1}": round(v, 2) for n, v in enumerate(voltages)},
            **{f"current_l{n + 1}": round(i, 2) for n, i in enumerate(currents)},
            "active_power": round(active, 2),
            "energy": self._count("energy", active * self.interval_s / 3600, 1_200_000.0),
            "power_factor": round(0.95 + rng.gauss(0, 0.005), 4),
            "frequency": round(50 + rng.gauss(0, 0.02), 3),
            "transformer_temperature": round(45 + 30 * load + rng.gauss(0, 0.5), 2),
            "breaker_closed": True,
            "ups_battery": round(min(100.0, 98 + rng.gauss(0, 0.5)), 1),
        }

    def _fire(self, rng: random.Random, load: float) -> Metrics:
        return {
            "panel_state": 0,
            "detector_alarms": 0,
            "sprinkler_pressure": round(7.5 + rng.gauss(0, 0.05), 3),
            "fire_pump_running": False,
            "panel_battery_voltage": round(27.2 + rng.gauss(0, 0.05), 3),
        }

    def _camera(self, rng: random.Random, load: float) -> Metrics:
        return {
            "online": True,
            "frame_rate": round(25 + rng.gauss(0, 0.3), 2),
            "bitrate": round(4000 + 1500 * load + rng.gauss(0, 100), 1),
            "recording": True,
            "video_loss": False,
            "tamper": False,
            "storage_used": round(
                min(100.0, 60 + self._count("storage_days", self.interval_s / 86400, 0.0)), 3
            ),
        }


def message_metrics(system: str, values: Metrics, step: int) -> Metrics:
    group = GROUPS[system][step % len(GROUPS[system])]
    return {name: values[name] for name in group}
