"""`openfr models` (model cards) and `openfr config` (effective settings and their documentation)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from openfr.cli.common import JsonFlag, emit, guarded, out, print_or_check
from openfr.engine.packs import get_pack, pack_ids
from openfr.engine.packs.base import licence_allows
from openfr.identification import calibration_problem
from openfr.settings import Settings
from openfr.settings.docs import settings_reference
from openfr.thresholds import identification_section

config_app = typer.Typer(help="Show the effective settings or their reference documentation.", no_args_is_help=True)


@guarded
def models(json: JsonFlag = False) -> None:
    """Model cards of every registered pack: licence, training data, accuracy, calibrated threshold."""
    settings = Settings.from_environment()
    rows = []
    for pack_id in pack_ids():
        pack = get_pack(settings, pack_id)
        ok, where = pack.available()
        card = pack.card.as_dict()
        card.update(
            installed=ok,
            location=where,
            default=pack_id == settings.model_pack,
            allowed=licence_allows(pack.card, settings),
            identification=identification_section(pack.card, settings.live.target_fpir),
            identification_problem=calibration_problem(pack.card) or None,
        )
        rows.append(card)
    if json:
        emit({"operational": settings.operational, "packs": rows})
        return
    for card in rows:
        table = Table(title=f"{card['id']}{'  (default)' if card['default'] else ''}", show_header=False)
        table.add_column(style="bold")
        table.add_column()
        for key in (
            "name",
            "detector",
            "embedder",
            "embedding_size",
            "training_data",
            "licence",
            "licence_class",
            "published_accuracy",
            "threshold",
            "threshold_note",
            "installed",
            "location",
            "allowed",
        ):
            table.add_row(key.replace("_", " "), str(card[key]))
        section = card["identification"]
        for row in section["thresholds"] if section else []:
            table.add_row(
                f"live threshold, {row['watchlist_size']:,} people",
                f"{row['threshold']:.3f}: about {row['false_alerts_per_100k']:.1f} false alerts per 100,000 "
                f"faces (worst group: {row['worst_group']})",
            )
        if section is None:
            table.add_row("live threshold", f"none, live deployments are refused: {card['identification_problem']}")
        out.print(table)
    if settings.operational:
        out.print("Operational installation: research-licence packs are refused unless explicitly allowed.")


@config_app.command("show")
@guarded
def config_show() -> None:
    """Print the effective settings (environment included) as JSON."""
    emit(Settings.from_environment().model_dump(mode="json"))


@config_app.command("docs")
@guarded
def config_docs(
    check: Annotated[bool, typer.Option(help="Exit 1 if docs/configuration.md differs.")] = False,
) -> None:
    """Print the settings reference (the text of docs/configuration.md)."""
    print_or_check(settings_reference(), Path("docs/configuration.md"), check)
