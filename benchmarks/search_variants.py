"""Which index meets the 1:N recall target? Alternatives to the default HNSW, on a synthetic gallery.

    .venv/bin/python benchmarks/search_variants.py [--size 100000] [--probes 300]

Same gallery model as `openfr bench search` (real-face statistics fitted by it and cached under
$OPENFR_HOME/bench; run that first), mates planted in the bands 0.3-0.6, 0.6-0.8, 0.8-0.95. For each variant:
recall@1 against exact float32 search, overall and per band, and single-probe latency. Variants:
sign-bit codes scanned by brute force then re-ranked; usearch HNSW over sign-bit codes (Hamming); usearch
HNSW over int8 with a wide search. Each candidate list is re-ranked exactly in float32.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
from usearch.index import Index, MetricKind
from usearch.index import search as brute_force

from openfr.gallery.bench import exact_top1
from openfr.gallery.synthetic import BANDS, FaceStatistics, plant_mate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--probes", type=int, default=300)
    args = parser.parse_args()
    home = os.environ.get("OPENFR_HOME", "openfr-data")
    stats = FaceStatistics.load(sorted(Path(home, "bench").glob("face-stats-*.npz"))[0])
    rng = np.random.default_rng(0)
    n, p = args.size, args.probes
    gallery, queries = stats.sample(n, rng), stats.sample(p, rng)
    rows, noise = rng.choice(n, p, replace=False), stats.sample(p, rng)
    bands = np.arange(p) % 3
    targets = [rng.uniform(*BANDS[b]) for b in bands]
    for i in range(p):
        gallery[rows[i]] = plant_mate(queries[i], targets[i], noise[i])
    truth = exact_top1(gallery, queries)
    bits = np.packbits((gallery - stats.mean) > 0, axis=1)
    query_bits = np.packbits((queries - stats.mean) > 0, axis=1)

    def evaluate(name, candidates_of, wanted):
        hits, latency = np.zeros(p, bool), []
        for i in range(p):
            start = time.perf_counter()
            candidates = np.sort(candidates_of(i, wanted).astype(np.int64))
            best = candidates[(gallery[candidates] @ queries[i]).argmax()]
            latency.append((time.perf_counter() - start) * 1000)
            hits[i] = best == truth[i]
        by_band = " ".join(f"{hits[bands == b].mean():.3f}" for b in range(3))
        print(
            f"| {name} | {wanted} | {hits.mean():.4f} | {by_band} | {np.percentile(latency, 50):.2f} "
            f"| {np.percentile(latency, 95):.2f} |",
            flush=True,
        )

    print(f"gallery {n}, probes {p}\n")
    print("| variant | re-ranked | recall@1 | by band (0.3-0.6 0.6-0.8 0.8-0.95) | p50 ms | p95 ms |")
    print("|---|---|---|---|---|---|")
    for wanted in (200, 1000, 3000):
        evaluate(
            "sign bits, brute force (usearch, 2 threads)",
            lambda i, k: brute_force(bits, query_bits[i], k, MetricKind.Hamming, exact=True, threads=2).keys,
            wanted,
        )
    binary = Index(ndim=512, metric="hamming", dtype="b1", connectivity=32, expansion_add=128)
    start = time.time()
    binary.add(np.arange(n, dtype=np.uint64), bits)
    print(f"\n(sign-bit HNSW build: {time.time() - start:.1f} s)")
    for ef in (256, 1024, 2048):
        binary.expansion_search = ef
        evaluate(f"sign-bit HNSW M=32 ef={ef}", lambda i, k: binary.search(query_bits[i], k).keys, ef)
    int8 = Index(ndim=512, metric="cos", dtype="i8", connectivity=16)
    start = time.time()
    int8.add(np.arange(n, dtype=np.uint64), gallery)
    print(f"\n(int8 HNSW build: {time.time() - start:.1f} s)")
    for ef, wanted in ((512, 200), (1024, 300)):
        int8.expansion_search = ef
        evaluate(f"int8 HNSW M=16 ef={ef}", lambda i, k: int8.search(queries[i], k).keys, wanted)


if __name__ == "__main__":
    main()
