"""Alarms as records: one row per (site, device, rule), its transitions, floods, maintenance
windows, and the tickets alarms open (the lifecycle decisions are `rules.alarms`)."""
