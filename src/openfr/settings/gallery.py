"""Settings of gallery search: how galleries are indexed (exact, binary codes, HNSW, pgvector) and which
candidates a retrospective, operator-initiated or subject-access search lists (its false-candidate rate).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from openfr.settings.section import Section


class GallerySettings(Section):
    exact_max_size: int = Field(
        50_000,
        ge=0,
        title="Largest gallery searched exhaustively",
        description=(
            "Galleries with at most this many templates are searched exactly (every template scored, "
            "recall 1.0); larger ones through the large-gallery index (see large_index), whose recall is "
            "benchmarked. Exact search costs time in proportion to the gallery's size."
        ),
    )
    exact_dtype: Literal["float16", "int8"] = Field(
        "float16",
        title="Vector type for exact search",
        description=(
            "float16 keeps scores within 0.001 of float32 at half the memory; int8 halves it again and adds "
            "about 0.01 of score noise."
        ),
    )
    large_index: Literal["binary", "hnsw"] = Field(
        "binary",
        title="Index for large galleries",
        description=(
            "binary: sign-bit codes scored in full against the probe's weighted projections, a shortlist "
            "completed on whole codes, the best re-ranked on int8 vectors (576 bytes/face; latency grows "
            "linearly with the gallery, recall does not depend on how faces cluster). hnsw: usearch graph "
            "(sub-linear latency, but it misses low-similarity mates on face embeddings). Measured trade-offs: "
            "docs/benchmarks.md."
        ),
    )
    shortlist_share: float = Field(
        0.02,
        gt=0,
        le=1,
        title="Binary index shortlist",
        description=(
            "Share of a large gallery that survives the first pass of the binary index (which reads half of "
            "each code) and is re-scored on whole codes. Wider protects the lowest-similarity mates (about "
            "cosine 0.3) and costs latency (random reads of half a code per shortlisted face). Measured in "
            "docs/benchmarks.md: among 600 probes, the exact best match ranked at worst 11,795th of a "
            "million and 189,625th of ten million on half codes."
        ),
    )
    postgres_search: Literal["index", "pgvector"] = Field(
        "index",
        title="Search path on PostgreSQL",
        description=(
            "index: the same in-process index as on SQLite (exact or binary), built from the database's "
            "templates and saved under the data directory. pgvector: pgvector's HNSW inside the database "
            "(no index outside it, but measured at recall@1 0.94 on 100,000 faces, 0.84 for mates at "
            "0.3-0.6; see docs/benchmarks.md)."
        ),
    )
    hnsw_connectivity: int = Field(
        16,
        ge=4,
        le=64,
        title="HNSW graph degree",
        description="Neighbours per node. Higher improves recall and costs memory and build time.",
    )
    hnsw_expansion_search: int = Field(
        128,
        ge=8,
        title="HNSW search breadth",
        description="Candidates explored per query. Higher improves recall and costs latency.",
    )
    rerank: int = Field(
        400,
        ge=1,
        title="Candidates re-ranked",
        description=(
            "How many candidates of the large-gallery index are re-scored on the stored vectors before ranking "
            "(the binary index takes at least one face in 2,500, as ranks on codes spread with size; on "
            "PostgreSQL this is also pgvector's ef_search). More protects low-similarity mates (recall) and "
            "costs latency."
        ),
    )


class SearchSettings(Section):
    """Retrospective and operator-initiated searches."""

    poor_probe_needs_reason: bool = Field(
        False,
        title="A poor probe needs a recorded reason",
        description=(
            "A probe whose face fails the quality gate (small, blurred, turned away) is still searched, with "
            "the verdict and its reasons beside the candidates, because a weak lead can still be the only "
            "one. Set this to require the searcher to record why such a probe was searched: more friction, "
            "and an account of each search made on a face the gate would have refused."
        ),
    )
    oifr_target_fpir: float = Field(
        1e-3,
        gt=0,
        lt=1,
        title="Operator-initiated search: false-candidate rate",
        description=(
            "Candidates of an officer's phone search must reach the threshold at which a search of someone "
            "who is NOT in the gallery lists anyone with at most this probability (worst demographic group of "
            "the pack's identification calibration), for the gallery's size: it rises with the gallery, as "
            "live thresholds rise with the watchlist. 1e-3 is one false candidate in 1,000 such searches. "
            "Lower shows officers fewer wrong faces at the roadside and misses more true ones (poor photos "
            "first); a 1:1 verification threshold here would list strangers from any large custody gallery."
        ),
    )
    rfr_target_fpir: float = Field(
        1e-2,
        gt=0,
        lt=1,
        title="Retrospective search: false-candidate rate",
        description=(
            "As oifr_target_fpir, for investigators' retrospective searches: the candidates listed by default "
            "(the whole ranking stays available with show-all, recorded). Higher than for OIFR because a "
            "trained reviewer examines each lead with time and context; lower hides more true leads."
        ),
    )
    subject_access_target_fpir: float = Field(
        1e-3,
        gt=0,
        lt=1,
        title="Subject access by photo: false-match rate",
        description=(
            "A subject access photo is compared with every gallery; a subject is put to the auditor only at "
            "the threshold where a stranger matches anyone with at most this probability, for the total "
            "number of people compared. The auditor then confirms each before anything is disclosed. Lower "
            "risks disclosing less about a third party and missing more of the requester's own records."
        ),
    )
