"""Delivering notifications: webhook and e-mail channels, an outbox with retries, and the
delivery log (`notification_deliveries`)."""
