"""Named fault scenarios: which system they hit, and what they do to its metrics and events.

`apply(progress, values)` gets the fault's progress (0 at its start, 1 at its end) and the healthy
values, and returns the faulty ones; `events` are published at the fault's start. A scenario that
takes the device offline publishes its last will instead of telemetry for the window.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from simulators.devices import Metrics

Effect = Callable[[float, Metrics], Metrics]


@dataclass(frozen=True)
class Scenario:
    name: str
    system: str
    description: str
    apply: Effect
    events: tuple[tuple[str, str, str], ...] = ()  # (code, severity, message) at fault start
    offline: bool = False
    window: tuple[float, float] = (0.3, 0.8)  # share of the run: fault start, fault end
    extra: dict[str, float] = field(default_factory=dict)


def _ramp(progress: float, low: float, high: float) -> float:
    return low + (high - low) * min(max(progress, 0.0), 1.0)


def _door_motor(p: float, v: Metrics) -> Metrics:
    v = dict(v)
    v["door_close_time"] = float(v["door_close_time"]) + _ramp(p, 1.0, 4.0)
    v["door_open_time"] = float(v["door_open_time"]) + _ramp(p, 0.8, 3.0)
    v["motor_current"] = float(v["motor_current"]) * _ramp(p, 1.35, 1.8)
    return v


def _bearing(p: float, v: Metrics) -> Metrics:
    return {**v, "vibration": float(v["vibration"]) + _ramp(p, 2.5, 7.0)}


def _trapped(p: float, v: Metrics) -> Metrics:
    return {**v, "running": False, "motor_current": 0.5, "fault_code": 301}


def _cavitation(p: float, v: Metrics) -> Metrics:
    swing = 1.6 * math.sin(p * 400)
    return {
        **v,
        "outlet_pressure": max(0.1, float(v["outlet_pressure"]) - 1.0 + swing),
        "pump_current": float(v["pump_current"]) * 0.6,
    }


def _tank_leak(p: float, v: Metrics) -> Metrics:
    return {
        **v,
        "pump_running": False,
        "pump_current": 0.2,
        "flow": 0.0,
        "tank_level": max(0.0, 65 - 55 * p),
    }


def _pipe_burst(p: float, v: Metrics) -> Metrics:
    return {**v, "outlet_pressure": 0.4, "flow": float(v["flow"]) * 3 + 40, "leak_detected": True}


def _phase_imbalance(p: float, v: Metrics) -> Metrics:
    return {
        **v,
        "current_l1": float(v["current_l1"]) * 1.8,
        "voltage_l2": float(v["voltage_l2"]) * 0.9,
    }


def _transformer_hot(p: float, v: Metrics) -> Metrics:
    return {**v, "transformer_temperature": _ramp(p, 95.0, 130.0)}


def _breaker_trip(p: float, v: Metrics) -> Metrics:
    return {
        **v,
        "breaker_closed": False,
        "current_l1": 0.0,
        "current_l2": 0.0,
        "current_l3": 0.0,
        "active_power": 0.0,
    }


def _panel_fault(p: float, v: Metrics) -> Metrics:
    return {**v, "panel_state": 2, "panel_battery_voltage": 21.5}


def _sprinkler_loss(p: float, v: Metrics) -> Metrics:
    return {**v, "sprinkler_pressure": _ramp(p, 3.5, 1.0)}


def _fire_alarm(p: float, v: Metrics) -> Metrics:
    return {**v, "panel_state": 1, "detector_alarms": 2, "fire_pump_running": True}


def _video_loss(p: float, v: Metrics) -> Metrics:
    return {**v, "video_loss": True, "frame_rate": 0.0, "bitrate": 0.0}


def _storage_full(p: float, v: Metrics) -> Metrics:
    used = _ramp(p * 1.5, 97.0, 100.0)
    return {**v, "storage_used": used, "recording": used < 100.0}


def _unchanged(p: float, v: Metrics) -> Metrics:
    return v


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "elevator_door_motor_degradation",
            "elevator",
            "door motor wearing out: rising current, slower door strokes",
            _door_motor,
        ),
        Scenario("elevator_bearing_wear", "elevator", "bearing wear: rising vibration", _bearing),
        Scenario(
            "elevator_trapped_passenger",
            "elevator",
            "car stopped between floors",
            _trapped,
            events=(("trapped_passenger", "critical", "passenger trapped in car"),),
            window=(0.3, 0.5),
        ),
        Scenario(
            "pump_cavitation", "water", "pressure oscillation, pump current drop", _cavitation
        ),
        Scenario("tank_leak", "water", "tank level falls while the pump is off", _tank_leak),
        Scenario(
            "pipe_burst",
            "water",
            "pressure collapse, flow spike",
            _pipe_burst,
            events=(("leak_detected", "critical", "leak sensor wet"),),
        ),
        Scenario(
            "phase_imbalance", "power", "one phase overloaded, another sagging", _phase_imbalance
        ),
        Scenario(
            "transformer_over_temperature", "power", "transformer overheating", _transformer_hot
        ),
        Scenario(
            "breaker_trip",
            "power",
            "main breaker tripped",
            _breaker_trip,
            events=(("breaker_trip", "critical", "main breaker opened"),),
        ),
        Scenario(
            "fire_panel_fault",
            "fire",
            "panel in fault, battery low",
            _panel_fault,
            events=(("panel_fault", "major", "panel reports a fault"),),
        ),
        Scenario(
            "sprinkler_pressure_loss", "fire", "sprinkler main losing pressure", _sprinkler_loss
        ),
        Scenario(
            "fire_alarm",
            "fire",
            "detectors in alarm",
            _fire_alarm,
            events=(("fire_alarm", "critical", "2 detectors in alarm"),),
            window=(0.3, 0.5),
        ),
        Scenario(
            "camera_offline", "camera", "camera goes offline (last will)", _unchanged, offline=True
        ),
        Scenario(
            "camera_video_loss",
            "camera",
            "no video signal",
            _video_loss,
            events=(("video_loss", "major", "video signal lost"),),
        ),
        Scenario("camera_storage_full", "camera", "recorder storage fills up", _storage_full),
    )
}
