"""Stills for the image section: `curator still` saves a source frame losslessly; images are
decided from the CLI like clips (`decide --images`)."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image as PILImage

from curator.cli import main
from curator.core.catalog import Catalog
from curator.core.media.frames import read_frame
from tests.media_factory import Segment, make_video


def _film(tmp_path):
    (tmp_path / "media").mkdir()
    video = make_video(tmp_path / "media" / "film.mp4",
                       [Segment(frames=30, kind="texture", seed=3),
                        Segment(frames=30, kind="texture", seed=9)], fps=24, size=(160, 96))
    project = tmp_path / "proj"
    assert main(["--project", str(project), "-q", "ingest", "--scenes", "auto",
                 str(tmp_path / "media")]) == 0
    return project, video


def test_still_saves_the_source_frame_at_full_resolution_losslessly(tmp_path, capsys):
    project, video = _film(tmp_path)
    catalog = Catalog.for_project(project)
    try:
        second = [c for c in catalog.list_clips() if c.start_frame > 0][0]
    finally:
        catalog.close()
    frame = second.start_frame + 7  # a source frame inside the second shot
    capsys.readouterr()
    assert main(["--project", str(project), "still", str(second.id), str(frame), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"image", "path", "width", "height"}
    assert (out["width"], out["height"]) == (160, 96)
    saved = np.asarray(PILImage.open(out["path"]).convert("RGB"))
    assert np.array_equal(saved, read_frame(video, frame))  # lossless: the decoded frame itself

    catalog = Catalog.for_project(project)
    try:
        (image,) = catalog.list_images()
        assert image.id == out["image"] and str(image.path) == out["path"]
        assert (image.width, image.height, image.decision) == (160, 96, "pending")
    finally:
        catalog.close()
    # the same frame again is the same image, not a second copy
    assert main(["--project", str(project), "still", str(second.id), str(frame), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["image"] == out["image"]


def test_still_outside_the_clip_is_refused_with_the_clip_range(tmp_path, capsys):
    project, _ = _film(tmp_path)
    capsys.readouterr()
    assert main(["--project", str(project), "still", "1", "55"]) == 2
    err = capsys.readouterr().err
    assert "frame 55 is outside clip 1" in err and "0–29" in err
    assert not (project / "stills").exists() or not any((project / "stills").iterdir())


def test_images_are_decided_from_the_cli(tmp_path, capsys):
    project, _ = _film(tmp_path)
    assert main(["--project", str(project), "still", "1", "3", "--json"]) == 0
    image_id = json.loads(capsys.readouterr().out)["image"]
    p = ["--project", str(project)]
    assert main([*p, "decide", "--images", str(image_id), "--reject", "--reason", "blurry",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["kind"] == "image" and out["previous"][0]["decision"] == "pending"
    assert main([*p, "decide", "--images", "999", "--accept"]) == 2
    assert "no image with id 999" in capsys.readouterr().err
    catalog = Catalog.for_project(project)
    try:
        (image,) = catalog.list_images()
        assert (image.decision, image.reason, image.decided_by) == ("rejected", "blurry", "person")
        assert all(c.decision == "pending" for c in catalog.list_clips())  # clip 1 untouched
    finally:
        catalog.close()
