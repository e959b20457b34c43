"""Rules and alarms: declarative rules evaluated on the live telemetry stream.

Pure evaluation: readings and the time come in as arguments, alarm changes go out as values."""
