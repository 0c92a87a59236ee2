"""pgvector on PostgreSQL: templates carry a halfvec copy, searched through a partial HNSW index per
dimension (created by migration 0001), then re-ranked exactly on the float32 vectors."""

from __future__ import annotations

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session


def _literal(vector: np.ndarray) -> str:
    return "[" + ",".join(f"{float(v):.6f}" for v in vector) + "]"


def write_embeddings(session: Session, rows: list[tuple[int, np.ndarray]]) -> None:
    if not rows:
        return
    session.execute(
        text("UPDATE templates SET embedding = CAST(:v AS halfvec) WHERE id = :id"),
        [{"id": template_id, "v": _literal(vector)} for template_id, vector in rows],
    )


def search(
    session: Session, gallery_id: int, space: str, query: np.ndarray, k: int, *, ef_search: int, rerank: int
) -> tuple[np.ndarray, np.ndarray]:
    dim = int(query.shape[0])
    # SET LOCAL lasts for this transaction only; the breadth of the HNSW search trades recall for latency.
    session.execute(text(f"SET LOCAL hnsw.ef_search = {int(max(ef_search, rerank))}"))
    # Other galleries share the index: keep scanning until enough rows of this gallery are found.
    session.execute(text("SET LOCAL hnsw.iterative_scan = relaxed_order"))
    rows = session.execute(
        text(
            f"SELECT id, vector FROM templates WHERE gallery_id = :g AND space = :s AND dim = {dim} "
            f"ORDER BY embedding::halfvec({dim}) <=> CAST(:q AS halfvec({dim})) LIMIT :n"
        ),
        {"g": gallery_id, "s": space, "q": _literal(query), "n": max(k, rerank)},
    ).all()
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    ids = np.array([r.id for r in rows], dtype=np.int64)
    vectors = np.frombuffer(b"".join(r.vector for r in rows), dtype="<f4").reshape(len(rows), dim)
    scores = vectors @ query.astype(np.float32)
    order = np.argsort(-scores, kind="stable")[:k]
    return ids[order], scores[order]
