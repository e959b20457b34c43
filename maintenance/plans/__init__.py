"""Preventive maintenance: inspection plans, their cadences and the work orders they generate."""
