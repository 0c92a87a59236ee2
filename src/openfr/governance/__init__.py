"""Governance: accounts and their tokens, the permission matrix, the hash-chained audit trail (to come:
retention, published statistics, equity measurement)."""
