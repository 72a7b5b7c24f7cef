"""A catalog with known distributions, for the statistics tests (core, CLI and window)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from curator.core.catalog import Catalog

TRIGGER = "Ghibli style."
# (source fps, size, clip lengths in source frames). At 16 fps the 24 fps lengths give
# 20, 21, 21, 44, 45, 45, 67 frames and the 30000/1001 ones 5, 24, 48 (round half away).
FILMS = [
    ("/films/a.mkv", Fraction(24), (1920, 1040), (30, 31, 32, 66, 67, 68, 100)),
    ("/films/b.mp4", Fraction(30000, 1001), (640, 480), (10, 45, 90)),
]
# motion, motion_p95 per clip in id order (None: not analysed)
MOTION = [(0.2, 0.9), (0.45, 2.0), (0.5, 3.0), (1.0, 11.95), (3.3, 12.0), (12.0, 12.05),
          (0.05, 30.0), (None, None), (7.5, 8.0), (39.99, 45.0)]
# share of sampled frames holding overlay text, per analysed clip (clip 8 is not analysed)
TEXT = [0.0, 0.0, 0.25, 0.5, 0.0, 1.0, 0.0, None, 0.04, 0.0]
CAPTIONS = {
    1: "Ghibli style. The video shows a girl running through tall grass under a blue sky.",
    2: "Ghibli style. The video shows a girl running through tall grass under a blue sky at "
       "dusk.",
    3: "Ghibli style. In this scene a cat sleeps on a warm roof.",
    4: "The video shows a boy on a train.",
    5: "Ghibli style. The video shows rain falling on a quiet street.",
}


def build_known(catalog: Catalog) -> None:
    """Ten clips over two films: the lengths, motion, captions and decisions above."""
    for path, fps, (w, h), lengths in FILMS:
        ranges, start = [], 0
        for n in lengths:
            ranges.append((start, start + n))
            start += n
        catalog.upsert_source(path=Path(path), size=1, mtime=1.0, content_hash=path,
                              container="x", codec="h264", fps=fps, frame_count=start,
                              header_frame_count=None, width=w, height=h,
                              duration=float(start / fps), clip_ranges=ranges)
    for clip_id, ((motion, p95), text) in enumerate(zip(MOTION, TEXT), start=1):
        if motion is not None:
            catalog.save_analysis(clip_id, {"motion_p95": p95}, motion=motion, cuts=0,
                                  motion_p95=p95, text_share=text)
    for clip_id, text in CAPTIONS.items():
        catalog.save_caption(text, clip_id=clip_id)
    catalog.set_decision([9], "accepted")
    catalog.set_decision([10], "rejected", "too dynamic")
    catalog.set_decision([7], "rejected", "duplicate of clip 3")
    catalog.set_decision([8], "rejected", "duplicate of clip 4")
    catalog.update_settings(trigger=TRIGGER)
