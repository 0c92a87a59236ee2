"""The face engine shared by live, operator-initiated and retrospective modes: detect, align, assess
quality, embed. No I/O beyond reading model files; images arrive as RGB arrays."""

from openfr.engine.pipeline import FaceEngine, load_engine

__all__ = ["FaceEngine", "load_engine"]
