"""Notification channels off the desk: apprise delivery, routing, escalation (no Qt here)."""
