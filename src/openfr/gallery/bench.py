"""`openfr bench search`: build a synthetic gallery of N faces, plant mates, measure the index.

Reports build time, single-probe latency (p50/p95), recall@1 against exact search overall and per
similarity band, how often the planted mate is ranked first, bytes per face and peak RSS.
"""

from __future__ import annotations

import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from openfr.gallery.index import BinaryIndex, ExactIndex, HnswIndex, random_rotation, sign_codes, split_codes
from openfr.gallery.synthetic import BANDS, FaceStatistics, plant_mate
from openfr.settings import Settings

REAL_SOURCES = ("lfw_view1/images", "orl", "yale", "five_celebrity")


def face_statistics(settings: Settings, data_root: Path, cache_dir: Path) -> FaceStatistics:
    """Fit (once, then cached) the embedding statistics of the real faces under `data_root`."""
    from openfr.engine.batch import analyse_paths
    from openfr.engine.pipeline import load_engine
    from openfr.imageio import iter_image_paths

    space = load_engine(settings).space
    cache = cache_dir / f"face-stats-{space.replace('@', '-')}.npz"
    if cache.exists():
        return FaceStatistics.load(cache)
    folders = [data_root / s for s in REAL_SOURCES if (data_root / s).is_dir()]
    if not folders:
        from openfr.errors import BadInputError

        raise BadInputError(f"no real face data under {data_root} to fit the statistics from (see --data)")
    vectors = [
        face.embedding.vector
        for result in analyse_paths(iter_image_paths(folders), settings)
        if (face := result.main_face()) is not None and face.embedding is not None
    ]
    stats = FaceStatistics.fit(np.stack(vectors), f"{len(vectors)} faces from {', '.join(f.name for f in folders)}")
    cache_dir.mkdir(parents=True, exist_ok=True)
    stats.save(cache)
    return stats


def exact_top1(gallery: np.ndarray, probes: np.ndarray, chunk: int = 250_000) -> np.ndarray:
    best_score = np.full(len(probes), -np.inf, dtype=np.float32)
    best_row = np.zeros(len(probes), dtype=np.int64)
    for start in range(0, len(gallery), chunk):
        scores = probes @ gallery[start : start + chunk].astype(np.float32).T
        row = scores.argmax(axis=1)
        score = scores[np.arange(len(probes)), row]
        better = score > best_score
        best_score[better] = score[better]
        best_row[better] = row[better] + start
    return best_row


def run(size: int, settings: Settings, stats: FaceStatistics, *, probes: int = 600, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    probe_vectors = stats.sample(probes, rng)
    bands = np.arange(probes) % len(BANDS)
    targets = np.array([rng.uniform(*BANDS[b]) for b in bands], dtype=np.float32)
    mate_rows = rng.choice(size, probes, replace=False)
    noise = stats.sample(probes, rng)
    mates = {int(row): plant_mate(probe_vectors[i], float(targets[i]), noise[i]) for i, row in enumerate(mate_rows)}
    cfg = settings.gallery
    np.arange(size, dtype=np.int64)
    with tempfile.TemporaryDirectory() as tmp:
        if size > cfg.exact_max_size and cfg.large_index == "binary":
            kind = (
                f"binary codes (64 B, {cfg.shortlist_share:.1%} shortlist) + int8 re-rank of"
                f" {max(cfg.rerank, size // 2500)}"
                " + float16 (memory-mapped) final order"
            )
            index, truth, generate_s, build_s, index_rss = _binary_streamed(
                size, stats, rng, mates, probe_vectors, cfg, Path(tmp)
            )
        else:
            kind, index, truth, generate_s, build_s, index_rss = _in_memory(
                size, stats, rng, mates, probe_vectors, cfg, tmp
            )
        for q in probe_vectors[:20]:  # warm-up (and JIT compilation)
            index.search(q, 10)
        latencies, top1 = [], []
        for q in probe_vectors:
            start = time.perf_counter()
            found, _ = index.search(q, 10)
            latencies.append((time.perf_counter() - start) * 1000)
            top1.append(found[0])
        in_memory = _saved_size(index, Path(tmp))
    top1 = np.array(top1)
    hit = top1 == truth
    mate_first = top1 == mate_rows
    lat = np.array(latencies)
    per_band = {
        f"{lo}-{hi}": {
            "recall_at_1": round(float(hit[bands == b].mean()), 4),
            "mate_rank_1": round(float(mate_first[bands == b].mean()), 4),
        }
        for b, (lo, hi) in enumerate(BANDS)
    }
    return {
        "size": size,
        "index": kind,
        "probes": probes,
        "statistics": stats.source,
        "generate_s": round(generate_s, 1),
        "build_s": round(build_s, 1),
        "latency_ms": {"p50": round(float(np.percentile(lat, 50)), 3), "p95": round(float(np.percentile(lat, 95)), 3)},
        "recall_at_1": round(float(hit.mean()), 4),
        "per_band": per_band,
        "bytes_per_face": {
            "index_in_memory": round(in_memory / size, 1),
            "rss_growth": round(index_rss / size, 1),
            "rerank_store_on_disk": 2 * stats.mean.shape[0] if isinstance(index, HnswIndex | BinaryIndex) else 0,
        },
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def _in_memory(size, stats, rng, mates, probe_vectors, cfg, tmp):
    t0 = time.perf_counter()
    gallery = stats.sample(size, rng)
    for row, mate in mates.items():
        gallery[row] = mate
    generate_s = time.perf_counter() - t0
    truth = exact_top1(gallery, probe_vectors)
    ids = np.arange(size, dtype=np.int64)
    rss_before = _rss()
    t0 = time.perf_counter()
    if size <= cfg.exact_max_size:
        kind = f"exact ({cfg.exact_dtype})"
        index = ExactIndex(ids, gallery, cfg.exact_dtype)
    else:
        kind = (
            f"usearch HNSW i8 M={cfg.hnsw_connectivity} ef={cfg.hnsw_expansion_search}"
            f" + float16 re-rank of {cfg.rerank}"
        )
        exact_path = Path(tmp) / "exact.f16"
        exact = np.memmap(exact_path, dtype=np.float16, mode="w+", shape=gallery.shape)
        exact[:] = gallery
        exact.flush()
        index = HnswIndex(
            ids,
            gallery,
            connectivity=cfg.hnsw_connectivity,
            expansion_search=cfg.hnsw_expansion_search,
            rerank=cfg.rerank,
            exact=np.memmap(exact_path, dtype=np.float16, mode="r", shape=gallery.shape),
        )
    return kind, index, truth, generate_s, time.perf_counter() - t0, _rss() - rss_before


def _binary_streamed(size, stats, rng, mates, probe_vectors, cfg, tmp: Path, chunk: int = 250_000):
    """Generate, encode and score the gallery chunk by chunk: ten million float32 faces (20 GB) never exist
    at once, only their 576-byte encodings."""
    dim = stats.mean.shape[0]
    rss_before = _rss()
    codes = np.empty((size, (dim + 63) // 64), dtype=np.uint64)
    matrix = np.empty((size, dim), dtype=np.int8)
    rotation = random_rotation(dim)
    exact = np.lib.format.open_memmap(tmp / "rerank.npy", mode="w+", dtype=np.float16, shape=(size, dim))
    scale = None
    best_score = np.full(len(probe_vectors), -np.inf, dtype=np.float32)
    truth = np.zeros(len(probe_vectors), dtype=np.int64)
    generate_s = build_s = 0.0
    for start in range(0, size, chunk):
        stop = min(size, start + chunk)
        t0 = time.perf_counter()
        block = stats.sample(stop - start, rng)
        for row in [r for r in mates if start <= r < stop]:
            block[row - start] = mates[row]
        generate_s += time.perf_counter() - t0
        scores = probe_vectors @ block.T  # exact float32 truth, chunk by chunk
        arg = scores.argmax(axis=1)
        top = scores[np.arange(len(arg)), arg]
        better = top > best_score
        best_score[better], truth[better] = top[better], arg[better] + start
        t0 = time.perf_counter()
        if scale is None:  # one scale for the gallery, from the first chunk with headroom
            scale = 127.0 / (float(np.abs(block).max()) * 1.1)
        codes[start:stop] = sign_codes(block, stats.mean, rotation)
        matrix[start:stop] = np.clip(np.rint(block * scale), -127, 127)
        exact[start:stop] = block
        build_s += time.perf_counter() - t0
    exact.flush()
    index = BinaryIndex.from_parts(
        np.arange(size, dtype=np.int64),
        split_codes(codes),
        matrix,
        scale,
        stats.mean,
        rotation,
        rerank=cfg.rerank,
        shortlist_share=cfg.shortlist_share,
        exact=np.load(tmp / "rerank.npy", mmap_mode="r"),
    )
    del codes
    return index, truth, generate_s, build_s, _rss() - rss_before


def _rss() -> int:
    import psutil

    return psutil.Process().memory_info().rss


def _saved_size(index, tmp: Path) -> int:
    """Bytes the index holds in memory: usearch's serialised graph + vectors, or the arrays' sizes."""
    if isinstance(index, HnswIndex):
        path = tmp / "graph.usearch"
        index.index.save(str(path))
        return path.stat().st_size + index.ids.nbytes
    return index.nbytes()
