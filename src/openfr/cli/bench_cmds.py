"""`openfr bench search` and `openfr bench oifr`: measure gallery search, and an officer's phone search over
HTTP, at a chosen gallery size on this machine."""

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


@bench_app.command("oifr")
@guarded
def oifr(
    size: Annotated[int, typer.Option(min=1, help="Faces in the gallery approved for OIFR (real mates + synthetic).")],
    probes: Annotated[int, typer.Option(min=1, help="Timed searches (after the first and two warm-ups).")] = 20,
    data: Annotated[
        Path, typer.Option(help="Real face data: statistics and probe photos (else the model's sample photos).")
    ] = DEFAULT_DATA,
    json: JsonFlag = False,
) -> None:
    """Upload -> candidates over HTTP: a real server on loopback with an OIFR gallery of SIZE faces, an officer
    sending real photos resized to 12 MP. Latency p50/p95/max, the first search (index build), server memory."""
    from openfr.evaluation.oifr_bench import bench_statistics, run

    svc = runtime()
    stats = bench_statistics(svc.settings, data, svc.home / "bench")
    result = run(svc.settings, size, stats, data, probes)
    if json:
        emit(result)
    else:
        out.print(oifr_table(result))


def oifr_table(result: dict):
    from rich.table import Table

    table = Table(title=f"OIFR upload -> candidates over HTTP, {result['size']:,} faces", show_header=False)
    machine = result["machine"]
    rows = [
        ("timed searches", f"{result['probes']} ({result['distinct_photos']} distinct photos)"),
        ("p50 / p95 / max", f"{result['p50_ms']:.0f} / {result['p95_ms']:.0f} / {result['max_ms']:.0f} ms"),
        ("inside the server (photo in -> recorded), p50", f"{result['server_ms_p50']} ms"),
        ("first search (model + index build)", f"{result['first_ms']:.0f} ms"),
        ("first after one more enrolment (index rebuilt)", f"{result['first_after_enrolment_ms']:.0f} ms"),
        ("first after a restart (saved index)", f"{result['first_after_restart_ms']:.0f} ms"),
        ("warm-ups (excluded)", ", ".join(f"{v:.0f} ms" for v in result["warmup_ms"])),
        ("mate ranked first / listed", f"{result['mate_rank_1']:.0%} / {result['mate_listed']:.0%}"),
        ("gallery", f"{result['gallery_faces']:,} faces, built in {result['build_s']} s ({result['index']} index)"),
        ("server memory now / peak", f"{result['server_rss_mb']:,.0f} / {result['server_peak_rss_mb'] or 0:,.0f} MB"),
        ("photos", result["photos"]),
        ("statistics", result["statistics"]),
        ("machine", f"{machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB"),
        ("load average before / after", f"{result['load_average']['before']} / {result['load_average']['after']}"),
    ]
    for label, value in rows:
        table.add_row(label, str(value))
    return table
