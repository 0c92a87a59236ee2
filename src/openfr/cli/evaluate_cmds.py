"""`openfr evaluate pairs`: verification accuracy on an LFW-format pairs file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from openfr.cli.common import JsonFlag, PackOption, emit, err, fail, guarded, out
from openfr.evaluation.pairs import read_pairs
from openfr.evaluation.plots import save_roc_det
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
