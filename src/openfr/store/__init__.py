"""The store: subjects, their source images (with provenance and legal basis), templates and galleries; live
deployments, their watchlist snapshots and alerts. SQLite (embedded default, WAL mode) or PostgreSQL."""

from openfr.store.account_tables import ApiToken, User
from openfr.store.audit_table import AuditEvent
from openfr.store.db import Database, open_database
from openfr.store.live_tables import Alert, Deployment, WatchlistEntry, WatchlistMember
from openfr.store.models import Gallery, SearchRecord, SourceImage, Subject, Template

__all__ = [
    "Alert",
    "ApiToken",
    "AuditEvent",
    "Database",
    "Deployment",
    "Gallery",
    "SearchRecord",
    "SourceImage",
    "Subject",
    "Template",
    "User",
    "WatchlistEntry",
    "WatchlistMember",
    "open_database",
]
