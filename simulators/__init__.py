"""Device simulators: a fleet of the five systems with deterministic fault scenarios.

Standalone on purpose: it imports nothing from the service, so it talks to it only through the
telemetry contract (docs/telemetry.md), like a real device would.
"""
