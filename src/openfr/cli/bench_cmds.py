"""`openfr bench search`: measure gallery search at a chosen size on this machine."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from openfr.cli.common import JsonFlag, emit, guarded, out, runtime

bench_app = typer.Typer(help="Measure performance on this machine.", no_args_is_help=True)
DEFAULT_DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"


@bench_app.command("search")
@guarded
def search(
    size: Annotated[int, typer.Option(min=1, help="Faces in the synthetic gallery.")] = 100_000,
    probes: Annotated[int, typer.Option(min=10, help="Probes, each with a planted mate.")] = 600,
    data: Annotated[Path, typer.Option(help="Real face data to fit the statistics from.")] = DEFAULT_DATA,
    json: JsonFlag = False,
) -> None:
    """Synthetic gallery with real-face statistics: build time, latency, recall@1 by band, bytes/face, RSS."""
    from openfr.gallery.bench import face_statistics, run

    svc = runtime()
    stats = face_statistics(svc.settings, data, svc.home / "bench")
    result = run(size, svc.settings, stats, probes=probes)
    if json:
        emit(result)
    else:
        out.print_json(data=result)
