"""The platform under the domain: the SQL database (engine, sessions, the unit of work, the UTC
time type), its migrations, and the encrypted column type for personal data."""
