"""The telemetry catalogue's words (ingest/catalogue.py) as a person reads them: each metric's
description and unit in the current language. The catalogue itself stays English (ingest is
below every language); a test keeps this table and it in step."""

from __future__ import annotations

from maintenance.language.catalogue import N_, gettext_

DESCRIPTIONS: dict[str, str] = {
    "motor_current": N_("traction motor current"),
    "vibration": N_("car vibration RMS velocity"),
    "door_cycles": N_("door open/close cycles since commissioning"),
    "trips": N_("trips since commissioning"),
    "door_open_time": N_("duration of the last door opening stroke"),
    "door_close_time": N_("duration of the last door closing stroke"),
    "leveling_error": N_("stop position vs floor level"),
    "cabin_temperature": N_("car temperature"),
    "running": N_("car is moving"),
    "fault_code": N_("controller fault code, 0 = none"),
    "tank_level": N_("storage tank level"),
    "outlet_pressure": N_("pump outlet pressure"),
    "flow": N_("outlet flow"),
    "pump_running": N_("duty pump running"),
    "pump_current": N_("duty pump motor current"),
    "running_hours": N_("pump running hours"),
    "leak_detected": N_("leak sensor wet"),
    "voltage_l1": N_("phase L1 voltage"),
    "voltage_l2": N_("phase L2 voltage"),
    "voltage_l3": N_("phase L3 voltage"),
    "current_l1": N_("phase L1 current"),
    "current_l2": N_("phase L2 current"),
    "current_l3": N_("phase L3 current"),
    "active_power": N_("total active power"),
    "energy": N_("active energy import"),
    "power_factor": N_("total power factor"),
    "frequency": N_("grid frequency"),
    "transformer_temperature": N_("transformer winding temperature"),
    "breaker_closed": N_("main breaker closed"),
    "ups_battery": N_("UPS battery charge"),
    "panel_state": N_("0 normal, 1 alarm, 2 fault, 3 supervisory"),
    "detector_alarms": N_("detectors in alarm now"),
    "sprinkler_pressure": N_("sprinkler main pressure"),
    "fire_pump_running": N_("fire pump running"),
    "panel_battery_voltage": N_("panel standby battery voltage"),
    "online": N_("camera reachable by the recorder"),
    "frame_rate": N_("recorded frame rate"),
    "bitrate": N_("stream bitrate"),
    "storage_used": N_("recorder storage used"),
    "recording": N_("recording active"),
    "video_loss": N_("no video signal"),
    "tamper": N_("tamper detected (covered, moved)"),
}
# Units a person reads: symbols stay symbols (°C rather than degC); words are translated.
UNITS: dict[str, str] = {"degC": "°C", "m3/h": "m³/h", "count": N_("count"), "code": N_("code")}


def metric_said(name: str, fallback: str | None = None) -> str:
    known = DESCRIPTIONS.get(name)
    text = gettext_(known) if known else (fallback or name.replace("_", " "))
    return text[:1].upper() + text[1:]


def unit_said(unit: str) -> str:
    said = UNITS.get(unit, unit)
    return gettext_(said) if said in ("count", "code") else said
