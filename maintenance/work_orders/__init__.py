"""Work orders (tickets): intake, the lifecycle state machine, audit trail, feedback."""
