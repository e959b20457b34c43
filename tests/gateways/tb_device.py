"""ThingsBoard's device SDK (tb-mqtt-client) as a device runs it; from the gateway's virtualenv.

python tb_device.py PORT TOKEN  -> two telemetry messages, then a clean disconnect."""

import sys
import time

from tb_device_mqtt import TBDeviceMqttClient

port, token = int(sys.argv[1]), sys.argv[2]
client = TBDeviceMqttClient("127.0.0.1", port=port, username=token)
client.connect()
deadline = time.monotonic() + 10
while not client.is_connected() and time.monotonic() < deadline:
    time.sleep(0.05)
# The SDK asks for its session limits from a background loop once connected: wait until it has
# (a loaded machine otherwise disconnects first, and the service never sees the request).
while client._TBDeviceMqttClient__request_service_configuration_required:
    if time.monotonic() > deadline:
        break
    time.sleep(0.05)
now = int(time.time() * 1000)
client.send_telemetry({"ts": now, "values": {"Pump1_Current_A": 17.5, "flow": 42}}).get()
client.send_telemetry({"Pump1_Current_A": 18.0}).get()
print("limits answered:", client.rate_limits_received, flush=True)
client.disconnect()
client.stop()
