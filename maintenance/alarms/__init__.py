"""The alarm stage: the ISA-18.2 lifecycle (`lifecycle`), alarms as records (`models`,
`transitions`), the rule engine's condition changes applied (`conditions`), suppression, budgets
and floods (`suppression`), what people and the clock do (`actions`, `clock`), the tickets alarms
open (`tickets`), and the running monitor with its publication (`monitor`, `publication`,
`runtime`)."""
