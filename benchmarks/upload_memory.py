"""Memory one huge search upload costs the server: a 6300x6300 PNG (39.7 MP, 119 MB) searched in-process.

    .venv/bin/python benchmarks/upload_memory.py

Prints the resident memory before the search (engine loaded, upload in memory) and the process's peak after
it. The PNG holds noise (no face), so the figure is decoding plus detection at every scale.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from actors import make_app, staff
from openfr.engine.packs.buffalo_s import SAMPLES
from openfr.errors import BadInputError
from openfr.governance.permissions import Role
from openfr.services.galleries import EnrolFields
from openfr.services.searches import SearchRequest

MAKE_PNG = """
import sys, numpy as np
from PIL import Image
noise = np.random.default_rng(0).integers(0, 255, (6300, 6300, 3), dtype=np.uint8)
Image.fromarray(noise).save(sys.argv[1], "PNG", compress_level=1)
"""


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        # Made in another process, so that making it does not count in this one's peak.
        png = Path(scratch) / "noise.png"
        subprocess.run([sys.executable, "-c", MAKE_PNG, str(png)], check=True)
        data = png.read_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(Path(tmp))
        people = staff(app)
        portrait = SAMPLES["yaoming"].locate().read_bytes()  # a real face from the model wheel
        fields = EnrolFields("custody", "S-1", "benchmark")
        app.galleries.create(people[Role.ADMINISTRATOR], "custody", "benchmark")
        app.galleries.enrol_upload(people[Role.ADMINISTRATOR], fields, filename="y.jpg", data=portrait)
        app.runtime.engine  # noqa: B018
        before = psutil.Process().memory_info().rss
        peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        try:
            app.search.search(people[Role.INVESTIGATOR], SearchRequest("custody", "memory benchmark"), data)
        except BadInputError as exc:
            print(f"search answered: {exc}")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        print(
            f"upload {len(data) / 1e6:.0f} MB; RSS before {before / 1e6:.0f} MB; peak {peak / 1e6:.0f} MB "
            f"(before the search {peak_before / 1e6:.0f} MB): "
            f"the search added {(peak - max(before, peak_before)) / 1e6:.0f} MB"
        )


if __name__ == "__main__":
    main()
