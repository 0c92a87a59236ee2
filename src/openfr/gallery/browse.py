"""Queries for looking through a gallery page by page and at its subjects' pictures, inside the caller's
transaction (the services own permissions, transactions and the audit events)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openfr.errors import BadInputError
from openfr.gallery import repository
from openfr.store import Gallery, SourceImage, Subject

PER_PAGE = 50  # subjects on a gallery page: a screenful of thumbnails, lazily loaded as the list scrolls


@dataclass(frozen=True)
class SubjectPage:
    """One page of a gallery's subjects, and where it sits in the whole list."""

    rows: list[dict]
    total: int  # subjects matching the filter, on every page
    page: int  # from 1
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def first(self) -> int:
        """Position of the page's first subject in the list (from 1; 0 when there is none)."""
        return (self.page - 1) * self.per_page + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1 if self.rows else 0


def count_subjects(session: Session, gallery_name: str, *, q: str = "") -> int:
    """Subjects in the gallery matching `q` (the same filter as repository.list_subjects)."""
    gallery = repository.get_gallery(session, gallery_name)
    query = select(func.count(Subject.id)).where(Subject.gallery_id == gallery.id)
    if q:
        query = query.where(Subject.external_id.contains(q) | Subject.display_name.contains(q))
    return session.scalar(query) or 0


def subject_page(session: Session, gallery_name: str, *, q: str, page: int, per_page: int) -> SubjectPage:
    """Page `page` of the subjects; a page before the first or past the last is a BadInputError that says
    which pages there are (an empty gallery has one, empty, page)."""
    if not 1 <= per_page <= 200:
        raise BadInputError("per page must be between 1 and 200")
    total = count_subjects(session, gallery_name, q=q)
    pages = max(1, -(-total // per_page))
    if not 1 <= page <= pages:
        raise BadInputError(f"page {page} does not exist: the list has {pages} page{'s' if pages > 1 else ''}")
    rows = repository.list_subjects(session, gallery_name, q=q, offset=(page - 1) * per_page, limit=per_page)
    return SubjectPage(rows, total, page, per_page)


def first_enrolled_image(session: Session, gallery_name: str, subject: str) -> str | None:
    """The stored path (relative to $OPENFR_HOME) of the subject's first enrolled image, or None if the
    gallery, the subject or an enrolled image of it is not there (any more)."""
    return session.scalar(
        select(SourceImage.stored_path)
        .join(Subject, Subject.id == SourceImage.subject_id)
        .join(Gallery, Gallery.id == Subject.gallery_id)
        .where(
            Gallery.name == gallery_name,
            Subject.external_id == subject,
            SourceImage.status == "enrolled",
            SourceImage.stored_path.is_not(None),
        )
        .order_by(SourceImage.id)
        .limit(1)
    )
