"""Service-level agreements: policies, calendars, due times and the breach watch."""
