"""The `openfr` command. Each subsystem's commands live in their own module and are registered here,
so this file reads as the list of what openfr can do."""

from __future__ import annotations

import os

import typer

from openfr.cli import (
    audit_cmds,
    bench_cmds,
    demo_cmd,
    deployment_cmds,
    engine_cmds,
    evaluate_cmds,
    gallery_cmds,
    live_cmds,
    models_cmds,
    oifr_cmds,
    report_cmds,
    serve_cmd,
    session_cmds,
    token_cmds,
    user_cmds,
)

app = typer.Typer(
    name="openfr",
    help="Open, auditable facial recognition. JSON on stdout, messages on stderr; exit 0 ok, 2 bad input, 1 failure.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,  # never print locals (they can hold faces and embeddings)
    add_completion=False,
)

app.command()(session_cmds.login)
app.command()(session_cmds.logout)
app.command()(session_cmds.whoami)
app.command()(session_cmds.passwd)
app.command()(engine_cmds.detect)
app.command()(engine_cmds.embed)
app.command()(engine_cmds.compare)
app.command()(gallery_cmds.search)
app.command()(live_cmds.watch)
app.command()(serve_cmd.serve)
app.command()(models_cmds.models)
app.command()(demo_cmd.demo)
app.command(name="demo-search")(demo_cmd.demo_search)
app.command(name="purge")(deployment_cmds.purge_command)
app.add_typer(models_cmds.config_app, name="config")
app.add_typer(gallery_cmds.gallery_app, name="gallery")
app.add_typer(evaluate_cmds.evaluate_app, name="evaluate")
app.add_typer(bench_cmds.bench_app, name="bench")
app.add_typer(deployment_cmds.deployment_app, name="deployment")
app.add_typer(deployment_cmds.alert_app, name="alert")
app.add_typer(audit_cmds.audit_app, name="audit")
app.add_typer(user_cmds.user_app, name="user")
app.add_typer(token_cmds.token_app, name="token")
app.add_typer(report_cmds.report_app, name="report")
app.add_typer(oifr_cmds.oifr_app, name="oifr")


def main() -> None:
    # Everything openfr writes (the database, face images, alert crops, keys, logs) is the owner's alone:
    # other accounts on the machine must not read biometric data.
    os.umask(0o077)
    app()
