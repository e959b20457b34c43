"""Sources: the file's validation, and every format decoded from its published payloads into the
same readings, statuses and dead letters as the native path."""

from __future__ import annotations

import time
from pathlib import Path

import orjson
import pytest

from ingest.payloads import PayloadLimits
from ingest.readings import DeadLetter, DeviceAttributes, DeviceKey, DeviceStatus, Reading
from ingest.sources.formats import sparkplug_b_pb2 as pb
from ingest.sources.formats.sparkplug import REBIRTH
from ingest.sources.router import SourceRouter
from ingest.sources.sourcefile import SourceFile, SourceFileError, parse_sources
from ingest.store.base import Point
from ingest.store.lineprotocol import encode_point

NOW = int(time.time() * 1000)
SITE = "tower-a"


def router(text: str) -> tuple[SourceRouter, list[tuple[str, bytes]]]:
    r = SourceRouter(parse_sources(text), PayloadLimits())
    sent: list[tuple[str, bytes]] = []
    r.publish = lambda topic, payload: sent.append((topic, payload))
    return r, sent


def parse(r: SourceRouter, topic: str, payload: object) -> list[object]:
    raw = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    return list(r.parse(topic.encode(), raw, NOW))


def key(system: str, device: str) -> DeviceKey:
    return DeviceKey(SITE, system, device)


# -- the file ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (
            "sources: []\n",
            "<s>:1: sources: List should have at least 1 item after validation, not 0",
        ),
        (
            "sources:\n  - name: a\n    format: modbus\n",
            "<s>:3: sources.0.format: Input should be 'facility', 'thingsboard-gateway', "
            "'thingsboard-device', 'sparkplug-b', 'neuron', 'influx-line' or 'json'",
        ),
        (
            "sources:\n  - name: a\n    format: json\n    topics: [x/#]\n",
            "<s>:2: sources.0: json: required for the json format (field paths)",
        ),
        (
            "sources:\n  - name: a\n    format: neuron\n    system: lifts\n",
            "<s>:4: sources.0.system: unknown system 'lifts'; expected one of elevator, water, "
            "power, fire, camera",
        ),
        (
            "sources:\n  - name: a\n    format: neuron\n    topics: ['a/#/b']\n",
            "<s>:4: sources.0.topics: 'a/#/b': '#' must be the last level",
        ),
        (
            "sources:\n  - name: a\n    format: neuron\n    metrics:\n"
            "      '40001': {name: 'a b'}\n",
            "<s>:5: sources.0.metrics.40001.name: 'a b' is not a safe metric name",
        ),
        (
            "sources:\n  - name: a\n    format: json\n    topics: [x]\n    json:\n"
            "      metrics: {flow: 'a[['}\n",
            "<s>:6: sources.0.json: 'a[[' is not a JMESPath expression (error at column 2)",
        ),
        (
            "sources:\n  - name: a\n    format: neuron\n  - name: a\n    format: neuron\n",
            "<s>:4: sources.1.name: 'a' repeats",
        ),
        ("sources:\n  - name: [\n", None),
    ],
)
def test_a_bad_sources_file_names_the_file_line_field_and_reason(
    text: str, error: str | None
) -> None:
    with pytest.raises(SourceFileError) as caught:
        parse_sources(text, "<s>")
    if error is None:
        assert str(caught.value).startswith("<s>:3: not valid YAML")
    else:
        assert str(caught.value) == error


def test_the_sources_file_reloads_and_a_bad_version_keeps_the_last_good_one(
    tmp_path: Path,
) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text("sources:\n  - name: a\n    format: neuron\n")
    file = SourceFile(path)
    r = SourceRouter(file.load(), PayloadLimits(), source_file=file, reload_every_s=0)
    assert [s.name for s in r.sources] == ["a"]
    path.write_text("sources:\n  - name: b\n    format: bogus\n")
    r.parse(b"/neuron/x", b"{}", NOW)
    assert [s.name for s in r.sources] == ["a"]
    path.write_text("sources:\n  - name: c\n    format: neuron\n    site: s\n")
    r.parse(b"/neuron/x", b"{}", NOW)
    assert [(s.name, s.site) for s in r.sources] == [("c", "s")]


# -- ThingsBoard ---------------------------------------------------------------------------

TB = f"""
sources:
  - name: plant
    format: thingsboard-gateway
    site: {SITE}
    system: water
    devices:
      "Pump 1": {{device_id: pump-1}}
      gateway: {{device_id: tb-gw}}
    metrics:
      Pump1_Current_A: pump_current
      "40001": {{name: outlet_pressure, scale: 0.01}}
"""


def test_thingsboard_gateway_shapes_become_readings_and_statuses() -> None:
    r, sent = router(TB)
    assert parse(r, "v1/gateway/connect", {"device": "Pump 1", "type": "default"}) == [
        DeviceStatus(key("water", "pump-1"), True, NOW)
    ]
    telemetry = {
        "Pump 1": [
            {"ts": NOW - 1000, "values": {"Pump1_Current_A": 12, "40001": 350}},
            {"Pump1_Current_A": 13.5},
        ]
    }
    assert parse(r, "v1/gateway/telemetry", telemetry) == [
        Reading(
            key("water", "pump-1"), NOW - 1000, None, {"pump_current": 12.0, "outlet_pressure": 3.5}
        ),
        Reading(key("water", "pump-1"), NOW, None, {"pump_current": 13.5}),
    ]
    assert parse(r, "v1/gateway/attributes", {"Pump 1": {"running_hours": 7}}) == [
        Reading(key("water", "pump-1"), NOW, None, {"running_hours": 7.0})
    ]
    assert parse(r, "v1/devices/me/telemetry", {"ts": NOW, "values": {"eventsProduced": 4}}) == [
        Reading(key("water", "tb-gw"), NOW, None, {"eventsProduced": 4.0})
    ]
    assert parse(r, "v1/gateway/disconnect", {"device": "Pump 1"}) == [
        DeviceStatus(key("water", "pump-1"), False, NOW)
    ]
    assert sent == []


def test_the_gateways_session_limits_request_is_answered_as_thingsboard_would() -> None:
    r, sent = router(TB)
    request = {"method": "getSessionLimits", "params": {"timeout": 5000}}
    assert parse(r, "v1/devices/me/rpc/request/7", request) == []
    assert [t for t, _ in sent] == ["v1/devices/me/rpc/response/7"]
    answer = orjson.loads(sent[0][1])
    assert answer["maxPayloadSize"] == 16_384
    assert answer["rateLimits"] == {
        "messages": "",
        "telemetryMessages": "",
        "telemetryDataPoints": "",
    }


def test_bad_thingsboard_parts_are_dead_letters_and_the_rest_survives() -> None:
    r, _ = router(TB)
    items = parse(
        r,
        "v1/gateway/telemetry",
        {"Pump 1": [{"Pump1_Current_A": 1, "state": None}, {"ts": "yesterday", "values": {}}]},
    )
    assert items[0] == Reading(key("water", "pump-1"), NOW, None, {"pump_current": 1.0})
    assert [i.reason for i in items[1:] if isinstance(i, DeadLetter)] == [
        "source plant: device 'Pump 1' metric 'state': not a number, flag or text",
        "source plant: device 'Pump 1': time: 'yesterday' is not an RFC 3339 timestamp",
    ]
    (letter,) = parse(r, "v1/gateway/telemetry", b"{not json")
    assert isinstance(letter, DeadLetter) and letter.reason.startswith("source plant: invalid JSON")
    (letter,) = parse(r, "v1/gateway/connect", {"name": "x"})
    assert isinstance(letter, DeadLetter)
    assert letter.reason == 'source plant: connect: needs {"device": "<name>"}'


def test_text_values_are_device_attributes_not_dead_letters() -> None:
    """A connector's name, a firmware version, a text state: the device's attributes (the newest
    value per name, in the device registry), renamed as metrics are, never dead letters."""
    r, _ = router(TB + "      connectorName: connector\n")
    telemetry = {"Pump 1": [{"ts": NOW - 5, "values": {"Pump1_Current_A": 2, "state": "run"}}]}
    assert parse(r, "v1/gateway/telemetry", telemetry) == [
        Reading(key("water", "pump-1"), NOW - 5, None, {"pump_current": 2.0}),
        DeviceAttributes(key("water", "pump-1"), NOW - 5, {"state": "run"}),
    ]
    attributes = {"Pump 1": {"connectorName": "Modbus TCP", "firmware": "v2.1"}}
    assert parse(r, "v1/gateway/attributes", attributes) == [
        DeviceAttributes(
            key("water", "pump-1"), NOW, {"connector": "Modbus TCP", "firmware": "v2.1"}
        )
    ]
    (letter,) = parse(r, "v1/gateway/attributes", {"Pump 1": {"40001": "n/a"}})
    assert isinstance(letter, DeadLetter)  # mapped with a scale: a number was meant
    assert (
        letter.reason == "source plant: metric '40001': text 'n/a' where the source scales a number"
    )
    (letter,) = parse(r, "v1/gateway/attributes", {"Pump 1": {"notes": "x" * 257}})
    assert isinstance(letter, DeadLetter)
    assert letter.reason == (
        "source plant: device 'Pump 1' metric 'notes': text of 257 characters; the limit is 256"
    )
    (held,) = parse(r, "v1/gateway/attributes", {"Fan 3": {"firmware": "v1"}})
    assert isinstance(held, DeadLetter) and held.reason == "unmapped device"
    assert orjson.loads(held.payload) == {
        "source": "plant", "device": "Fan 3", "ts": NOW, "attributes": {"firmware": "v1"}
    }  # fmt: skip


def test_sparkplug_string_metrics_are_attributes() -> None:
    r, _ = router(SPB)
    text = {"name": "Firmware", "alias": 7, "datatype": pb.String, "string_value": "3.2.1"}
    assert parse(r, "spBv1.0/plant/NBIRTH/node1", spb(0, double(5, 1, "uptime"), text)) == [
        DeviceStatus(key("water", "node-1"), True, NOW),
        Reading(key("water", "node-1"), NOW, None, {"uptime": 5.0}),
        DeviceAttributes(key("water", "node-1"), NOW, {"Firmware": "3.2.1"}),
    ]
    by_alias = {"alias": 7, "string_value": "3.2.2"}  # the birth gave its type
    assert parse(r, "spBv1.0/plant/NDATA/node1", spb(1, by_alias)) == [
        DeviceAttributes(key("water", "node-1"), NOW, {"Firmware": "3.2.2"})
    ]


def test_an_unmapped_gateway_device_is_held_not_stored_under_a_guessed_name() -> None:
    r, _ = router(TB)
    items = parse(r, "v1/gateway/telemetry", {"Pump 1": [{"40001": 100}], "Fan 3": [{"rpm": 900}]})
    assert items[0] == Reading(key("water", "pump-1"), NOW, None, {"outlet_pressure": 1.0})
    held = items[1]
    assert isinstance(held, DeadLetter) and held.reason == "unmapped device"
    assert orjson.loads(held.payload) == {
        "source": "plant",
        "device": "Fan 3",
        "ts": NOW,
        "metrics": {"rpm": 900.0},
    }
    assert r.replay(held, NOW) is None  # still unmapped
    ledger = {"Fan-3": key("water", "Fan-3")}
    mapped = SourceRouter(
        parse_sources(
            TB.replace(
                "gateway: {device_id: tb-gw}",
                'gateway: {device_id: tb-gw}\n      "Fan 3": {device_id: fan-3}',
            )
        ),
        PayloadLimits(),
        ledger=lambda device_id, site: ledger.get(device_id),
    )
    assert mapped.replay(held, NOW + 5) == [
        Reading(key("water", "fan-3"), NOW, None, {"rpm": 900.0})
    ]


def test_a_device_is_found_by_an_assets_device_id_in_the_ledger() -> None:
    assets = {("pump-7", SITE): key("water", "pump-7")}
    r = SourceRouter(
        parse_sources(TB), PayloadLimits(), ledger=lambda d, site: assets.get((d, site or ""))
    )
    assert parse(r, "v1/gateway/telemetry", {"pump-7": [{"40001": 200}]}) == [
        Reading(key("water", "pump-7"), NOW, None, {"outlet_pressure": 2.0})
    ]


def test_thingsboard_device_api_names_the_device_by_a_topic_level() -> None:
    r, sent = router(
        "sources:\n  - name: dev\n    format: thingsboard-device\n"
        "    topics: [tb/+/v1/devices/me/#]\n"
        f"    device_level: 1\n    site: {SITE}\n    system: power\n"
        "    devices: {A1_TOKEN: {device_id: meter-1}}\n"
    )
    assert parse(r, "tb/A1_TOKEN/v1/devices/me/telemetry", {"voltage_l1": 231}) == [
        Reading(key("power", "meter-1"), NOW, None, {"voltage_l1": 231.0})
    ]
    parse(r, "tb/A1_TOKEN/v1/devices/me/rpc/request/1", {"method": "getSessionLimits"})
    assert [t for t, _ in sent] == ["tb/A1_TOKEN/v1/devices/me/rpc/response/1"]


# -- Neuron (payloads as in Neuron's MQTT documentation) -----------------------------------

NEURON = f"""
sources:
  - name: plant-room
    format: neuron
    site: {SITE}
    system: water
    devices: {{modbus-plus-tcp-1: {{device_id: pump-2}}}}
    metrics: {{tag0: pump_current, tag1: {{name: outlet_pressure, scale: 0.1}}}}
"""


def test_neuron_values_form_with_errors() -> None:
    r, _ = router(NEURON)
    doc = {
        "node": "modbus-plus-tcp-1",
        "group": "group-1",
        "timestamp": NOW,
        "values": {"tag0": 0, "tag1": 1},
        "errors": {"tag2": 2014},
    }
    items = parse(r, "/neuron/mqtt-1", doc)
    assert items[0] == Reading(
        key("water", "pump-2"), NOW, None, {"pump_current": 0.0, "outlet_pressure": 0.1}
    )
    assert isinstance(items[1], DeadLetter)
    assert (
        items[1].reason
        == "source plant-room: neuron modbus-plus-tcp-1: tag 'tag2': error code 2014"
    )
    assert len(items) == 2


def test_neuron_tags_form_and_heartbeat() -> None:
    r, _ = router(NEURON)
    doc = {
        "node": "modbus-plus-tcp-1",
        "group": "group-1",
        "timestamp": NOW,
        "tags": [{"name": "tag0", "value": 4}, {"name": "tag1", "error": 2014}],
    }
    items = parse(r, "/neuron/mqtt-1", doc)
    assert items[0] == Reading(key("water", "pump-2"), NOW, None, {"pump_current": 4.0})
    assert isinstance(items[1], DeadLetter) and items[1].reason.endswith(
        "tag 'tag1': error code 2014"
    )
    heartbeat = {
        "timestamp": NOW,
        "states": [{"node": "modbus-plus-tcp-1", "link": 0, "running": 3}],
    }
    assert parse(r, "/neuron/mqtt-1/heartbeat", heartbeat) == [
        DeviceStatus(key("water", "pump-2"), False, NOW)
    ]


# -- line protocol (written by the line-protocol encoder of our own InfluxDB writer) -------

LINE = f"""
sources:
  - name: telegraf
    format: influx-line
    site: {SITE}
    system: power
    line: {{device_tag: host, precision: ns}}
    devices: {{"meter 1,a=b": {{device_id: meter-1}}}}
    metrics: {{"volt l1": voltage_l1}}
"""


def test_line_protocol_with_escaped_spaces_commas_and_equals() -> None:
    r, _ = router(LINE)
    point = Point(
        "modbus, meters",
        (("host", "meter 1,a=b"), ("slave id", "1")),
        {"volt l1": 230.5, "energy": 12, "breaker_closed": True},
        NOW,
    )
    line = encode_point(point)
    assert "\\ " in line and "\\," in line and "\\=" in line
    ns = line.rsplit(" ", 1)[0] + f" {NOW * 1_000_000}"
    items = parse(r, "telegraf/meter/modbus", (ns + "\n" + ns.replace("230.5", "231.5")).encode())
    assert items == [
        Reading(
            key("power", "meter-1"),
            NOW,
            None,
            {"voltage_l1": 230.5, "energy": 12.0, "breaker_closed": True},
        ),
        Reading(
            key("power", "meter-1"),
            NOW,
            None,
            {"voltage_l1": 231.5, "energy": 12.0, "breaker_closed": True},
        ),
    ]


def test_a_line_protocol_syntax_error_loses_only_its_line() -> None:
    r, _ = router(LINE)
    good = f"modbus,host=meter\\ 1\\,a\\=b energy=5 {NOW * 1_000_000}"
    items = parse(r, "telegraf/x", f"{good}\nmodbus,host=x energy=\n{good}".encode())
    assert [type(i).__name__ for i in items] == ["Reading", "DeadLetter", "Reading"]
    assert isinstance(items[1], DeadLetter)
    assert (
        items[1].reason == "source telegraf: line protocol: line 2: Failed to parse value of field."
    )


# -- mapped JSON ---------------------------------------------------------------------------

JSON = f"""
sources:
  - name: bms
    format: json
    topics: [bms/+/report]
    site: {SITE}
    system: elevator
    devices: {{"LIFT-A": {{device_id: lift-a}}}}
    json:
      records: "data[]"
      device: "meta.unit"
      time: "at"
      time_unit: s
      metrics: {{motor_current: "i.motor", door_close_time: "door.close_ms"}}
    metrics: {{door_close_time: {{name: door_close_time, scale: 0.001}}}}
"""


def test_mapped_json_with_paths_records_and_unit_factors() -> None:
    r, _ = router(JSON)
    doc = {
        "data": [
            {
                "meta": {"unit": "LIFT-A"},
                "at": NOW / 1000,
                "i": {"motor": 31.5},
                "door": {"close_ms": 2400},
            },
            {"meta": {"unit": "LIFT-A"}, "at": NOW / 1000, "i": {"motor": 30}},
            {"meta": {}, "at": NOW / 1000, "i": {"motor": 1}},
        ]
    }
    items = parse(r, "bms/1/report", doc)
    assert items[0] == Reading(
        key("elevator", "lift-a"), NOW, None, {"motor_current": 31.5, "door_close_time": 2.4}
    )
    assert items[1] == Reading(key("elevator", "lift-a"), NOW, None, {"motor_current": 30.0})
    reasons = [i.reason for i in items[2:] if isinstance(i, DeadLetter)]
    assert reasons == [
        "source bms: record 1: json path 'door.close_ms' (door_close_time) found nothing",
        "source bms: record 2: json path 'meta.unit' found no device name",
    ]


# -- Sparkplug B (payloads encoded with the published schema; a real edge node in integration) --

SPB = f"""
sources:
  - name: edge
    format: sparkplug-b
    site: {SITE}
    system: water
    devices:
      plant/node1: {{device_id: node-1}}
      plant/node1/pump1: {{device_id: pump-1}}
"""


def spb(seq: int | None, *metrics: dict[str, object]) -> bytes:
    payload = pb.Payload(timestamp=NOW)
    if seq is not None:
        payload.seq = seq
    for m in metrics:
        payload.metrics.add(**m)
    return payload.SerializeToString()


def double(value: float, alias: int, name: str | None = None) -> dict[str, object]:
    m: dict[str, object] = {"alias": alias, "datatype": pb.Double, "double_value": value}
    return {**m, "name": name} if name else m


def test_sparkplug_birth_aliases_sequence_gap_and_death() -> None:
    r, sent = router(SPB)
    bd = {"name": "bdSeq", "datatype": pb.Int64, "long_value": 0}
    nbirth = spb(
        0,
        bd,
        double(5, 1, "uptime"),
        {"name": "temp", "alias": 9, "datatype": pb.Int16, "int_value": 65535},
    )
    assert parse(r, "spBv1.0/plant/NBIRTH/node1", nbirth) == [
        DeviceStatus(key("water", "node-1"), True, NOW),
        Reading(key("water", "node-1"), NOW, None, {"uptime": 5.0, "temp": -1.0}),
    ]
    dbirth = spb(1, double(10, 2, "pump_current"), double(50, 3, "flow"))
    parse(r, "spBv1.0/plant/DBIRTH/node1/pump1", dbirth)
    # by alias only, without the datatype: the birth gave both
    ddata = spb(2, {"alias": 2, "double_value": 11.0}, {"alias": 3, "double_value": 52.0})
    assert parse(r, "spBv1.0/plant/DDATA/node1/pump1", ddata) == [
        Reading(key("water", "pump-1"), NOW, None, {"pump_current": 11.0, "flow": 52.0})
    ]
    assert sent == []
    items = parse(r, "spBv1.0/plant/DDATA/node1/pump1", spb(5, double(12, 2)))
    assert isinstance(items[0], DeadLetter)
    assert items[0].reason == (
        "source edge: sparkplug: sequence gap on plant/node1: expected 3, got 5; rebirth requested"
    )
    assert items[1] == Reading(key("water", "pump-1"), NOW, None, {"pump_current": 12.0})
    ((topic, payload),) = sent
    assert topic == "spBv1.0/plant/NCMD/node1"
    (command,) = pb.Payload.FromString(payload).metrics
    assert (command.name, command.datatype, command.boolean_value) == (REBIRTH, pb.Boolean, True)
    (letter,) = parse(r, "spBv1.0/plant/DDATA/node1/pump1", spb(6, double(1, 99)))
    assert isinstance(letter, DeadLetter)
    assert letter.reason == (
        "source edge: sparkplug: plant/node1/pump1: alias 99 was never declared in a birth"
    )
    assert len(sent) == 2
    assert parse(r, "spBv1.0/plant/NDEATH/node1", spb(None, bd)) == [
        DeviceStatus(key("water", "pump-1"), False, NOW),
        DeviceStatus(key("water", "node-1"), False, NOW),
    ]


def test_a_stale_sparkplug_death_does_not_mark_a_reborn_node_offline() -> None:
    """The broker sends a session's will (NDEATH, bdSeq n) when that session ends, which can be
    after the node has reconnected with NBIRTH bdSeq n+1: only the death that matches the last
    birth's bdSeq is the node's death."""
    r, _ = router(SPB)

    def bd(value: int) -> dict[str, object]:
        return {"name": "bdSeq", "datatype": pb.Int64, "long_value": value}

    node, pump = key("water", "node-1"), key("water", "pump-1")
    parse(r, "spBv1.0/plant/NBIRTH/node1", spb(0, bd(3)))
    parse(r, "spBv1.0/plant/NDEATH/node1", spb(None, bd(3)))  # session 3 ends
    assert parse(r, "spBv1.0/plant/NBIRTH/node1", spb(0, bd(4), double(1, 1, "uptime"))) == [
        DeviceStatus(node, True, NOW),
        Reading(node, NOW, None, {"uptime": 1.0}),
    ]
    parse(r, "spBv1.0/plant/DBIRTH/node1/pump1", spb(1, double(10, 2, "pump_current")))
    (letter,) = parse(r, "spBv1.0/plant/NDEATH/node1", spb(None, bd(3)))  # session 3's will again
    assert isinstance(letter, DeadLetter)
    assert letter.reason == (
        "source edge: sparkplug: NDEATH of plant/node1 with bdSeq 3 is stale "
        "(its birth has bdSeq 4): the node stays online"
    )
    # still born: its data goes on in sequence
    assert parse(r, "spBv1.0/plant/DDATA/node1/pump1", spb(2, double(11, 2))) == [
        Reading(pump, NOW, None, {"pump_current": 11.0})
    ]
    assert parse(r, "spBv1.0/plant/NDEATH/node1", spb(None, bd(4))) == [
        DeviceStatus(pump, False, NOW),
        DeviceStatus(node, False, NOW),
    ]
    (letter,) = parse(r, "spBv1.0/plant/DDATA/node1/pump1", spb(3, double(12, 2)))
    assert isinstance(letter, DeadLetter)  # dead now: data needs a new birth
    assert letter.reason == "source edge: sparkplug: DDATA before its birth certificate"


def test_sparkplug_data_before_birth_and_malformed_protobuf() -> None:
    r, sent = router(SPB)
    (letter,) = parse(r, "spBv1.0/plant/NDATA/node1", spb(1, double(5, 1, "uptime")))
    assert isinstance(letter, DeadLetter)
    assert letter.reason == "source edge: sparkplug: NDATA before its birth certificate"
    assert [t for t, _ in sent] == ["spBv1.0/plant/NCMD/node1"]
    (letter,) = parse(r, "spBv1.0/plant/NBIRTH/node1", b"\xff\xff\xff")
    assert isinstance(letter, DeadLetter)
    assert letter.reason.startswith("source edge: sparkplug: malformed NBIRTH payload")


def test_mapped_json_with_a_metrics_object() -> None:
    r, _ = router(
        f"sources:\n  - name: v\n    format: json\n    topics: [v/#]\n    site: {SITE}\n"
        "    system: water\n    devices: {P: {device_id: p-1}}\n"
        "    json: {device: id, metrics_object: vals}\n"
    )
    assert parse(r, "v/1", {"id": "P", "vals": {"flow": 3, "pump_running": True}}) == [
        Reading(key("water", "p-1"), NOW, None, {"flow": 3.0, "pump_running": True})
    ]
    (letter,) = parse(r, "v/1", {"id": "P", "vals": 7})
    assert isinstance(letter, DeadLetter)
    assert letter.reason == "source v: json path 'vals' found no object of metrics"


def test_facility_sources_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from api.cli import main

    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(TB)
    bad.write_text("sources:\n  - name: x\n    format: json\n    topics: [a/#]\n")
    assert main(["sources", "check", str(good)]) == 0
    assert capsys.readouterr().out == f"{good}: 1 sources ok: plant (thingsboard-gateway)\n"
    assert main(["sources", "check", str(bad)]) == 1
    assert capsys.readouterr().err == (
        f"{bad}:2: sources.0: json: required for the json format (field paths)\n"
    )
