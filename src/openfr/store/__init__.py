"""The identity store: subjects, their source images (with provenance and legal basis), templates and
galleries, in SQLite (embedded default, WAL mode) or PostgreSQL with pgvector."""

from openfr.store.db import Database, open_database
from openfr.store.models import Gallery, SearchRecord, SourceImage, Subject, Template

__all__ = ["Database", "Gallery", "SearchRecord", "SourceImage", "Subject", "Template", "open_database"]
