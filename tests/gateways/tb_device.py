"""ThingsBoard's device SDK (tb-mqtt-client) as a device runs it; from the gateway's virtualenv.

python tb_device.py PORT TOKEN  -> the SDK's getSessionLimits request, two telemetry messages,
then a clean disconnect."""

import sys
import threading
import time

from tb_device_mqtt import TBDeviceMqttClient

port, token = int(sys.argv[1]), sys.argv[2]
client = TBDeviceMqttClient("127.0.0.1", port=port, username=token)
# A real device runs for long; this one disconnects after two messages, so it must first know
# that the SDK has sent its request. The SDK gives no sign of it, and the signs it seems to give
# race under load (each lost the request about 1 run in 5):
# - is_connected() turns true at the start of its on_connect, before on_connect marks the limits
#   as wanted; read in between, "not wanted" let the script send, disconnect and exit before the
#   service loop (polling every 50 ms) asked;
# - connect(callback=...) stores the callback after starting the network loop, so on_connect
#   may run first and never call it.
# So: the SDK's service loop calls request_service_configuration on the instance; wrap it.
asked = threading.Event()
request = client.request_service_configuration


def request_and_tell(callback: object) -> None:
    request(callback)  # publishes the RPC request (QoS 1) before it returns
    asked.set()


client.request_service_configuration = request_and_tell
client.connect()
if not asked.wait(30):
    sys.exit("the SDK did not ask for its session limits")
now = int(time.time() * 1000)
client.send_telemetry({"ts": now, "values": {"Pump1_Current_A": 17.5, "flow": 42}}).get()
client.send_telemetry({"Pump1_Current_A": 18.0}).get()
print("limits asked", flush=True)
client.disconnect()
client.stop()
