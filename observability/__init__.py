"""OpenTelemetry set-up, span helpers, metrics and logging for salesbus."""
