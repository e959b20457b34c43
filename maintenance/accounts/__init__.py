"""People and integrations that use the service: users with roles, API keys, and the security
log (logins, refusals)."""
