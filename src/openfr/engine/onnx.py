"""onnxruntime sessions tuned for the machine they run on."""

from __future__ import annotations

import os
from pathlib import Path

import onnxruntime as ort

_PREFERRED = ("CUDAExecutionProvider", "OpenVINOExecutionProvider", "CPUExecutionProvider")


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        return os.cpu_count() or 1


def choose_providers(requested: list[str] | None) -> list[str]:
    available = set(ort.get_available_providers())
    if requested:
        missing = [p for p in requested if p not in available]
        if missing:
            from openfr.errors import ConfigurationError

            raise ConfigurationError(
                f"onnxruntime providers not installed: {', '.join(missing)} (available: {sorted(available)})"
            )
        return list(requested)
    return [p for p in _PREFERRED if p in available] or ["CPUExecutionProvider"]


def make_session(
    path: Path, *, threads: int, providers: list[str] | None = None, spinning: bool = True
) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.intra_op_num_threads = max(1, threads)
    opts.inter_op_num_threads = 1
    # Spinning threads burn a core while waiting; with one worker process per core they only steal time
    # from the neighbouring worker.
    opts.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning and threads > 1 else "0")
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), sess_options=opts, providers=choose_providers(providers))
