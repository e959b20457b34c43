"""A naive paho-mqtt subscriber (no validation, no spool, no store): the Python floor.

    python -m bench.paho_reference PORT COUNT [--protocol 5|3.1.1]

Drains COUNT queued QoS 1 messages from its persistent session (client id bench-paho), acking
each, and exits; COUNT 0 only registers the session.
"""

from __future__ import annotations

import argparse
import threading

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("count", type=int)
    parser.add_argument("--protocol", choices=["5", "3.1.1"], default="5")
    args = parser.parse_args()
    v5 = args.protocol == "5"
    done = threading.Event()
    received = 0

    def on_message(client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        nonlocal received
        received += 1
        if received >= args.count:
            done.set()

    def on_connect(client: mqtt.Client, *rest: object) -> None:
        client.subscribe("facility/#", 1)
        if args.count == 0:
            done.set()

    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id="bench-paho",
        protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
        clean_session=None if v5 else False,
    )
    client.on_message, client.on_connect = on_message, on_connect
    if v5:
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = 3600
        properties.ReceiveMaximum = 10_000
        client.connect("127.0.0.1", args.port, clean_start=False, properties=properties)
    else:
        client.connect("127.0.0.1", args.port)
    client.loop_start()
    done.wait(600)
    if args.count == 0:
        done.clear()
        threading.Event().wait(1.0)  # let the SUBACK arrive
    client.disconnect()
    client.loop_stop()


if __name__ == "__main__":
    main()
