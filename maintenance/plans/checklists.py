"""Checklist templates per system: what a comprehensive inspection or a camera check covers.

An item is `pass_fail` (pass / fail / not applicable) or a `reading` with a unit; every item takes
notes and a photo when the technician records it.
"""

from __future__ import annotations

from typing import Any


def _item(key: str, text: str, unit: str | None = None) -> dict[str, Any]:
    return {"key": key, "text": text, "kind": "reading" if unit else "pass_fail", "unit": unit}


CHECKLISTS: dict[str, list[dict[str, Any]]] = {
    "elevator": [
        _item("doors", "Door operation, reopening device and door locks"),
        _item("door_close_time", "Door closing time", "s"),
        _item("brake", "Brake function and wear"),
        _item("ropes", "Suspension ropes and terminations"),
        _item("leveling", "Leveling accuracy at every landing", "mm"),
        _item("alarm", "Car alarm button and intercom to the control room"),
        _item("emergency_light", "Car emergency lighting"),
        _item("machine_room", "Machine room: cleanliness, ventilation, signage"),
    ],
    "water": [
        _item("pump_run", "Duty and standby pump changeover"),
        _item("outlet_pressure", "Outlet pressure at duty flow", "bar"),
        _item("pump_current", "Pump motor current", "A"),
        _item("leaks", "Valves, seals and pipework free of leaks"),
        _item("tank", "Tank cover, overflow and level sensor"),
        _item("water_quality", "Water tank cleaning and quality record"),
    ],
    "power": [
        _item("switchgear", "Switchgear: thermal scan, no hot spots"),
        _item("transformer_temperature", "Transformer temperature at load", "degC"),
        _item("breakers", "Breaker operation test"),
        _item("earthing", "Earthing resistance", "ohm"),
        _item("ups", "UPS battery test and autonomy"),
        _item("generator", "Standby generator start and transfer"),
    ],
    "fire": [
        _item("panel", "Fire panel: no faults, event log reviewed"),
        _item("detectors", "Sample of detectors tested"),
        _item("sprinkler_pressure", "Sprinkler main pressure", "bar"),
        _item("fire_pump", "Fire pump start test"),
        _item("battery", "Panel standby battery voltage", "V"),
        _item("extinguishers", "Extinguishers and hydrants in date and accessible"),
        _item("exits", "Escape routes and exit signs clear and lit"),
    ],
    "camera": [
        _item("image", "Image clear, correctly aimed, day and night"),
        _item("recording", "Recording continuous; retention as required"),
        _item("storage", "Recorder storage used", "%"),
        _item("time", "Recorder clock correct"),
        _item("housing", "Housing, lens and mounting intact (no tamper)"),
    ],
}
