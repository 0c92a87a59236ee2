"""Governance: the audit trail (and, to come, accounts and roles, retention, published statistics)."""
