"""Manager reports: failure-rate trends and service quality against the service standards."""
