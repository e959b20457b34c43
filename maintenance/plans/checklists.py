"""Checklist templates per system: what a comprehensive inspection or a camera check covers.

Each item says itself in English and Chinese. An item is `pass_fail` (pass / fail / not
applicable) or a `reading` with a unit; every item takes
notes and a photo when the technician records it.
"""

from __future__ import annotations

from typing import Any


def item(key: str, texts: tuple[str, str], unit: str | None = None) -> dict[str, Any]:
    """`text` in English (what older readers and the API show), `texts` per language (what the
    console shows its reader, docs/i18n.md)."""
    english, chinese = texts
    return {
        "key": key,
        "text": english,
        "texts": {"en": english, "zh-CN": chinese},
        "kind": "reading" if unit else "pass_fail",
        "unit": unit,
    }


CHECKLISTS: dict[str, list[dict[str, Any]]] = {
    "elevator": [
        item(
            "doors",
            ("Door operation, reopening device and door locks", "门系统运行、防夹装置及门锁"),
        ),
        item("door_close_time", ("Door closing time", "关门时间"), "s"),
        item("brake", ("Brake function and wear", "制动器功能及磨损")),
        item("ropes", ("Suspension ropes and terminations", "曳引钢丝绳及绳头组合")),
        item("leveling", ("Leveling accuracy at every landing", "各层站平层精度"), "mm"),
        item(
            "alarm",
            ("Car alarm button and intercom to the control room", "轿厢报警按钮及与监控室的对讲"),
        ),
        item("emergency_light", ("Car emergency lighting", "轿厢应急照明")),
        item(
            "machine_room",
            ("Machine room: cleanliness, ventilation, signage", "机房：清洁、通风、标识"),
        ),
    ],
    "water": [
        item("pump_run", ("Duty and standby pump changeover", "主备泵切换")),
        item("outlet_pressure", ("Outlet pressure at duty flow", "额定流量下的出水压力"), "bar"),
        item("pump_current", ("Pump motor current", "水泵电机电流"), "A"),
        item("leaks", ("Valves, seals and pipework free of leaks", "阀门、密封及管道无渗漏")),
        item("tank", ("Tank cover, overflow and level sensor", "水箱盖、溢流管及液位传感器")),
        item("water_quality", ("Water tank cleaning and quality record", "水箱清洗及水质记录")),
    ],
    "power": [
        item(
            "switchgear", ("Switchgear: thermal scan, no hot spots", "开关柜：红外测温，无过热点")
        ),
        item(
            "transformer_temperature",
            ("Transformer temperature at load", "带载时变压器温度"),
            "degC",
        ),
        item("breakers", ("Breaker operation test", "断路器动作试验")),
        item("earthing", ("Earthing resistance", "接地电阻"), "ohm"),
        item("ups", ("UPS battery test and autonomy", "UPS 电池测试及续航时间")),
        item("generator", ("Standby generator start and transfer", "备用发电机启动及切换")),
    ],
    "fire": [
        item(
            "panel",
            ("Fire panel: no faults, event log reviewed", "消防主机：无故障，已查看事件记录"),
        ),
        item("detectors", ("Sample of detectors tested", "抽检探测器")),
        item("sprinkler_pressure", ("Sprinkler main pressure", "喷淋主管压力"), "bar"),
        item("fire_pump", ("Fire pump start test", "消防泵启动试验")),
        item("battery", ("Panel standby battery voltage", "主机备用电池电压"), "V"),
        item(
            "extinguishers",
            (
                "Extinguishers and hydrants in date and accessible",
                "灭火器及消火栓在有效期内且取用无阻",
            ),
        ),
        item(
            "exits",
            ("Escape routes and exit signs clear and lit", "疏散通道畅通，安全出口标志完好明亮"),
        ),
    ],
    "camera": [
        item("image", ("Image clear, correctly aimed, day and night", "昼夜图像清晰，角度正确")),
        item(
            "recording",
            ("Recording continuous; retention as required", "录像连续，保存时间符合要求"),
        ),
        item("storage", ("Recorder storage used", "录像机存储占用"), "%"),
        item("time", ("Recorder clock correct", "录像机时钟准确")),
        item(
            "housing",
            (
                "Housing, lens and mounting intact (no tamper)",
                "防护罩、镜头及支架完好（无遮挡破坏）",
            ),
        ),
    ],
}
