"""The checklist items of the shipped programmes (docs/maintenance-plans.md says where each list
comes from and what could not be confirmed). Items are (key, English, Chinese[, unit]); the
wording is ours, after the standards' tables, not a copy of them."""

from __future__ import annotations

from typing import Any

from maintenance.plans.checklists import item

Rows = tuple[tuple[str, ...], ...]

# TSG T5002-2017 Annex A (traction and positive-drive lifts), A-1: every half-month.
ELEVATOR_HALF_MONTHLY: Rows = (
    (
        "machine_room",
        "Machine room and pulley room: clean, doors and windows, lighting",
        "机房、滑轮间环境：清洁，门窗完好，照明正常",
    ),
    (
        "manual_rescue",
        "Manual emergency operation device in place and complete",
        "手动紧急操作装置：齐全，在指定位置",
    ),
    (
        "traction_machine",
        "Traction machine runs without abnormal vibration or noise",
        "驱动主机：运行时无异常振动和异常声响",
    ),
    ("brake_pins", "Brake pins and pivots move freely", "制动器各销轴部位：动作灵活"),
    (
        "brake_gap",
        "Brake gap: linings clear of the drum when released",
        "制动器间隙：打开时制动衬与制动轮不发生摩擦",
    ),
    ("encoder_clean", "Encoder clean and firmly mounted", "编码器：清洁，安装牢固"),
    (
        "governor_pins",
        "Overspeed governor pins lubricated, turning freely; switch works",
        "限速器各销轴部位：润滑，转动灵活，电气开关正常",
    ),
    ("door_bypass", "Landing and car door bypass device works", "层门和轿门旁路装置：工作正常"),
    ("emergency_electric", "Emergency electrical operation works", "紧急电动运行：工作正常"),
    ("car_top", "Car top clean, balustrade secure", "轿顶：清洁，防护栏安全可靠"),
    (
        "car_top_controls",
        "Car-top inspection switch and stop switch work",
        "轿顶检修开关、停止装置：工作正常",
    ),
    (
        "guide_shoe_oilers",
        "Guide shoe oil cups filled, felts complete, no leaks",
        "导靴上油杯：吸油毛毡齐全，油量适宜，无泄漏",
    ),
    (
        "counterweight",
        "Counterweight filler blocks and clamps tight",
        "对重/平衡重块及其压板：无松动，压板紧固",
    ),
    ("shaft_lighting", "Shaft lighting complete and working", "井道照明：齐全、正常"),
    (
        "car_lighting",
        "Car lighting, fan and emergency lighting work",
        "轿厢照明、风扇、应急照明：工作正常",
    ),
    (
        "car_controls",
        "Car inspection switch and stop switch work",
        "轿厢检修开关、停止装置：工作正常",
    ),
    ("car_alarm", "Car alarm and intercom work", "轿内报警装置、对讲系统：工作正常"),
    (
        "car_panel",
        "Car display, call buttons and card reader work",
        "轿内显示、指令按钮、IC卡系统：齐全、有效",
    ),
    (
        "door_protection",
        "Car door reopening device (edge, light curtain) effective",
        "轿门防撞击保护装置：功能有效",
    ),
    (
        "car_door_contact",
        "Car door lock contacts clean and reliable",
        "轿门门锁电气触点：清洁，接触良好，接线可靠",
    ),
    ("car_door_run", "Car door opens and closes normally", "轿门运行：开启和关闭工作正常"),
    ("leveling", "Leveling accuracy", "轿厢平层准确度：符合标准值", "mm"),
    (
        "landing_calls",
        "Landing call buttons and floor indicators work",
        "层站召唤、层楼显示：齐全、有效",
    ),
    ("sills", "Landing sills clean", "层门地坎：清洁"),
    ("landing_door_closer", "Landing door self-closing device works", "层门自动关门装置：正常"),
    (
        "landing_lock_reset",
        "Landing door lock resets after release with the key",
        "层门门锁自动复位：用钥匙开锁释放后能自动复位",
    ),
    (
        "landing_door_contact",
        "Landing door lock contacts clean and reliable",
        "层门门锁电气触点：清洁，接触良好，接线可靠",
    ),
    (
        "lock_engagement",
        "Landing door lock engagement (at least 7 mm)",
        "层门锁紧元件啮合长度：不小于7mm",
        "mm",
    ),
    ("pit", "Pit clean and dry, lighting works", "底坑环境：清洁，无渗水、积水，照明正常"),
    ("pit_stop", "Pit stop switch works", "底坑停止装置：工作正常"),
)
# every quarter, in addition to A-1.
ELEVATOR_QUARTERLY: Rows = (
    ("gear_oil_level", "Gearbox oil level right, no leaks", "减速机润滑油：油量适宜，无渗漏"),
    (
        "brake_linings",
        "Brake linings clean, wear within the maker's limit",
        "制动衬：清洁，磨损量不超过制造单位要求",
    ),
    ("encoder_function", "Encoder works", "编码器：工作正常"),
    (
        "sheave_ropes",
        "Traction sheave grooves and ropes clean, even tension",
        "曳引轮槽、悬挂装置：清洁，张力均匀",
    ),
    ("governor_rope", "Governor sheave and rope clean", "限速器轮槽、限速器钢丝绳：清洁"),
    (
        "guide_liners",
        "Guide shoe liners and rollers: wear within limits",
        "靴衬、滚轮：清洁，磨损量不超过要求",
    ),
    (
        "car_door_switch",
        "Car door closed safety switch works",
        "验证轿门关闭的电气安全装置：工作正常",
    ),
    (
        "door_drive",
        "Door drive ropes, chains and belts cleaned and adjusted",
        "层门、轿门传动钢丝绳、链条、传动带：清洁、调整",
    ),
    ("door_gibs", "Landing door gibs: wear within limits", "层门门导靴：磨损量不超过要求"),
    ("fire_switch", "Firefighter switch works", "消防开关：工作正常，功能有效"),
    (
        "buffers_oil",
        "Oil buffers: switch works, oil level right, no rust",
        "耗能缓冲器：电气安全装置有效，油量适宜，柱塞无锈蚀",
    ),
    (
        "governor_tension",
        "Governor tensioning pulley and its switch work",
        "限速器张紧轮装置和电气安全装置：工作正常",
    ),
)
# every half-year, in addition to.
ELEVATOR_SEMI_ANNUAL: Rows = (
    ("coupling", "Motor-gearbox coupling tight", "电动机与减速机联轴器：连接无松动"),
    (
        "sheave_bearings",
        "Drive and deflector sheave bearings quiet and lubricated",
        "驱动轮、导向轮轴承部：无异常声响，润滑良好",
    ),
    ("groove_wear", "Traction sheave groove wear within limits", "曳引轮槽：磨损量不超过要求"),
    ("brake_monitor", "Brake monitoring switches work", "制动器上检测开关：工作正常"),
    (
        "controller_terminals",
        "Controller terminals tight and labelled",
        "控制柜内各接线端子：接线紧固，线号清晰",
    ),
    ("controller_meters", "Controller meters read correctly", "控制柜各仪表：显示正确"),
    (
        "pulley_bearings",
        "Shaft, counterweight and car-top pulley bearings quiet",
        "井道、对重、轿顶各反绳轮轴承部：无异常声响",
    ),
    (
        "rope_wear",
        "Suspension and compensation ropes: wear and broken wires within limits",
        "悬挂装置、补偿绳：磨损量、断丝数不超过要求",
    ),
    ("rope_terminations", "Rope terminations: nuts tight", "绳头组合：螺母无松动"),
    (
        "governor_rope_wear",
        "Governor rope: wear and broken wires within limits",
        "限速器钢丝绳：磨损量、断丝数不超过要求",
    ),
    ("door_clearances", "Door panel clearances", "层门、轿门门扇：各间隙符合标准值", "mm"),
    ("door_restrictor", "Car door restrictor works", "轿门开门限制装置：工作正常"),
    ("cw_runby", "Counterweight buffer run-by", "对重缓冲距离：符合标准值", "mm"),
    (
        "compensation_fixings",
        "Compensation chain fixings tight",
        "补偿链（绳）与轿厢、对重接合处：固定，无松动",
    ),
    ("final_limits", "Upper and lower final limit switches work", "上下极限开关：工作正常"),
)
# every year, in addition to.
ELEVATOR_ANNUAL: Rows = (
    (
        "gear_oil_change",
        "Gearbox oil changed as the maker requires",
        "减速机润滑油：按制造单位要求适时更换",
    ),
    (
        "contactors",
        "Controller contactor and relay contacts good",
        "控制柜接触器、继电器触点：接触良好",
    ),
    (
        "brake_core",
        "Brake plunger cleaned, lubricated, wear within limits",
        "制动器铁芯（柱塞）：清洁、润滑，磨损量不超过要求",
    ),
    (
        "brake_springs",
        "Brake spring compression as the maker requires",
        "制动器制动弹簧压缩量：符合要求，制动力足够",
    ),
    (
        "insulation",
        "Insulation resistance of the circuits",
        "导电回路绝缘性能测试：符合标准",
        "Mohm",
    ),
    ("safety_gear_test", "Governor and safety gear linked test", "限速器安全钳联动试验：工作正常"),
    (
        "ascending_overspeed",
        "Ascending car overspeed protection test",
        "上行超速保护装置动作试验：工作正常",
    ),
    ("ucmp", "Unintended car movement protection test", "轿厢意外移动保护装置动作试验：工作正常"),
    (
        "car_bolts",
        "Car top, frame and door fixings tight",
        "轿顶、轿厢架、轿门及附件安装螺栓：紧固",
    ),
    ("rail_brackets", "Guide rail brackets fixed", "导轨支架：固定，无松动"),
    ("rails", "Guide rails clean, clips tight", "导轨：清洁，压板牢固"),
    ("travelling_cable", "Travelling cable undamaged", "随行电缆：无损伤"),
    (
        "landing_doors",
        "Landing door assemblies and sills undeformed, bolts tight",
        "层门装置和地坎：无变形，安装螺栓紧固",
    ),
    ("load_weighing", "Load weighing device accurate", "轿厢称重装置：准确有效"),
    ("buffers_fixed", "Buffers firmly fixed", "缓冲器：固定，无松动"),
)
ELEVATOR_AUTHORITY: Rows = (
    (
        "application",
        "Periodic inspection applied for at the inspection body",
        "已向检验机构申报定期检验",
    ),
    (
        "self_inspection",
        "Maintenance company's self-inspection report ready",
        "维保单位自检报告已备",
    ),
    (
        "certificate",
        "New inspection certificate posted in the car; ledger date updated",
        "新的安全检验合格标志已张贴于轿厢，台账日期已更新",
    ),
)
FIRE_CONTROL_ROOM_DAILY: Rows = (
    (
        "panel_self_test",
        "Fire alarm panel self-test, silence and reset work",
        "火灾报警控制器自检、消音、复位功能正常",
    ),
    ("power_supplies", "Main and standby power supplies normal", "主电源、备用电源工作正常"),
    ("linkage_mode", "Linkage controller in automatic mode", "消防联动控制器处于自动状态"),
    (
        "pump_fan_panels",
        "Fire pump and smoke fan control panels in automatic",
        "消防水泵、防排烟风机控制柜处于自动位置",
    ),
    ("water_reserve", "Fire water tank and reservoir levels normal", "消防水池、水箱水位正常"),
    ("duty_log", "Two operators on duty; duty log written", "双人值班，值班记录已填写"),
)
FIRE_MONTHLY: Rows = (
    (
        "panel_faults",
        "Fire panel: no faults, event log reviewed",
        "消防主机：无故障，已查看事件记录",
    ),
    (
        "detectors",
        "A batch of detectors and manual call points tested",
        "分批测试探测器和手动报警按钮",
    ),
    ("sprinkler_pressure", "Sprinkler main pressure", "喷淋主管压力", "MPa"),
    ("fire_pump", "Fire pump and jockey pump start test", "消防水泵、稳压泵启动试验"),
    ("hydrants", "Hydrants, hoses and nozzles complete", "消火栓、水带、水枪齐全完好"),
    ("extinguishers", "Extinguishers in date, pressure in the green", "灭火器在有效期内，压力正常"),
    (
        "emergency_lighting",
        "Emergency lighting and exit signs work",
        "应急照明和疏散指示标志工作正常",
    ),
    (
        "fire_doors",
        "Fire doors close and latch; escape routes clear",
        "防火门能自行关闭；疏散通道畅通",
    ),
    ("smoke_control", "Smoke extraction and pressurisation fans start", "防排烟风机启动正常"),
)
FIRE_ANNUAL: Rows = (
    (
        "alarm_system",
        "Fire alarm system: every detector zone and call point tested",
        "火灾自动报警系统：各报警区域、手动报警按钮全面测试",
    ),
    (
        "linkage",
        "Linkage: fans, dampers, shutters, lifts to ground, broadcast",
        "联动功能：风机、防火阀、防火卷帘、电梯迫降、消防广播",
    ),
    (
        "sprinklers",
        "Sprinkler system: test valve, alarm valve, flow switches",
        "自动喷水灭火系统：末端试水、报警阀、水流指示器",
    ),
    (
        "hydrant_flow",
        "Hydrant system pressure and flow at the highest outlet",
        "消火栓系统：最不利点压力和流量",
        "MPa",
    ),
    (
        "pumps_changeover",
        "Fire pumps: duty/standby and power changeover",
        "消防水泵：主备泵及主备电源切换",
    ),
    (
        "report",
        "Test report by a qualified testing body filed",
        "具有资质的检测机构出具的检测报告已存档",
    ),
)
WATER_TANK_CLEANING: Rows = (
    ("drain_clean", "Tank drained, walls and floor cleaned", "水箱排空，内壁及底部清洗"),
    ("disinfect", "Disinfected and flushed", "消毒并冲洗"),
    (
        "covers_nets",
        "Cover locked, vents and overflow screened",
        "水箱加盖加锁，通气管、溢流管防护网完好",
    ),
    (
        "cleaner_licence",
        "Cleaner's hygiene licence and staff health certificates checked",
        "清洗单位卫生许可及人员健康证已核验",
    ),
    ("sample", "Water sampled after refilling; result filed", "注水后采样检测，结果存档"),
)
WATER_QUALITY: Rows = (
    ("turbidity", "Turbidity", "浑浊度", "NTU"),
    ("residual_chlorine", "Residual chlorine", "余氯", "mg/L"),
    ("bacteria", "Total bacteria and coliforms within GB 5749", "菌落总数、总大肠菌群符合 GB 5749"),
    ("published", "Result published to the residents", "检测结果已向用户公示"),
)
LIGHTNING: Rows = (
    ("air_terminals", "Air terminals (rods, tapes) intact and connected", "接闪器：完好，连接可靠"),
    (
        "down_conductors",
        "Down conductors intact, fixed, not corroded",
        "引下线：完好，固定，无锈蚀",
    ),
    ("earth_resistance", "Earthing resistance", "接地电阻", "ohm"),
    ("bonding", "Equipotential bonding continuous", "等电位连接：导通良好"),
    (
        "spd",
        "Surge protective devices: status windows and leakage normal",
        "电涌保护器：状态指示及泄漏电流正常",
    ),
    (
        "report",
        "Report by a qualified testing body filed",
        "具有资质的检测机构出具的检测报告已存档",
    ),
)


def items(rows: Rows) -> list[dict[str, Any]]:
    return [item(key, (english, chinese), *unit) for key, english, chinese, *unit in rows]
