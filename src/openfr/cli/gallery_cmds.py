"""`openfr gallery ...` (create, uses, import, list, subjects, delete-subject, reembed) and `openfr search`:
thin adapters over the gallery and search services, run as the signed-in account.

A gallery is created in its own step (`openfr gallery create NAME --purpose ... [--use rfr --use oifr]`) with
what its images may be used for (default: retrospective search); `gallery uses NAME --use ... --reason ...`
changes that later (administrators; recorded). `import` enrols into an
existing gallery only, so a mistyped name is refused. `import --create --purpose ...` creates the gallery
first when it does not exist yet (its own audit event), for a first bulk load; rerunning the same command
after an interruption finds the gallery and goes on."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from rich.table import Table

from openfr.cli.common import (
    JsonFlag,
    PackOption,
    YesFlag,
    candidates_table,
    confirmed,
    emit,
    err,
    guarded,
    out,
    read_photo,
    signed_in,
)
from openfr.errors import BadInputError
from openfr.governance.uses import describe
from openfr.services.searches import SearchRequest

gallery_app = typer.Typer(help="Build and manage galleries of enrolled subjects.", no_args_is_help=True)
NameArg = Annotated[str, typer.Argument(help="Gallery name.")]
PurposeOption = Annotated[
    str, typer.Option(help="What the gallery is for, e.g. 'custody images under PACE s.64A' (recorded).")
]
UseOption = Annotated[
    list[str] | None,
    typer.Option(
        "--use",
        help="What its images may be used for, repeatable: oifr (officers' phone searches), rfr (retrospective "
        "searches), live (live watchlists). Default on creation: rfr; any other needs an administrator.",
    ),
]


@gallery_app.command("create")
@guarded
def create(name: NameArg, purpose: PurposeOption = "", use: UseOption = None, json: JsonFlag = False) -> None:
    """Create an empty gallery with its purpose (required; recorded) and uses. Enrolment never creates one."""
    app, me = signed_in()
    row = app.galleries.create(me, name, purpose, use or None)
    if json:
        emit(row)
    else:
        err.print(
            f"gallery {row['name']} created ({row['space']}; uses: {', '.join(row['uses'])}); enrol into it with: "
            "openfr gallery import"
        )


@gallery_app.command("uses")
@guarded
def uses(
    name: NameArg,
    use: UseOption = None,
    reason: Annotated[str, typer.Option(help="Why the uses change (required; recorded).")] = "",
    none: Annotated[bool, typer.Option("--none", help="Withdraw it from every use (its images are kept).")] = False,
    json: JsonFlag = False,
) -> None:
    """Approve a gallery for exactly the uses given (administrators; recorded with the reason)."""
    if not use and not none:
        raise BadInputError("give the gallery's uses (--use oifr --use rfr ...), or --none to withdraw it from all")
    if use and none:
        raise BadInputError("--none withdraws every use: leave out --use with it")
    app, me = signed_in()
    row = app.galleries.set_uses(me, name, use or [], reason)
    if json:
        emit(row)
    elif row["changed"]:
        out.print(f"gallery {name}: uses {describe(row['uses'])} (were {describe(row['previous'])})")
    else:
        out.print(f"gallery {name}: uses unchanged ({describe(row['uses'])})")


@gallery_app.command("import")
@guarded
def import_(
    name: NameArg,
    directory: Annotated[Path, typer.Argument(help="DIR/<subject_id>/<images>.")],
    manifest: Annotated[
        Path | None, typer.Option(help="CSV: subject_id,name,category,legal_basis,source (any subset but subject_id).")
    ] = None,
    create: Annotated[
        bool, typer.Option("--create", help="Create the gallery first if it does not exist (needs --purpose).")
    ] = False,
    purpose: PurposeOption = "",
    use: UseOption = None,
    json: JsonFlag = False,
    pack: PackOption = None,
) -> None:
    """Enrol a folder of subjects into an existing gallery (or a new one, with --create --purpose [--use]).
    Resumable and idempotent: rerun it after any interruption. A subject whose every image is rejected is not
    created."""
    if (purpose.strip() or use) and not create:
        raise BadInputError(
            "--purpose and --use go with --create (a new gallery); leave them out to import into an existing one"
        )
    app, me = signed_in(pack)
    bars: list[tuple[Progress, TaskID]] = []

    def advance(step: int, total: int) -> None:
        if not bars:  # shown once the import is under way: a refused one prints only its reason
            bar = Progress(
                TextColumn("[bold]enrolling"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=err,
                transient=True,  # the summary below stays
            )  # fmt: skip
            bar.start()
            bars.append((bar, bar.add_task("import", total=total)))
        bar, task = bars[0]
        bar.update(task, total=total, advance=step)

    try:
        new = purpose if create else None
        report = app.galleries.enrol_folder(
            me, name, directory, manifest=manifest, progress=advance, create=new, uses=use or None
        )
    finally:
        for bar, _ in bars:
            bar.stop()
    if json:
        emit(report.as_dict())
        return
    out.print(
        f"{report.seen} image(s): {report.enrolled} enrolled, {report.already} already enrolled, "
        f"{len(report.rejected)} rejected"
    )
    if report.rejected:
        table = Table("image", "reason", title="Rejected images (not stored)")
        for path, reason in report.rejected[:50]:
            table.add_row(path, reason)
        out.print(table)
        if len(report.rejected) > 50:
            out.print(f"... and {len(report.rejected) - 50} more (use --json for all)")


@gallery_app.command("list")
@guarded
def list_(json: JsonFlag = False) -> None:
    """Galleries with their uses, subject and template counts and embedding space."""
    app, me = signed_in()
    rows = app.galleries.list(me)
    if json:
        emit({"galleries": rows})
        return
    columns = ("name", "kind", "uses", "subjects", "templates", "space")
    table = Table(*columns)
    for row in rows:
        shown = {**row, "uses": ", ".join(row["uses"]) or "none"}
        table.add_row(*(str(shown[c]) for c in columns))
    out.print(table)


@gallery_app.command("subjects")
@guarded
def subjects(
    name: NameArg,
    q: Annotated[str, typer.Option("--q", help="Only references or names containing this.")] = "",
    offset: Annotated[int, typer.Option(min=0, help="Skip this many.")] = 0,
    limit: Annotated[int, typer.Option(min=1, max=500, help="At most this many.")] = 100,
) -> None:
    """Subjects of a gallery with their details and enrolled image counts, one JSON line each."""
    app, me = signed_in()
    for row in app.galleries.subjects(me, name, q=q, offset=offset, limit=limit):
        emit(row)


@gallery_app.command("delete-subject")
@guarded
def delete_subject(
    name: NameArg,
    subject: Annotated[str, typer.Argument(help="The subject's id in the gallery.")],
    reason: Annotated[str, typer.Option(help="Why (required; recorded in the audit trail), e.g. 'acquitted'.")] = "",
    yes: YesFlag = False,
    json: JsonFlag = False,
) -> None:
    """Delete a subject with all its images, templates and index entries, in one transaction. Asks to confirm."""
    app, me = signed_in()
    if reason.strip():  # without a reason the service refuses below, before anything is asked
        found = app.galleries.deletion_preview(me, name, subject)
        question = f"Delete {subject} from {name}: {found['images']} image record(s), {found['templates']} template(s)?"
        confirmed(question, yes)
    result = app.galleries.delete_subject(me, name, subject, reason)
    if json:
        emit(result)
    else:
        out.print(f"deleted subject {subject}: {result['templates']} template(s), {result['images']} image(s)")


@gallery_app.command("reembed")
@guarded
def reembed(name: NameArg, json: JsonFlag = False, pack: PackOption = None) -> None:
    """Rebuild every template from the stored source images with the current (or given) model pack."""
    app, me = signed_in(pack)
    result = app.galleries.reembed(me, name, pack)
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
    reason: Annotated[str, typer.Option(help="Why this search is made (required; recorded).")] = "",
    crime_ref: Annotated[str | None, typer.Option(help="Crime or case reference (recorded).")] = None,
    poor_probe_reason: Annotated[
        str, typer.Option(help="Why a photo below the quality gate is searched anyway (recorded; may be required).")
    ] = "",
    top: Annotated[int, typer.Option("--top", min=1, max=200, help="Candidates per probe.")] = 10,
    show_all: Annotated[
        bool, typer.Option("--show-all", help="List candidates below the threshold too (recorded with the search).")
    ] = False,
    json: JsonFlag = False,
    pack: PackOption = None,
) -> None:
    """Ranked candidates for each probe. A candidate is an investigative lead, never an identification.

    Every search is recorded: who, why, when, and the candidates returned (never the probe image).
    """
    app, me = signed_in(pack)
    request = SearchRequest(name, reason, crime_ref, "RFR", top, poor_probe_reason, show_all)
    bad = 0
    for image_path in images:
        try:
            photo = read_photo(image_path)
            result = app.search.search(me, request, photo, name=str(image_path))
        except BadInputError as exc:
            if len(images) == 1:
                raise
            bad += 1
            emit({"image": str(image_path), "error": str(exc)})
            continue
        if json:
            emit({"image": str(image_path), **result.as_dict()})
            continue
        title = f"{image_path}: candidates in '{name}' ({result.elapsed_ms:.1f} ms)"
        out.print(candidates_table(title, result.candidates))
        if result.warning:
            err.print(f"warning: {result.warning}", markup=False, soft_wrap=True)
    if bad:
        raise typer.Exit(2)
