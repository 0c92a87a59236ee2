"""How long a command takes to start: every `openfr ...` is a new process that imports the command line, the
services and what they import before doing anything, so an officer at a terminal (or a script calling openfr
in a loop) pays it every time.

    .venv/bin/python benchmarks/cli_start.py [--runs 15] [--src OTHER/src] [--json]

Reported: the median and the fastest wall time of `openfr --help` and of `openfr whoami` on a new home (which
reads the settings, opens the embedded database and answers "not signed in"), each run in a fresh process.
`--src` runs the same commands from another checkout's `src/` (e.g. the commit before a change) with this
checkout's virtual environment, so the two can be interleaved on the same machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

COMMANDS = {"--help": ["--help"], "whoami": ["whoami"]}


def timed(args: list[str], env: dict) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "openfr", *args], env=env, capture_output=True, check=False)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--src", action="append", default=[], help="another checkout's src/ (repeatable)")
    parser.add_argument("--json", action="store_true")
    options = parser.parse_args()
    trees = ["this checkout", *options.src]
    times: dict[tuple[str, str], list[float]] = {(t, c): [] for t in trees for c in COMMANDS}
    with tempfile.TemporaryDirectory() as home:
        for _ in range(options.runs):  # interleaved: each round runs every tree and command once
            for tree in trees:
                env = {**os.environ, "OPENFR_HOME": home}
                if tree != "this checkout":
                    env["PYTHONPATH"] = tree  # ahead of the editable install's path
                for name, args in COMMANDS.items():
                    times[(tree, name)].append(timed(args, env))
    rows = [
        {"tree": t, "command": c, "median_s": round(statistics.median(v), 3), "fastest_s": round(min(v), 3)}
        for (t, c), v in times.items()
    ]
    report = {"runs": options.runs, "machine": {"cores": os.cpu_count(), "python": platform.python_version()}}
    report["results"] = rows
    if options.json:
        print(json.dumps(report, indent=2))
        return
    for row in rows:
        figures = f"median {row['median_s']:.2f} s, fastest {row['fastest_s']:.2f} s"
        print(f"{row['tree']:<40} openfr {row['command']:<8} {figures}")


if __name__ == "__main__":
    main()
