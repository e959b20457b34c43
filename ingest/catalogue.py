"""The five systems and the metric catalogue of the telemetry contract (docs/telemetry.md).

The catalogue documents units and sane ranges. The collector does not reject a value outside
its range (that is what alarms are for) nor an unknown metric (devices differ); rules and the
docs use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

SYSTEMS: tuple[str, ...] = ("elevator", "water", "power", "fire", "camera")
System = Literal["elevator", "water", "power", "fire", "camera"]


@dataclass(slots=True, frozen=True)
class Metric:
    name: str
    unit: str
    low: float | None  # sane range; None for booleans and open-ended counters
    high: float | None
    description: str
    kind: Literal["gauge", "counter", "flag", "state"] = "gauge"


def _m(
    name: str,
    unit: str,
    low: float | None,
    high: float | None,
    description: str,
    kind: Literal["gauge", "counter", "flag", "state"] = "gauge",
) -> Metric:
    return Metric(name, unit, low, high, description, kind)


CATALOGUE: dict[str, tuple[Metric, ...]] = {
    "elevator": (
        _m("motor_current", "A", 0, 120, "traction motor current"),
        _m("vibration", "mm/s", 0, 20, "car vibration RMS velocity"),
        _m(
            "door_cycles", "count", 0, None, "door open/close cycles since commissioning", "counter"
        ),
        _m("trips", "count", 0, None, "trips since commissioning", "counter"),
        _m("door_open_time", "s", 0, 10, "duration of the last door opening stroke"),
        _m("door_close_time", "s", 0, 10, "duration of the last door closing stroke"),
        _m("leveling_error", "mm", -50, 50, "stop position vs floor level"),
        _m("cabin_temperature", "degC", -10, 50, "car temperature"),
        _m("running", "bool", None, None, "car is moving", "flag"),
        _m("fault_code", "code", 0, 999, "controller fault code, 0 = none", "state"),
    ),
    "water": (
        _m("tank_level", "%", 0, 100, "storage tank level"),
        _m("outlet_pressure", "bar", 0, 16, "pump outlet pressure"),
        _m("flow", "m3/h", 0, 200, "outlet flow"),
        _m("pump_running", "bool", None, None, "duty pump running", "flag"),
        _m("pump_current", "A", 0, 100, "duty pump motor current"),
        _m("running_hours", "h", 0, None, "pump running hours", "counter"),
        _m("leak_detected", "bool", None, None, "leak sensor wet", "flag"),
    ),
    "power": (
        _m("voltage_l1", "V", 180, 260, "phase L1 voltage"),
        _m("voltage_l2", "V", 180, 260, "phase L2 voltage"),
        _m("voltage_l3", "V", 180, 260, "phase L3 voltage"),
        _m("current_l1", "A", 0, 2000, "phase L1 current"),
        _m("current_l2", "A", 0, 2000, "phase L2 current"),
        _m("current_l3", "A", 0, 2000, "phase L3 current"),
        _m("active_power", "kW", 0, 2000, "total active power"),
        _m("energy", "kWh", 0, None, "active energy import", "counter"),
        _m("power_factor", "1", 0, 1, "total power factor"),
        _m("frequency", "Hz", 45, 65, "grid frequency"),
        _m("transformer_temperature", "degC", -10, 150, "transformer winding temperature"),
        _m("breaker_closed", "bool", None, None, "main breaker closed", "flag"),
        _m("ups_battery", "%", 0, 100, "UPS battery charge"),
    ),
    "fire": (
        _m("panel_state", "code", 0, 3, "0 normal, 1 alarm, 2 fault, 3 supervisory", "state"),
        _m("detector_alarms", "count", 0, 500, "detectors in alarm now"),
        _m("sprinkler_pressure", "bar", 0, 16, "sprinkler main pressure"),
        _m("fire_pump_running", "bool", None, None, "fire pump running", "flag"),
        _m("panel_battery_voltage", "V", 0, 30, "panel standby battery voltage"),
    ),
    "camera": (
        _m("online", "bool", None, None, "camera reachable by the recorder", "flag"),
        _m("frame_rate", "fps", 0, 60, "recorded frame rate"),
        _m("bitrate", "kbit/s", 0, 20000, "stream bitrate"),
        _m("storage_used", "%", 0, 100, "recorder storage used"),
        _m("recording", "bool", None, None, "recording active", "flag"),
        _m("video_loss", "bool", None, None, "no video signal", "flag"),
        _m("tamper", "bool", None, None, "tamper detected (covered, moved)", "flag"),
    ),
}

FIRE_PANEL_STATES = {0: "normal", 1: "alarm", 2: "fault", 3: "supervisory"}
