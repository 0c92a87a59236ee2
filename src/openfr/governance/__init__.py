"""Governance: accounts and their tokens, the permission matrix and token scopes, the sealed hash-chained audit
trail, purpose limitation, police ranks. The use cases built on them (retention, published statistics) are in
services/; equity measurement is in evaluation/."""
