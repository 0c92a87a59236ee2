"""Gallery use cases: list galleries and subjects, create a gallery (with its purpose), enrol (a folder or one
upload) into an existing one, delete a subject with a reason, re-embed with another pack. Every change to a
gallery's templates moves its generation on in the same transaction as its audit event, so no index built
before it can answer a later search."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from openfr.engine.batch import ImageResult, analyse_paths
from openfr.engine.pipeline import FaceEngine
from openfr.errors import (
    BadInputError,
    ConflictError,
    EnrolmentRejectedError,
    NotFoundError,
    SafeguardMissingError,
    UploadTooLargeError,
)
from openfr.gallery import enrol, files, reembed, repository
from openfr.gallery.browse import PER_PAGE, SubjectPage, first_enrolled_image, subject_page
from openfr.governance import audit, events
from openfr.governance.grants import ViewGrants
from openfr.governance.permissions import Permission
from openfr.governance.uses import GalleryUse, check_enrolment
from openfr.imageio import IMAGE_SUFFIXES, load_image
from openfr.live.lifecycle import remove_from_snapshots
from openfr.live.supervisor import CameraSupervisor
from openfr.names import check_name, check_reference
from openfr.services.gallery_uses import GalleryUses, approved_galleries
from openfr.services.principal import Principal
from openfr.services.refusals import service
from openfr.settings import Settings
from openfr.store import Gallery, SourceImage, Subject, Template


@dataclass(frozen=True)
class EnrolFields:
    """What an enrolment form says about the image: the same fields in the console and the API."""

    gallery: str
    subject: str
    source: str  # where the image came from: required, it becomes the image's provenance
    display_name: str = ""
    category: str = ""
    legal_basis: str = ""


PURPOSE_MAX = 2000  # characters: a paragraph, as in a DPIA's description of the gallery


@service
class GalleryService(GalleryUses):
    use_case_prefix = "galleries"  # refusals name their use case "galleries.<method>"

    settings: Settings
    home: Path
    pack_id: str | None
    engine_for: Callable[[str | None], FaceEngine]
    cameras: CameraSupervisor  # a run here reloads its snapshot when a subject is erased
    view_grants: Callable[[], ViewGrants]

    def engine(self) -> FaceEngine:
        """The engine of this installation's (or the command's) model pack, loaded at first use."""
        return self.engine_for(self.pack_id)

    def list(self, principal: Principal) -> list[dict]:
        principal.require(Permission.GALLERY_READ)
        with self.db().read() as session:
            return repository.gallery_stats(session)

    def searchable(self, principal: Principal) -> list[str]:
        """The galleries a retrospective search may reach (approved for `rfr`), names alone, for the search
        form: no counts, no subjects, and never a live watchlist's source or an OIFR-only custody set."""
        principal.require(Permission.SEARCH_RFR)
        with self.db().read() as session:
            return approved_galleries(session, GalleryUse.RFR)

    def create(self, principal: Principal, name: str, purpose: str, uses: Iterable[str] | None = None) -> dict:
        """A new, empty gallery, in its own step: enrolment never creates one, so a mistyped name is refused
        rather than becoming a second gallery. The purpose (what the gallery is for, e.g. "custody images
        under PACE s.64A") is required and becomes the audit event's reason. Held by whoever may enrol
        (gallery.enrol): the people who fill a gallery set it up; an empty gallery holds no one.

        `uses` (governance/uses.py; default: retrospective search alone) are what its images may be used
        for. At least one; approving any use beyond the default is a governance decision that also takes
        gallery.manage, as changing them later does (set_uses)."""
        principal.require(Permission.GALLERY_ENROL)
        approved = self.uses_for_new_gallery(principal, uses)
        checked = check_name("gallery", name)
        why = (purpose or "").strip()
        if not why:
            raise SafeguardMissingError("say what the gallery is for (purpose): it is recorded with the gallery")
        if len(why) > PURPOSE_MAX:
            raise BadInputError(f"the purpose is longer than {PURPOSE_MAX} characters")
        space = self.engine().space
        try:
            with self.db().transaction() as session:
                if session.scalar(select(Gallery.id).where(Gallery.name == checked)) is not None:
                    raise ConflictError(f"a gallery named '{checked}' exists already")
                gallery = Gallery(
                    name=checked, kind="gallery", purpose=why, space=space, created_by=principal.username, uses=approved
                )
                session.add(gallery)
                session.flush()
                audit.record(
                    session,
                    principal.username,
                    events.GalleryCreate(space=space, uses=approved),
                    f"gallery:{checked}",
                    why,
                )
        except IntegrityError:  # the same name created at the same moment elsewhere
            raise ConflictError(f"a gallery named '{checked}' exists already") from None
        return {
            "name": checked, "kind": "gallery", "purpose": why, "space": space, "uses": approved, "subjects": 0,
            "templates": 0,
        }  # fmt: skip

    def subjects(self, principal: Principal, gallery: str, *, q: str = "", offset: int = 0, limit: int = 100):
        """A page of a gallery's subjects (names and references of people): the viewing is recorded."""
        principal.require(Permission.GALLERY_READ)
        with self.db().transaction() as session:
            rows = repository.list_subjects(session, gallery, q=q, offset=offset, limit=limit)
            audit.record(
                session,
                principal.username,
                events.GalleryView(query=bool(q), offset=offset, shown=len(rows)),
                f"gallery:{gallery}",
            )
            return rows

    def subjects_page(
        self, principal: Principal, gallery: str, *, q: str = "", page: int = 1, per_page: int = PER_PAGE
    ) -> SubjectPage:
        """Page `page` of a gallery's subjects with the total, for the console's paged list: the viewing is
        recorded as for `subjects`. A page that does not exist is refused (BadInputError) and not recorded."""
        principal.require(Permission.GALLERY_READ)
        with self.db().transaction() as session:
            found = subject_page(session, gallery, q=q, page=page, per_page=per_page)
            with_images = [row["subject"] for row in found.rows if row["images"]]
            audit.record(
                session,
                principal.username,
                events.GalleryView(
                    query=bool(q),
                    offset=(found.page - 1) * per_page,
                    shown=len(found.rows),
                    total=found.total,
                    images=with_images,
                ),
                f"gallery:{gallery}",
            )
        grants = self.view_grants()
        for row in found.rows:  # the page's thumbnails were recorded with it (one event, listing them)
            row["grant"] = grants.grant(principal.username, "subject", gallery, row["subject"])
        return found

    def subject_image(self, principal: Principal, gallery: str, subject: str, *, grant: str | None = None) -> Path:
        """The subject's first enrolled image (the console shows it as a thumbnail). Every look at a face is
        on record: with the grant of a recorded page that listed it (subjects_page), by that page's event;
        without one, by an event of its own (who saw which subject's image, and when)."""
        principal.require(Permission.GALLERY_READ)
        listed = self.view_grants().covers(grant, principal.username, "subject", gallery, subject)
        with self.db().transaction() as session:
            relative = first_enrolled_image(session, gallery, subject)
            if relative is None:
                raise NotFoundError(f"no enrolled image of '{subject}' in gallery '{gallery}'")
            if not listed:
                audit.record(
                    session, principal.username, events.SubjectImageView(subject=subject), f"gallery:{gallery}"
                )
        return self.home / relative

    def enrol_folder(
        self,
        principal: Principal,
        gallery: str,
        directory: Path,
        *,
        manifest: Path | None = None,
        progress: Callable[[int, int], None] | None = None,
        create: str | None = None,
        uses: Iterable[str] | None = None,
    ) -> enrol.ImportReport:
        """DIR/<subject_id>/<images>: resumable and idempotent, one transaction and one audit event per
        batch of enrol.COMMIT_EVERY images, so the trail matches the store even after a crash.

        The gallery must exist (NotFoundError otherwise), unless `create` gives the purpose of a new one: it
        is then created first, with `uses` (as `create` takes them), in its own transaction and audit event,
        and a rerun of the same import finds it and goes on."""
        principal.require(Permission.GALLERY_ENROL)
        name = check_name("gallery", gallery)
        entries = enrol.plan(directory)
        meta = enrol.read_manifest(manifest)
        engine = self.engine()
        if create is not None and not self._exists(name):
            self.create(principal, name, create, uses)
        files.remove_stale_temporaries(self.home)
        with self.db().read() as session:
            found = enrol.target_gallery(session, name, engine.space)
            done = enrol.enrolled_keys(session, found.id)
            subjects = {subject for subject, _ in entries}
            check_enrolment(name, found.uses, (row.get("category") for s, row in meta.items() if s in subjects))
        items, already = enrol.folder_items(entries, done)
        report = enrol.ImportReport(name, seen=len(entries), already=already)
        if progress:
            progress(already, len(entries))
        by_path = {item.path: item for item in items}
        results = analyse_paths(list(by_path), self.settings, pack_id=self.pack_id)
        for batch in _batches(results, enrol.COMMIT_EVERY):
            pairs = [(by_path[result.path], result) for result in batch]
            self._commit(principal, name, pairs, meta, f"import of {directory}", report)
            if progress:
                progress(len(pairs), len(entries))
        return report

    def enrol_upload(self, principal: Principal, fields: EnrolFields, *, filename: str, data: bytes):
        """One uploaded image of one subject into an existing gallery (NotFoundError otherwise: create it
        first), analysed in memory, stored only if it is enrolled. A rejected image is an
        EnrolmentRejectedError and leaves nothing behind: no subject without images."""
        principal.require(Permission.GALLERY_ENROL)
        name = check_name("gallery", fields.gallery)
        subject = check_reference(fields.subject)
        row = {"subject_id": subject, "name": fields.display_name.strip(), "category": fields.category.strip()}
        row |= {"legal_basis": fields.legal_basis.strip()}
        enrol.check_metadata({subject: row})
        if not fields.source.strip():
            raise BadInputError("say where the image came from (source), for its provenance")
        row["source"] = f"{fields.source.strip()} (uploaded by {principal.username})"
        suffix = Path(filename or "").suffix.lower()
        if suffix not in IMAGE_SUFFIXES:
            raise BadInputError(f"unsupported image type '{suffix or 'none'}' ({', '.join(sorted(IMAGE_SUFFIXES))})")
        if not data:
            raise BadInputError("the uploaded file is empty")
        self.check_upload_size(data)
        engine = self.engine()
        with self.db().read() as session:  # before the image is analysed: a typo is refused at once
            target = enrol.target_gallery(session, name, engine.space)
            check_enrolment(name, target.uses, [row["category"]])
            done = enrol.enrolled_keys(session, target.id)
        item = enrol.EnrolItem(subject, files.sha256_bytes(data), filename, suffix, data=data)
        try:
            image = load_image(
                data,
                max_pixels=self.settings.engine.max_image_pixels,
                working_pixels=self.settings.engine.working_pixels,
            )
            result = ImageResult(Path(filename), engine.analyse(image), size=(image.shape[1], image.shape[0]))
        except BadInputError as exc:
            result = ImageResult(Path(filename), error=str(exc))
        if result.error is not None:
            raise EnrolmentRejectedError(f"not enrolled: {result.error}")
        report = enrol.ImportReport(name, seen=1)
        if (subject, item.sha256) in done:
            report.already = 1
            return report
        self._commit(principal, name, [(item, result)], {subject: row}, "upload", report, all_or_nothing=True)
        return report

    def check_upload_size(self, data: bytes) -> None:
        limit_mb = self.settings.web.upload_max_mb
        if len(data) > limit_mb * 1024 * 1024:
            raise UploadTooLargeError(f"the image is larger than {limit_mb:g} MB")

    def _commit(
        self, principal, name, pairs, meta, provenance, report: enrol.ImportReport, *, all_or_nothing: bool = False
    ) -> None:
        """One batch, one transaction. Its image files are written before the commit; if the commit fails
        (a full disk, a lost database), the files it wrote are removed again: a failed batch leaves nothing.
        `all_or_nothing`: a rejection rolls the batch back (EnrolmentRejectedError), as for a single upload."""
        created: list[str] = []
        try:
            with self.db().transaction() as session:
                gallery = enrol.target_gallery(session, name, self.engine().space, for_update=True)
                # Again, under the gallery's lock: its uses may have changed since the images were read.
                check_enrolment(name, gallery.uses, (meta.get(item.subject, {}).get("category") for item, _ in pairs))
                enrolled, rejected = enrol.commit_batch(session, self.home, gallery, pairs, meta, provenance, created)
                if all_or_nothing and rejected:
                    raise EnrolmentRejectedError(f"not enrolled: {rejected[0][1]}")
                repository.touch(gallery)
                audit.record(
                    session,
                    principal.username,
                    events.Enrol(enrolled=enrolled, rejected=len(rejected)),
                    f"gallery:{name}",
                    "",
                )
        except BaseException:
            files.remove_unreferenced(self.home, set(created), self._referenced(set(created)))
            raise
        report.enrolled += enrolled
        report.rejected += rejected

    def _exists(self, name: str) -> bool:
        with self.db().read() as session:
            return session.scalar(select(Gallery.id).where(Gallery.name == name)) is not None

    def _referenced(self, paths: set[str]) -> set[str]:
        if not paths:
            return set()
        with self.db().read() as session:
            return set(session.scalars(select(SourceImage.stored_path).where(SourceImage.stored_path.in_(paths))))

    def sweep_orphan_images(self) -> int:
        """Remove stored images that no row references (a crash between writing and committing): run at
        start-up, when no import is under way."""
        on_disk = files.stored_images(self.home)
        with self.db().read() as session:
            referenced = set(
                session.scalars(select(SourceImage.stored_path).where(SourceImage.stored_path.is_not(None)))
            )
        return files.remove_orphans(self.home, on_disk, referenced)

    def deletion_preview(self, principal: Principal, gallery: str, subject: str) -> dict:
        """What deleting a subject would remove, for the confirmation step: counts only (the subject's
        reference was on the page that asked); nothing is changed and nothing recorded."""
        principal.require(Permission.GALLERY_DELETE)
        with self.db().read() as session:
            found = repository.get_gallery(session, gallery)
            subject_id = session.scalar(
                select(Subject.id).where(Subject.gallery_id == found.id, Subject.external_id == subject)
            )
            if subject_id is None:
                raise NotFoundError(f"no subject '{subject}' in gallery '{gallery}'")
            count = session.scalar
            images = count(select(func.count()).select_from(SourceImage).where(SourceImage.subject_id == subject_id))
            templates = count(select(func.count()).select_from(Template).where(Template.subject_id == subject_id))
        return {"gallery": gallery, "subject": subject, "images": images or 0, "templates": templates or 0}

    def delete_subject(self, principal: Principal, gallery: str, subject: str, reason: str) -> dict:
        """Remove a subject, its images, templates and index entries in one transaction, then its files. The
        subject leaves every watchlist snapshot drawn from the gallery in the same transaction (running
        cameras reload theirs: at once in this process, within a lease renewal elsewhere), audited per
        deployment."""
        principal.require(Permission.GALLERY_DELETE)
        if not (reason or "").strip():
            raise SafeguardMissingError("a reason is required to delete a subject (it is recorded)")
        with self.db().transaction() as session:
            found = repository.get_gallery(session, gallery, for_update=True)
            gone = repository.delete_subject(session, found, subject)
            gallery_id = found.id
            audit.record(
                session,
                principal.username,
                events.SubjectDelete(subject=subject, images=gone.images, templates=gone.templates),
                f"gallery:{gallery}",
                reason.strip(),
            )
            snapshots = remove_from_snapshots(session, gallery, subject)
            for deployment, copies in snapshots:
                audit.record(
                    session,
                    principal.username,
                    events.DeploymentWatchlistRemove(subject=subject, entries=len(copies)),
                    f"deployment:{deployment.name}",
                    reason.strip(),
                )
            touched = [(d.id, copies) for d, copies in snapshots]
        self.db().purge_freed_pages()
        files.forget_index(self.home, gallery_id)
        removed = files.remove_unreferenced(self.home, gone.paths, gone.still_referenced)
        for deployment_id, copies in touched:
            for copy in copies:
                (self.home / copy).unlink(missing_ok=True)
            self.cameras.poke(deployment_id)  # a run here reloads its snapshot now
        return {
            "subject": subject,
            "templates": gone.templates,
            "images": gone.images,
            "files_removed": removed,
            "deployments": len(touched),
        }

    def reembed(self, principal: Principal, gallery: str, pack_id: str | None = None) -> dict:
        """Rebuild every template with `pack_id`'s embedder. Images enrolled while the bulk is embedded are
        embedded too, inside the final transaction, with the gallery locked: none is left behind."""
        principal.require(Permission.GALLERY_REEMBED)
        space = self.engine_for(pack_id).space
        settings, home = self.settings, self.home
        with self.db().read() as session:
            found = repository.get_gallery(session, gallery)
            old_space, images = found.space, reembed.enrolled_images(session, found)
        done = reembed.Embedded()
        reembed.embed(home, images, settings, pack_id, done)
        with self.db().transaction() as session:
            found = repository.get_gallery(session, gallery, for_update=True)
            if found.space != old_space:
                raise BadInputError(f"gallery '{gallery}' was re-embedded meanwhile (now {found.space})")
            images = reembed.enrolled_images(session, found)
            late = {i: v for i, v in images.items() if i not in done.vectors and i not in done.lost}
            reembed.embed(home, late, settings, pack_id, done)
            lost_paths, still = reembed.replace_templates(session, found, images, done, space)
            gallery_id = found.id
            templates = sum(1 for i in images if i in done.vectors)
            rejected = sum(1 for i in images if i in done.lost)
            audit.record(
                session,
                principal.username,
                events.GalleryReembed(old_space=old_space, new_space=space, templates=templates, rejected=rejected),
                f"gallery:{gallery}",
                "",
            )
        files.remove_unreferenced(home, lost_paths, still)
        self.db().purge_freed_pages()
        files.forget_index(home, gallery_id)
        return {"gallery": gallery, "from": old_space, "to": space, "templates": templates, "rejected": rejected}


def _batches(results: Iterator[ImageResult], size: int) -> Iterator[list[ImageResult]]:
    iterator = iter(results)
    while batch := list(islice(iterator, size)):
        yield batch
