"""`openfr gallery ...` (import, list, delete-subject, reembed) and `openfr search`."""

from __future__ import annotations

import getpass
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from openfr.cli.common import JsonFlag, PackOption, emit, err, guarded, out, services
from openfr.errors import BadInputError
from openfr.gallery import repository
from openfr.gallery.enrol import import_directory
from openfr.imageio import load_image

gallery_app = typer.Typer(help="Build and manage galleries of enrolled subjects.", no_args_is_help=True)
NameArg = Annotated[str, typer.Argument(help="Gallery name.")]


@gallery_app.command("import")
@guarded
def import_(
    name: NameArg,
    directory: Annotated[Path, typer.Argument(help="DIR/<subject_id>/<images>.")],
    manifest: Annotated[
        Path | None, typer.Option(help="CSV: subject_id,name,category,legal_basis,source (any subset but subject_id).")
    ] = None,
    created_by: Annotated[str, typer.Option(help="Who is enrolling (recorded on the gallery).")] = "",
    json: JsonFlag = False,
    pack: PackOption = None,
) -> None:
    """Enrol a folder of subjects. Resumable and idempotent: rerun it after any interruption."""
    svc = services(pack)
    space = svc.engine.space
    with Progress(
        TextColumn("[bold]enrolling"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=json,
    ) as bar:
        task = bar.add_task("import", total=None)

        def advance(step: int, total: int) -> None:
            bar.update(task, total=total, advance=step)

        report = import_directory(
            svc.db,
            svc.home,
            svc.settings,
            space=space,
            gallery_name=name,
            directory=directory,
            manifest=manifest,
            created_by=created_by or getpass.getuser(),
            pack_id=pack,
            progress=advance,
        )
    if json:
        emit(report.as_dict())
        return
    out.print(
        f"{report.seen} image(s): {report.enrolled} enrolled, {report.already} already enrolled, "
        f"{len(report.rejected)} rejected"
    )
    if report.rejected:
        table = Table(title="Rejected images (not stored)")
        table.add_column("image")
        table.add_column("reason")
        for path, reason in report.rejected[:50]:
            table.add_row(path, reason)
        out.print(table)
        if len(report.rejected) > 50:
            out.print(f"... and {len(report.rejected) - 50} more (use --json for all)")


@gallery_app.command("list")
@guarded
def list_(json: JsonFlag = False) -> None:
    """Galleries with their subject and template counts and embedding space."""
    svc = services()
    with svc.db.transaction() as session:
        rows = repository.gallery_stats(session)
    if json:
        emit({"galleries": rows})
        return
    table = Table()
    for column in ("name", "kind", "subjects", "templates", "space"):
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(row[c]) for c in ("name", "kind", "subjects", "templates", "space")))
    out.print(table)


@gallery_app.command("delete-subject")
@guarded
def delete_subject(
    name: NameArg,
    subject: Annotated[str, typer.Argument(help="The subject's id in the gallery.")],
    reason: Annotated[str, typer.Option(help="Why (recorded in the audit trail), e.g. 'no further action'.")] = "",
    user: Annotated[str, typer.Option(help="Who is deleting (default: the login name).")] = "",
    json: JsonFlag = False,
) -> None:
    """Delete a subject with all its images, templates and index entries, in one transaction."""
    svc = services()
    result = repository.delete_subject(svc.db, svc.home, name, subject, actor=user or getpass.getuser(), reason=reason)
    if json:
        emit(result)
    else:
        out.print(f"deleted subject {subject}: {result['templates']} template(s), {result['images']} image(s)")


@gallery_app.command("reembed")
@guarded
def reembed(name: NameArg, json: JsonFlag = False, pack: PackOption = None) -> None:
    """Rebuild every template from the stored source images with the current (or given) model pack."""
    from openfr.gallery.reembed import reembed_gallery

    svc = services(pack)
    result = reembed_gallery(
        svc.db,
        svc.home,
        svc.settings,
        gallery_name=name,
        space=svc.engine.space,
        pack_id=pack,
        actor=getpass.getuser(),
    )
    if json:
        emit(result)
    else:
        out.print(
            f"gallery {name}: {result['templates']} template(s) rebuilt in {result['to']} "
            f"(was {result['from']}); {result['rejected']} image(s) unusable with the new pack"
        )


@guarded
def search(
    name: NameArg,
    images: Annotated[list[Path], typer.Argument(help="Probe image(s); one JSON line each.")],
    top: Annotated[int, typer.Option("--top", min=1, max=200, help="Candidates per probe.")] = 10,
    reason: Annotated[
        str, typer.Option(help="Why this search is made (recorded; required on operational installations).")
    ] = "",
    crime_ref: Annotated[str | None, typer.Option(help="Crime or case reference (recorded).")] = None,
    user: Annotated[str, typer.Option(help="Who is searching (recorded; default: the login name).")] = "",
    json: JsonFlag = False,
    pack: PackOption = None,
) -> None:
    """Ranked candidates for each probe. A candidate is an investigative lead, never an identification.

    Every search is recorded: who, why, when, and the candidates returned (never the probe image).
    """
    from openfr.gallery.search import SearchContext

    svc = services(pack)
    context = SearchContext(actor=user or getpass.getuser(), reason=reason, crime_ref=crime_ref)
    bad = 0
    for image_path in images:
        try:
            image = load_image(image_path, max_pixels=svc.settings.engine.max_image_pixels)
            probe = svc.engine.probe(image, name=str(image_path))
        except BadInputError as exc:
            if len(images) == 1:
                raise
            bad += 1
            emit({"image": str(image_path), "error": str(exc)})
            continue
        start = time.perf_counter()
        candidates = svc.searcher.search(
            name,
            probe.embedding,
            top,
            context=context,
            probe_quality=probe.quality.as_dict(),  # type: ignore[arg-type,union-attr]
        )
        elapsed = (time.perf_counter() - start) * 1000
        doc = {
            "image": str(image_path),
            "candidates": [c.as_dict() for c in candidates],
            "probe": {"quality": probe.quality.as_dict()},  # type: ignore[union-attr]
            "elapsed_ms": round(elapsed, 2),
        }
        if json:
            emit(doc)
            continue
        table = Table(title=f"{image_path}: candidates in '{name}' ({elapsed:.1f} ms)")
        for column in ("rank", "subject", "name", "score"):
            table.add_column(column)
        for c in candidates:
            table.add_row(str(c.rank), c.subject, c.name or "", f"{c.score:.3f}")
        out.print(table)
    if bad:
        raise typer.Exit(2)
