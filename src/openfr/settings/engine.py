"""Settings of the face engine: how faces are detected, when one is fit to search with (the quality gate),
and how the model runs (batching, threads, providers, image size limits).

Each setting's description is its documentation (docs/configuration.md is generated from it): it says what
the knob does and what raising or lowering it costs.
"""

from __future__ import annotations

from pydantic import Field

from openfr.settings.section import Section


class DetectionSettings(Section):
    min_face_px: int = Field(
        24,
        ge=8,
        title="Minimum face size (px)",
        description=(
            "Smallest face, in source-image pixels across, that detection looks for; smaller ones are ignored. "
            "Lower finds faces further from the camera but makes large images be scanned at a finer scale "
            "(the detector needs about 16 px at its input: a large image is scanned at 16/min_face_px)."
        ),
    )
    min_face_fraction: float = Field(
        0.0125,
        ge=0.0,
        le=0.5,
        title="Minimum face size, as a share of the shorter side",
        description=(
            "In large images the smallest face looked for grows with the image: max(min_face_px, this x the "
            "shorter side). 1/80 leaves every image up to 1920 px on min_face_px and scans a 12 MP phone photo "
            "for faces from 38 px (about 15 px between the eyes, under the quality gate's 16), which takes "
            "about 0.2 s on one core instead of 0.4 s at 24 px. 0 scans every image for min_face_px faces."
        ),
    )
    max_face_fraction: float = Field(
        1.0,
        gt=0.0,
        le=1.0,
        title="Largest face, as a share of the shorter side",
        description=(
            "Faces up to this share of the image's shorter side are found (1 = a face filling the frame, as in "
            "a phone close-up). The detector sees faces up to about 320 px at its input, so covering larger "
            "ones may add a coarse scan (about 0.1 MP, cheap); a lower value skips it where faces cannot be "
            "that large."
        ),
    )
    max_input_side: int = Field(
        640,
        ge=64,
        title="Images scanned at full resolution, up to (px)",
        description=(
            "Images whose longest side is at most this are scanned at their own resolution (the most precise "
            "landmarks); larger ones are shrunk, but never so far that min_face_px falls below what the "
            "detector can see. Lower is faster on mid-sized images and loses landmark precision."
        ),
    )
    tile_side: int = Field(
        2048,
        ge=256,
        title="Largest detector input in one call (px)",
        description=(
            "A fine scan larger than this is cut into overlapping tiles of this size: bounded memory for images "
            "up to 50 MP and more. Smaller tiles use less memory and repeat more work in their overlaps."
        ),
    )
    input_size: int | None = Field(
        None,
        ge=64,
        title="Fixed square detector input (px)",
        description=(
            "If set, every image is letterboxed into this square (the classic 640x640 setting). Unset (the "
            "default) sizes the input to the image, rounded up to a multiple of 32: a 250x250 photo is "
            "scanned at 256x256, over six times less work than 640x640, with the same faces found."
        ),
    )
    score_threshold: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        title="Detection score threshold",
        description=(
            "Minimum detector confidence for a face. Lower finds more hard faces (profile, blurred, small) and "
            "more false detections (patterns, printed faces); the quality gate then decides what is searchable."
        ),
    )
    nms_iou: float = Field(
        0.4,
        gt=0.0,
        le=1.0,
        title="Non-maximum suppression IoU",
        description="Overlap above which two detections are taken to be the same face and the weaker dropped.",
    )
    max_faces: int = Field(
        0,
        ge=0,
        title="Maximum faces per image",
        description="Keep only the largest N faces (0 = all). Bounds work on crowd images.",
    )


class QualitySettings(Section):
    min_inter_eye_px: float = Field(
        16.0,
        ge=0.0,
        title="Minimum inter-eye distance (px)",
        description=(
            "Faces with eyes closer than this in the source image are detected but not usable for search: too "
            "few pixels to tell people apart, and accuracy falls unevenly across groups at low resolution. 16 px "
            "(a face about 36 px wide) admits CCTV-distance faces; custody-quality enrolment wants 60+."
        ),
    )
    min_blur: float = Field(
        40.0,
        ge=0.0,
        title="Minimum sharpness",
        description=(
            "Variance of the Laplacian on the 112x112 aligned crop. Motion-blurred or out-of-focus faces score "
            "low; raising it rejects more soft faces (fewer false matches, more misses)."
        ),
    )
    max_yaw: float = Field(
        45.0,
        ge=0.0,
        le=90.0,
        title="Maximum yaw (degrees)",
        description="Faces turned further than this left or right are not usable. A coarse landmark estimate.",
    )
    max_pitch: float = Field(
        40.0,
        ge=0.0,
        le=90.0,
        title="Maximum pitch (degrees)",
        description="Faces tilted further than this up or down are not usable. A coarse landmark estimate.",
    )
    min_det_score: float = Field(
        0.6,
        ge=0.0,
        le=1.0,
        title="Minimum detector score for use",
        description="Detections below this confidence are reported but not searched with.",
    )


class EngineSettings(Section):
    batch_size: int = Field(
        32,
        ge=1,
        le=1024,
        title="Embedding batch size",
        description="Aligned faces embedded per model call. Larger amortises overhead; memory grows with it.",
    )
    threads: int = Field(
        0,
        ge=0,
        title="Threads per model session",
        description="onnxruntime intra-op threads per worker (0 = the machine's cores divided by workers).",
    )
    spinning: bool = Field(
        True,
        title="Spinning model threads",
        description=(
            "Let onnxruntime's threads spin briefly between calls instead of sleeping: lower latency for a "
            "searcher that calls the model back to back, but a spinning thread burns a core that decoding or "
            "another camera could use (live cameras always turn it off)."
        ),
    )
    workers: int = Field(
        0,
        ge=0,
        title="Worker processes for batch jobs",
        description=(
            "Processes that `openfr embed` and evaluation spread images over (0 = one per core). Processes beat "
            "threads here because decoding and pre-processing hold the GIL."
        ),
    )
    providers: list[str] | None = Field(
        None,
        title="onnxruntime execution providers",
        description=(
            'Ordered list, e.g. ["CUDAExecutionProvider", "CPUExecutionProvider"]. Unset: CUDA, then '
            "OpenVINO, then CPU, using whichever are installed."
        ),
    )
    working_pixels: int = Field(
        16_000_000,
        ge=1_000_000,
        title="Largest image searched at full size (pixels)",
        description=(
            "A search photo larger than this is shrunk by a whole factor as it is decoded (a JPEG is decoded "
            "straight at the smaller size), which bounds each request's memory: a 40 MP upload takes what a "
            "10 MP one does. 16 MP keeps every phone photo (12 MP) whole; a face must be over about 40 px in "
            "the shrunk image to be found anyway."
        ),
    )
    max_image_pixels: int = Field(
        40_000_000,
        ge=1,
        title="Largest image accepted (pixels)",
        description=(
            "Images with more pixels are refused before decoding: a guard against decompression bombs and "
            "memory exhaustion. 40 MP covers any camera or CCTV still."
        ),
    )
