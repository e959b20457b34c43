"""Patrol rounds: ordered check-in points walked on a cadence, checked in from a phone."""
