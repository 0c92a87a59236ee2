"""`openfr bench oifr`: what an officer waits for, from uploading a phone photo to seeing candidates, at
custody-gallery scale, measured over HTTP against a real server.

A throwaway installation (`evaluation/bench_gallery.py`) gets a gallery approved for OIFR holding N faces,
real mates among them; `openfr serve` then runs in its own process (its CPU and memory its own, as in
production) on a free loopback port; an officer signs in over HTTP and sends each probe, a real photo
resized to 12 MP, to `POST /api/oifr/search` as the phone page does. Each request is timed from the first
byte sent to the last byte of candidates received.

The first search after the server starts loads the model and builds the gallery's index from the store: it
is reported on its own (`first_ms`), as are the warm-up requests after it; neither is in the percentiles.
"""

from __future__ import annotations

import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

from openfr.errors import OpenFRError
from openfr.evaluation import bench_gallery
from openfr.gallery.synthetic import FaceStatistics
from openfr.settings import Settings

ROUTE = "/api/oifr/search"
WARMUP = 2  # requests after the first, excluded from the figures (allocations, caches, branch predictors)
# The server gets the caller's tuning (OPENFR_ENGINE__..., OPENFR_GALLERY__...) but never the caller's data.
NOT_PASSED_ON = ("OPENFR_HOME", "OPENFR_DATABASE_URL", "OPENFR_AUDIT_CHECKPOINT_FILE")


class BenchError(OpenFRError):
    exit_code = 1


def bench_statistics(settings: Settings, data_root: Path, cache_dir: Path) -> FaceStatistics:
    """Real-face statistics as `openfr bench search` fits them (cached under `cache_dir`) where
    ../shared/data is present; otherwise from the model wheel's sample photos."""
    from openfr.gallery.bench import REAL_SOURCES, face_statistics

    if any((data_root / source).is_dir() for source in REAL_SOURCES):
        return face_statistics(settings, data_root, cache_dir)
    return sample_statistics(settings)


def sample_statistics(settings: Settings) -> FaceStatistics:
    """Embedding statistics from the model wheel's sample photos (every face, and their mirror images), for
    a machine without ../shared/data. Too few faces for a full covariance, so shrunk towards isotropic noise
    of the same size (as tests/test_index.py does): a rougher gallery than `bench search`'s, said so in the
    output."""
    from openfr.engine.pipeline import load_engine
    from openfr.services.demo import sample

    engine = load_engine(settings)
    images = [sample(name) for name in ("yaoming", "players", "gdp")]
    images += [np.ascontiguousarray(image[:, ::-1]) for image in images]
    faces = [face for image in images for face in engine.analyse(image)]
    fitted = FaceStatistics.fit(np.stack([f.embedding.vector for f in faces]), "")
    dim = fitted.mean.shape[0]
    factor = 0.5 * fitted.factor + 0.5 * np.eye(dim, dtype=np.float32) * 0.05
    return FaceStatistics(fitted.mean, factor, f"{len(faces)} faces of the model wheel's sample photos (shrunk)")


def run(settings: Settings, size: int, stats: FaceStatistics, data_root: Path, probes: int = 20) -> dict:
    load_before = os.getloadavg()[0]
    persons, photos = bench_gallery.people(data_root)
    with tempfile.TemporaryDirectory(prefix="openfr-bench-oifr-") as tmp:
        home = Path(tmp) / "home"
        started = time.perf_counter()
        installation = bench_gallery.build(settings, home, size, stats, persons, probes + 1 + WARMUP)
        build_s = time.perf_counter() - started
        log = Path(tmp) / "server.log"
        began = time.perf_counter()
        with running_server(home, log) as (base, pid):
            server_start_s = time.perf_counter() - began
            results = _search_all(base, installation, installation.probes)
            rss_mb, _ = _memory_mb(pid)
            # A custody image enrolled while the server runs: the next search rebuilds the index from the store.
            bench_gallery.enrol_one_more(installation)
            after_enrolment = _search_all(base, installation, installation.probes[:1])[0]
            _, peak_mb = _memory_mb(pid)
        # The first server saved the index it built under $OPENFR_HOME/index: a restart loads it instead.
        with running_server(home, log) as (base, _):
            restarted = _search_all(base, installation, installation.probes[:1])[0]
    timings = {"first": results[0], "warmup": results[1 : 1 + WARMUP], "timed": results[1 + WARMUP :]}
    found = timings["timed"]
    latencies = np.array([t["ms"] for t in found])
    return {
        "size": size,
        "probes": len(latencies),
        "p50_ms": _round(np.percentile(latencies, 50)),
        "p95_ms": _round(np.percentile(latencies, 95)),
        "max_ms": _round(latencies.max()),
        "mean_ms": _round(latencies.mean()),
        "first_ms": _round(timings["first"]["ms"]),
        "first_after_enrolment_ms": _round(after_enrolment["ms"]),
        "first_after_restart_ms": _round(restarted["ms"]),
        "warmup_ms": [_round(t["ms"]) for t in timings["warmup"]],
        "server_ms_p50": _median_or_none([t["server_ms"] for t in found]),
        "mate_rank_1": round(sum(t["rank"] == 1 for t in found) / len(found), 4),
        "mate_listed": round(sum(t["rank"] is not None for t in found) / len(found), 4),
        "build_s": round(build_s, 1),
        "build": {k: round(v, 1) for k, v in installation.timings.items()},
        "server_start_s": round(server_start_s, 1),
        "server_rss_mb": rss_mb,
        "server_peak_rss_mb": peak_mb,
        "index": _index_kind(settings, size),
        "route": ROUTE,
        "photos": f"{photos}, resized to 12 MP JPEG (quality 92)",
        "photo_mb_mean": round(float(np.mean([len(p[2]) for p in installation.probes])) / 1e6, 2),
        "distinct_photos": len({(p[0], p[1]) for p in installation.probes}),
        "mates_enrolled": installation.mates,
        "gallery_faces": installation.faces,
        "statistics": stats.source,
        "load_average": {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)},
        "machine": machine(),
    }


def _search_all(base: str, installation: bench_gallery.Installation, probes: list) -> list[dict]:
    """Sign in as the officer over HTTP, then send the probes one after another."""
    with httpx.Client(base_url=base, timeout=httpx.Timeout(30.0, read=1800.0)) as http:
        answer = http.post("/api/login", json={"username": bench_gallery.OFFICER, "password": installation.password})
        _check(answer, "signing in as the officer")
        http.headers["Authorization"] = f"Bearer {answer.json()['token']}"
        answer = http.get("/api/oifr/grounds")
        _check(answer, "reading the approved grounds")
        grounds = answer.json()[0]["key"]
        return [_search(http, grounds, subject, name, photo) for subject, name, photo in probes]


def _search(http: httpx.Client, grounds: str, mate: str, name: str, photo: bytes) -> dict:
    fields = {"grounds": grounds, "details": "openfr bench oifr: benchmark search", "location": "loopback"}
    started = time.perf_counter()
    answer = http.post(ROUTE, data=fields, files={"image": (name, photo, "image/jpeg")})
    elapsed = (time.perf_counter() - started) * 1000
    _check(answer, f"searching with {name}")
    body = answer.json()
    ranks = [c["rank"] for c in body["candidates"] if c["subject"] == mate]
    return {"ms": elapsed, "rank": ranks[0] if ranks else None, "server_ms": body.get("elapsed_ms")}


def _check(answer: httpx.Response, what: str) -> None:
    if answer.status_code != 200:
        detail = answer.text[:300] if answer.headers.get("content-type", "").startswith("application/json") else ""
        raise BenchError(f"{what}: HTTP {answer.status_code} {detail}".strip())


class running_server:  # noqa: N801 - used as a context manager, like open()
    """`openfr serve` on a free loopback port in its own process, for the installation at `home`; always
    stopped on the way out (SIGTERM, then SIGKILL)."""

    def __init__(self, home: Path, log: Path, wait_s: float = 180.0):
        self.home, self.log, self.wait_s = home, log, wait_s

    def __enter__(self) -> tuple[str, int]:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if k.upper() not in NOT_PASSED_ON}
        env["OPENFR_HOME"] = str(self.home)
        command = [sys.executable, "-m", "openfr", "serve", "--host", "127.0.0.1", "--port", str(port)]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + self.wait_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._stop()
                tail = self.log.read_text(errors="replace")[-500:]
                raise BenchError(f"the server exited with status {self.process.returncode}: {tail}")
            try:
                if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                    return base, self.process.pid
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self._stop()
        raise BenchError(f"the server did not answer within {self.wait_s:.0f} s")

    def __exit__(self, *exc) -> None:
        self._stop()

    def _stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def _memory_mb(pid: int) -> tuple[float, float | None]:
    """The server's resident memory now and at its peak (VmHWM, Linux only)."""
    import psutil

    rss = psutil.Process(pid).memory_info().rss / 2**20
    peak = None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peak = round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(rss, 1), peak


def machine() -> dict:
    import psutil

    from openfr.engine.onnx import available_cores

    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": model,
        "cores": available_cores(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "arch": platform.machine(),
        "python": platform.python_version(),
    }


def _index_kind(settings: Settings, size: int) -> str:
    cfg = settings.gallery
    if size <= cfg.exact_max_size:
        return f"exact ({cfg.exact_dtype})"
    return cfg.large_index


def _round(value) -> float:
    return round(float(value), 1)


def _median_or_none(values: list) -> float | None:
    known = [v for v in values if v is not None]
    return _round(np.median(known)) if known else None
