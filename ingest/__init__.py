"""MQTT telemetry ingest: topics and payloads -> validated readings -> telemetry store."""
