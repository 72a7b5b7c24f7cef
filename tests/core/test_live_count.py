"""The Export tab's live count (`curator.core.export.live_count`): sizes, tags, sources and
totals aggregated in SQL give what reading every accepted clip gives."""

from __future__ import annotations

from collections import Counter
from fractions import Fraction
from pathlib import Path

import pytest

from curator.core.catalog import Catalog
from curator.core.export import load_preset
from curator.core.export.crop import export_size
from curator.core.export.live_count import ExportRequest, accepted_sizes, count_export

from .test_catalog import postgres_url  # noqa: F401 - the fixture: a real server


def _fill(catalog: Catalog) -> None:
    """Two letterboxed films: clips left whole, cropped by a person, kept whole on purpose,
    with measured bars, with a corner watermark (cut away or too large), tagged; and images."""
    for name, width, height in (("a.mkv", 1920, 1040), ("b.mp4", 1280, 720)):
        bounds = list(range(0, 241, 20))
        catalog.upsert_source(
            path=Path("/films") / name, size=1, mtime=1.0, content_hash=name, container="x",
            codec="h264", fps=Fraction(24), frame_count=240, header_frame_count=None,
            width=width, height=height, duration=10.0, clip_ranges=list(zip(bounds, bounds[1:])))
    clips = catalog.list_clips()
    catalog.set_decision([c.id for c in clips if c.id % 5], "accepted")
    for i, clip in enumerate(clips):
        analysis: dict = {}
        if i % 3 == 0:
            analysis["borders"] = {"crop": [0, 60, clip.width, clip.height - 120]}
        if i % 4 == 1:  # a small top-right logo: cut away
            analysis["text"] = {"kind": "watermark", "kinds": ["watermark"],
                                "boxes": [[clip.width - 140, 20, 110, 24]]}
        if i % 7 == 2:  # a large one: cannot be cut, exported whole
            analysis["text"] = {"kind": "watermark", "kinds": ["watermark"],
                                "boxes": [[clip.width - 400, clip.height - 200, 360, 150]]}
        if i % 6 == 5:
            analysis["text"] = {"kind": "subtitles", "kinds": ["subtitles"],
                                "boxes": [[300, clip.height - 80, 680, 40]]}
        catalog.save_analysis(clip.id, analysis, motion=1.0, cuts=0)
        if i % 8 == 3:
            catalog.set_clip_crop(clip.id, (100, 0, 640, 360))
        if i % 9 == 4:
            catalog.set_clip_crop(clip.id, ())
        if i % 2:
            catalog.set_tags(clip.id, ["rain"] if i % 4 == 1 else ["night", "rain"])
    for n in range(3):
        image_id, _ = catalog.upsert_image(path=Path(f"/stills/{n}.png"), size=1, mtime=1.0,
                                           content_hash=f"still{n}", width=800, height=600)
        catalog.set_decision([image_id], "accepted" if n else "rejected", kind="image")


def test_sizes_in_sql_are_the_crop_rule_per_clip(tmp_path):
    _check(Catalog(f"sqlite:///{tmp_path / 'curator.db'}"))


@pytest.mark.postgres
def test_sizes_in_sql_on_postgresql(postgres_url):  # noqa: F811 - the fixture
    """PostgreSQL's json has no equality: the groups are keyed on the JSON as text."""
    _check(Catalog(postgres_url))


def _check(catalog: Catalog) -> None:
    try:
        _fill(catalog)
        accepted = catalog.list_clips(status="accepted")
        expected = Counter(export_size(c) for c in accepted)
        assert len(expected) >= 5  # whole, bars, person, watermark cut, bars + watermark
        assert accepted_sizes(catalog) == expected

        result = count_export(catalog, ExportRequest(load_preset("wan21-14b-style-24gb"),
                                                     "musubi"))
        assert result.error is None and result.report is not None
        assert dict(result.sizes) == expected
        assert result.tags == ["night", "rain"]
        assert result.sources == ["a.mkv", "b.mp4"]
        assert (result.clips, result.images) == (len(accepted), 2)
    finally:
        catalog.close()
