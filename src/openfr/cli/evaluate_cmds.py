"""`openfr evaluate pairs | equity | calibrate`: verification accuracy on a pairs file, error rates per
demographic group, and a pack's identification calibration (the live thresholds per watchlist size)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from openfr.cli.common import JsonFlag, PackOption, emit, err, fail, guarded, out
from openfr.evaluation.equity import Columns
from openfr.evaluation.pairs import read_pairs
from openfr.evaluation.plots import save_equity, save_roc_det
from openfr.evaluation.verification import evaluate_pairs
from openfr.settings import Settings

evaluate_app = typer.Typer(help="Measure accuracy on labelled data.", no_args_is_help=True)


@evaluate_app.command("pairs")
@guarded
def pairs(
    pairs_file: Annotated[Path, typer.Argument(help="LFW-format pairs file (pairsDevTest.txt, pairs.txt).")],
    images: Annotated[
        Path | None,
        typer.Option(help="Folder of <name>/<name>_NNNN.jpg (default: 'images' or 'lfw' beside it)."),
    ] = None,
    threshold: Annotated[float | None, typer.Option(help="Threshold to report at (default: the pack's).")] = None,
    plot: Annotated[Path | None, typer.Option(help="Save the ROC and DET curves to this PNG.")] = None,
    json: JsonFlag = False,
    pack: PackOption = None,
) -> None:
    """Accuracy, FMR/FNMR at the threshold, TAR at FAR 1e-2 and 1e-3, best threshold on this set."""
    if images is None:
        candidates = [pairs_file.parent / "images", pairs_file.parent / "lfw"]
        images = next((c for c in candidates if c.is_dir()), None)
        if images is None:
            fail(f"no image folder found beside {pairs_file}; pass --images")
    settings = Settings.from_environment()
    report = evaluate_pairs(read_pairs(pairs_file, images), settings, threshold=threshold, pack_id=pack)
    summary = report.summary()
    if plot is not None:
        save_roc_det(
            report.genuine,
            report.impostor,
            report.threshold,
            plot,
            title=f"{pairs_file.name} - {report.pack}",
        )
        summary["plot"] = str(plot)
    for failure in report.failures[:10]:
        err.print(f"openfr: no face: {failure}", markup=False)
    if json:
        emit(summary)
        return
    out.print(
        f"{summary['pairs']} pairs ({summary['genuine_pairs']} same, {summary['impostor_pairs']} different), "
        f"pack {summary['pack']}, {summary['failed_images']} image(s) without a face"
    )
    out.print(
        f"at threshold {summary['threshold']}: accuracy {summary['accuracy']:.2%}, "
        f"false match rate {summary['fmr']:.2%}, false non-match rate {summary['fnmr']:.2%}"
    )
    for row in summary["tar_at_far"]:
        note = "" if row["resolved"] else "  (too few impostor pairs to resolve this FAR)"
        out.print(f"TAR at FAR {row['far']:g}: {row['tar']:.2%}{note}")
    out.print(
        f"best threshold on this set: {summary['best_threshold_on_this_set']} "
        f"(accuracy {summary['best_accuracy_on_this_set']:.2%}; optimistic, chosen on the test data)"
    )


LabelColumns = {
    "file_column": typer.Option(help="labels.csv column naming each image."),
    "sex_column": typer.Option(help="labels.csv column holding sex."),
    "ethnicity_column": typer.Option(help="labels.csv column holding ethnicity."),
    "age_column": typer.Option(help="labels.csv column holding age ('' for none)."),
    "identity_column": typer.Option(help="labels.csv column naming the person, for mated pairs ('' for none)."),
}


@evaluate_app.command("equity")
@guarded
def equity(
    directory: Annotated[Path, typer.Argument(help="Folder with labels.csv and the images (or images/).")],
    threshold: Annotated[float | None, typer.Option(help="1:1 threshold to report at (default: the pack's).")] = None,
    plot: Annotated[Path | None, typer.Option(help="Save a chart of the rates per group to this PNG.")] = None,
    bootstrap: Annotated[int, typer.Option(min=20, help="Resamples for the FMR and FNMR intervals.")] = 200,
    file_column: Annotated[str, LabelColumns["file_column"]] = "file",
    sex_column: Annotated[str, LabelColumns["sex_column"]] = "gender",
    ethnicity_column: Annotated[str, LabelColumns["ethnicity_column"]] = "race",
    age_column: Annotated[str, LabelColumns["age_column"]] = "age",
    identity_column: Annotated[str, LabelColumns["identity_column"]] = "",
    json: JsonFlag = False,
    pack: PackOption = None,
) -> None:
    """FMR, FNMR and live FPIR per group (sex x ethnicity, age bands), with 95% intervals and counts."""
    from openfr.evaluation.equity import equity_report

    columns = Columns(file_column, sex_column, ethnicity_column, age_column or None, identity_column or None)
    report = equity_report(directory, columns, Settings.from_environment(), pack, threshold, bootstrap)
    summary = report.as_dict()
    if plot is not None:
        rows = [g for g in report.groups if g["kind"] == "sex x ethnicity"]
        save_equity(rows, plot, title=f"{directory.name} - {report.pack} at {report.threshold:.3f}")
        summary["plot"] = str(plot)
    if json:
        emit(summary)
        return
    out.print(
        f"{report.faces} faces ({report.without_face} without a face left out), pack {report.pack}; FMR at "
        f"{report.threshold:.3f} (1:1) and {report.live_threshold:.3f} (live, {report.watchlist_size} people); "
        "FPIR: the group's faces searched against every other face"
    )
    for g in report.groups:
        fnmr = "" if g["fnmr"] is None else f"  FNMR {_pct(g['fnmr'], g['fnmr_ci'])}"
        out.print(
            f"{g['group']:<22} n={g['n']:<5} FMR {_pct(g['fmr'], g['fmr_ci'])} ({g['impostor_pairs']} pairs)  "
            f"live FMR {_pct(g['fmr_live'], g['fmr_live_ci'])}  FPIR {_pct(g['fpir'], g['fpir_ci'])}{fnmr}",
            markup=False,
        )
    for rate, ratio in summary["worst_best_ratio"].items():
        out.print(f"worst/best {rate}: {'-' if ratio is None else f'{ratio:.1f}x'}")


def _pct(rate: float, ci: list[float]) -> str:
    return f"{rate:.3%} [{ci[0]:.3%}, {ci[1]:.3%}]"


@evaluate_app.command("calibrate")
@guarded
def calibrate(
    labelled: Annotated[Path, typer.Argument(help="Strangers: a folder with labels.csv (as for equity).")],
    watchlist: Annotated[Path, typer.Option(help="Watchlist set: a folder of <identity>/<image> (LFW's layout).")],
    output: Annotated[
        Path | None,
        typer.Option("--out", help="Write the calibration JSON here instead of where the pack looks for it."),
    ] = None,
    same_person_above: Annotated[
        float, typer.Option(help="A stranger scoring this high against the watchlist set is set aside.")
    ] = 0.38,
    file_column: Annotated[str, LabelColumns["file_column"]] = "file",
    sex_column: Annotated[str, LabelColumns["sex_column"]] = "gender",
    ethnicity_column: Annotated[str, LabelColumns["ethnicity_column"]] = "race",
    json: JsonFlag = False,
    pack: PackOption = None,
) -> None:
    """Fit the pack's identification calibration per group and write it where the pack looks for it (beside an
    onnx-dir pack; in the package for a built-in one); print the live threshold per watchlist size."""
    from openfr.evaluation.calibrate import calibrate_from_folders, save_calibration

    settings = Settings.from_environment()
    columns = Columns(file_column, sex_column, ethnicity_column, None, None)
    calibration, checks, card = calibrate_from_folders(labelled, columns, watchlist, settings, pack, same_person_above)
    written = save_calibration(calibration, card, output)
    table = calibration.table(settings.live.target_fpir, card.threshold)
    if json:
        emit({"calibration": str(written), "checks": checks, "thresholds": table})
        return
    out.print(f"wrote {written}; at a target of {settings.live.target_fpir:g} false alerts per stranger:")
    for row in table:
        out.print(f"  {row['watchlist_size']:>7} people: threshold {row['threshold']:.3f}")
    out.print(f"strangers set aside: {checks['strangers set aside as probably in the watchlist set']}")
