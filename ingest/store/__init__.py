"""Telemetry stores: one protocol (base.py), an InfluxDB v1-API backend, an embedded SQLite one."""
