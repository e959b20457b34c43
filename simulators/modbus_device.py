"""A Modbus TCP device (pymodbus server) with fixed holding registers, for gateways to read.

Run with an interpreter that has pymodbus (the ThingsBoard gateway's own virtualenv):
    python -m simulators.modbus_device --port 5020 --registers 0=2315,1=1200
Holding register N answers the value given for N (16-bit); the process serves until killed."""

from __future__ import annotations

import argparse
import logging


def main() -> None:
    from pymodbus.datastore import (
        ModbusSequentialDataBlock,
        ModbusServerContext,
        ModbusSlaveContext,
    )
    from pymodbus.server import StartTcpServer

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--registers", required=True, help="address=value,...")
    args = parser.parse_args()
    pairs = (pair.split("=") for pair in args.registers.split(","))
    values = {int(a): int(v) for a, v in pairs}
    table = [values.get(address, 0) for address in range(max(values) + 1)]
    # pymodbus adds 1 to a request's address (zero_mode off): the block starts at 1, so
    # register 0 of a request is table[0]. pymodbus 3.9 keeps `hr` only when `di` is given too.
    device = ModbusSlaveContext(
        di=ModbusSequentialDataBlock(1, [0] * len(table)),
        co=ModbusSequentialDataBlock(1, [0] * len(table)),
        ir=ModbusSequentialDataBlock(1, table),
        hr=ModbusSequentialDataBlock(1, table),
    )
    logging.basicConfig(level=logging.WARNING)
    StartTcpServer(
        context=ModbusServerContext(slaves=device, single=True), address=("127.0.0.1", args.port)
    )


if __name__ == "__main__":
    main()
