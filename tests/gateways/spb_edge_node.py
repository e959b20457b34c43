"""A Sparkplug B edge node driven by pysparkplug, from its own virtualenv (paho-mqtt 1.x).

    python spb_edge_node.py PORT
Births a node (group plant, node node1) with one device pump1, sends data by name, data by alias
only, then loses a message (a sequence gap), waits for the host's rebirth request, and dies: its
connection drops, and the broker publishes its will (NDEATH with the session's bdSeq).

Not `node.disconnect()`: pysparkplug 0.6.1 sets up the next session's will (bdSeq + 1) right after
its births, and its clean disconnect sends that NDEATH, whose bdSeq matches no birth; by the
Sparkplug 3.0 rule a host application takes it for a stale death of an earlier session."""

import os
import sys
import threading
import time

import pysparkplug as spb

port = int(sys.argv[1])
rebirth = threading.Event()


def on_command(node: spb.EdgeNode, message: spb.Message) -> None:
    for metric in message.payload.metrics:
        print("NCMD", metric.name, metric.value, flush=True)
        if metric.name == "Node Control/Rebirth" and metric.value:
            rebirth.set()


now = spb.get_current_timestamp()
double = spb.DataType.DOUBLE
pump = spb.Device(
    "pump1",
    [
        spb.Metric(now, "pump_current", double, value=10.0, alias=1),
        spb.Metric(now, "Outlet Pressure", double, value=350.0, alias=2),
    ],
)
node = spb.EdgeNode(
    "plant",
    "node1",
    [spb.Metric(now, "uptime", spb.DataType.INT64, value=1)],
    cmd_callback=on_command,
)
node.register(pump)
node.connect("127.0.0.1", port=port)
time.sleep(1.0)  # the births go out from the connect callback
# A few ms apart: the store keeps one point per device and millisecond.
node.update_device(
    "pump1", [spb.Metric(spb.get_current_timestamp(), "pump_current", double, value=11.0)]
)
time.sleep(0.01)
topic = spb.Topic(
    message_type=spb.MessageType.DDATA, group_id="plant", edge_node_id="node1", device_id="pump1"
)
by_alias = spb.DData(
    spb.get_current_timestamp(),
    seq=node._seq,
    metrics=(spb.Metric(None, None, double, value=12.0, alias=1),),
)
node._client.publish(spb.Message(topic, by_alias, spb.QoS.AT_MOST_ONCE, False))
time.sleep(0.01)
lost = node._seq  # a message lost on its way: the next one shows a gap
node.update_device(
    "pump1", [spb.Metric(spb.get_current_timestamp(), "pump_current", double, value=13.0)]
)
print("rebirth requested:", rebirth.wait(10), flush=True)
os._exit(0)  # the node dies: no DISCONNECT, its socket closes
