"""The ThingsBoard IoT Gateway as a real gateway box runs it: its own virtualenv (its pinned
pymodbus and its other dependencies apart from ours), its own process, its own config dir."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.servers import ROOT, ManagedProcess

VENV = ROOT / ".venv-tbgateway"
# The gateway (which brings ThingsBoard's device SDK, tb-mqtt-client, and its own fork of paho)
# and exactly the pymodbus its Modbus connector pip-installs at import otherwise.
GATEWAY = ("thingsboard-gateway==3.8.5", "pymodbus==3.9.2")
SPARKPLUG_VENV = ROOT / ".venv-sparkplug"
SPARKPLUG = ("pysparkplug==0.6.1",)  # pins paho-mqtt<2: not in the service's environment


def client_python(venv: Path, packages: tuple[str, ...]) -> Path:
    """A client's own virtualenv, made once (a minute or two) and reused."""
    python = venv / "bin" / "python"
    stamp = venv / ".installed"
    if not stamp.exists() or stamp.read_text() != " ".join(packages):
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *packages], check=True)
        stamp.write_text(" ".join(packages))
    return python


def gateway_python() -> Path:
    return client_python(VENV, GATEWAY)


def sparkplug_python() -> Path:
    return client_python(SPARKPLUG_VENV, SPARKPLUG)


class ModbusDevice(ManagedProcess):
    def __init__(self, directory: Path, port: int, registers: dict[int, int]) -> None:
        super().__init__(directory, "modbus")
        self.port, self.registers = port, registers

    def start(self) -> None:
        pairs = ",".join(f"{a}={v}" for a, v in self.registers.items())
        script = str(ROOT / "simulators" / "modbus_device.py")
        self._spawn([str(gateway_python()), script, "--port", str(self.port), "--registers", pairs])


class ThingsBoardGateway(ManagedProcess):
    def __init__(self, directory: Path, mqtt_port: int, modbus_port: int, device: str) -> None:
        super().__init__(directory, "tb-gateway")
        config = directory / "config"
        config.mkdir(parents=True, exist_ok=True)
        shipped = VENV / "lib" / "python3.11" / "site-packages" / "thingsboard_gateway" / "config"
        logs = json.loads((shipped / "logs.json").read_text())
        for handler in logs["handlers"].values():
            if "filename" in handler:
                handler["filename"] = str(directory / Path(handler["filename"]).name)
        (config / "logs.json").write_text(json.dumps(logs))
        gateway = json.loads((shipped / "tb_gateway.json").read_text())
        gateway["thingsboard"].update(
            host="127.0.0.1",
            port=mqtt_port,
            remoteConfiguration=False,
            security={"type": "accessToken", "accessToken": "plant-gateway"},
            checkingDeviceActivity={
                "checkDeviceInactivity": True,
                "inactivityTimeoutSeconds": 3,
                "inactivityCheckPeriodSeconds": 1,
            },
        )
        gateway["thingsboard"]["statistics"]["statsSendPeriodInSeconds"] = 2
        gateway["connectors"] = [
            {"type": "modbus", "name": "Modbus", "configuration": "modbus.json"}
        ]
        (config / "tb_gateway.json").write_text(json.dumps(gateway))
        register = {"type": "16uint", "functionCode": 3, "objectsCount": 1}
        modbus = {
            "master": {
                "slaves": [
                    {
                        "host": "127.0.0.1",
                        "port": modbus_port,
                        "type": "tcp",
                        "method": "socket",
                        "unitId": 1,
                        "deviceName": device,
                        "deviceType": "meter",
                        "timeout": 1,
                        "byteOrder": "BIG",
                        "wordOrder": "BIG",
                        "retries": 1,
                        "pollPeriod": 500,
                        "connectAttemptTimeMs": 500,
                        "connectAttemptCount": 1,
                        "waitAfterFailedAttemptsMs": 500,
                        "attributes": [],
                        "timeseries": [
                            {**register, "tag": "40001", "address": 0},
                            {**register, "tag": "40002", "address": 1},
                        ],
                        "attributeUpdates": [],
                        "rpc": [],
                    }
                ]
            }
        }
        (config / "modbus.json").write_text(json.dumps(modbus))
        self.config = config

    def start(self) -> None:
        env = {**os.environ, "TB_GW_CONFIG_DIR": str(self.config)}
        python = gateway_python()
        argv = [str(python), "-c", "from thingsboard_gateway.tb_gateway import daemon; daemon()"]
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                argv, cwd=self.directory, env=env, stdout=out, stderr=subprocess.STDOUT
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")
