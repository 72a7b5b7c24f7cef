"""Hand edits from the CLI on a real project: captions, history, replace, trim, split, crop."""

from __future__ import annotations

import json

from PIL import Image as PILImage

from curator.cli import main
from curator.core.catalog import Catalog
from tests.media_factory import Segment, make_video


def _project_with_a_clip(tmp_path):
    (tmp_path / "media").mkdir()
    video = make_video(tmp_path / "media" / "shot.mp4",
                       [Segment(frames=40, kind="texture", seed=3)], fps=16, size=(128, 72))
    image = tmp_path / "media" / "still.png"
    PILImage.new("RGB", (900, 800), (40, 90, 160)).save(image)
    project = tmp_path / "proj"
    assert main(["--project", str(project), "-q", "ingest", "--scenes", "never",
                 str(tmp_path / "media")]) == 0
    assert main(["--project", str(project), "settings", "--trigger",
                 "Studio Ghibli style."]) == 0
    return project, video


def test_caption_set_history_restore_and_replace(tmp_path, capsys):
    project, _ = _project_with_a_clip(tmp_path)
    p = ["--project", str(project)]
    assert main([*p, "caption-set", "--clip", "1", "a girl   runs\nin rain"]) == 0
    assert main([*p, "caption-set", "--clip", "1", "Studio Ghibli style. A girl walks."]) == 0
    capsys.readouterr()
    assert main([*p, "caption-history", "--clip", "1", "--json"]) == 0
    history = json.loads(capsys.readouterr().out)
    assert [h["text"] for h in history] == ["Studio Ghibli style. A girl walks.",
                                            "Studio Ghibli style. a girl runs in rain"]
    assert main([*p, "caption-restore", str(history[1]["version"])]) == 0
    assert main([*p, "replace", "girl", "boy", "--dry-run", "--json"]) == 0
    out = capsys.readouterr().out
    preview = json.loads(out[out.index("{"):])
    assert preview["saved"] == 0 and preview["changes"][0]["after"].endswith("a boy runs in rain")
    assert main([*p, "replace", "girl", "boy"]) == 0
    catalog = Catalog.for_project(project)
    assert catalog.get_clip(1).caption == "Studio Ghibli style. a boy runs in rain"
    assert len(catalog.caption_history(clip_id=1)) == 4
    catalog.close()


def test_trim_split_and_crop(tmp_path, capsys):
    project, _ = _project_with_a_clip(tmp_path)
    p = ["--project", str(project)]
    assert main([*p, "caption-set", "--clip", "1", "A field."]) == 0
    assert main([*p, "trim", "1", "2", "38"]) == 0
    assert main([*p, "split", "1", "20"]) == 0
    catalog = Catalog.for_project(project)
    first, second = catalog.list_clips()
    assert (first.start_frame, first.end_frame, second.start_frame, second.end_frame) == (
        2, 20, 20, 38)
    assert second.caption == "Studio Ghibli style. A field." and second.parent_id == first.id
    assert main([*p, "trim", "1", "0", "500"]) == 2  # outside the source: a sentence, no crash
    assert "not inside its source" in capsys.readouterr().err
    image = catalog.list_images()[0]
    assert main([*p, "crop", str(image.id), "100", "20", "768", "768"]) == 0
    assert catalog.get_image(image.id).crop == (100, 20, 768, 768)
    assert main([*p, "crop", str(image.id), "200", "100", "768", "768"]) == 2
    catalog.close()


def test_a_clips_crop_is_set_shown_cleared_and_switched_off(tmp_path, capsys):
    """`crop --clip ID X Y W H` / `--none` / `--auto`; the catalog keeps "none" apart from
    "not set" (then the measured letterbox crop applies)."""
    project, _ = _project_with_a_clip(tmp_path)
    p = ["--project", str(project)]
    catalog = Catalog.for_project(project)
    clip = catalog.list_clips()[0]
    catalog.save_analysis(clip.id, {"borders": {"crop": [0, 4, clip.width, clip.height - 8]}},
                          motion=1.0, cuts=0)
    capsys.readouterr()
    assert main([*p, "crop", "--clip", str(clip.id), "2", "2", "40", "30", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown == {"id": clip.id, "crop": [2, 2, 40, 30], "export_crop": [2, 2, 40, 30],
                     "origin": "person"}
    assert main([*p, "crop", "--clip", str(clip.id), "--none", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["export_crop"] is None
    assert catalog.get_clip(clip.id).crop == ()
    assert main([*p, "crop", "--clip", str(clip.id), "--auto", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["crop"] is None and shown["origin"] == "bars"
    assert shown["export_crop"] == [0, 4, clip.width, clip.height - 8]
    assert main([*p, "crop", "--clip", str(clip.id), "0", "0", "9999", "30"]) == 2
    assert "outside" in capsys.readouterr().err
    assert main([*p, "crop", "--clip", str(clip.id), "1", "2"]) == 2  # not four numbers
    catalog.close()


def test_merge_joins_a_split_back_and_names_a_bad_pair(tmp_path, capsys):
    project, _ = _project_with_a_clip(tmp_path)
    p = ["--project", str(project)]
    assert main([*p, "split", "1", "20"]) == 0
    assert main([*p, "caption-set", "--clip", "2", "A field at dusk."]) == 0
    capsys.readouterr()
    assert main([*p, "merge", "1", "2"]) == 0
    assert "1 caption version(s) kept" in capsys.readouterr().err  # ctx.say: stderr
    catalog = Catalog.for_project(project)
    (clip,) = catalog.list_clips()
    assert (clip.id, clip.start_frame) == (1, 0)
    assert any("A field at dusk." in h.text for h in catalog.caption_history(clip_id=1))
    assert main([*p, "merge", "1", "7"]) == 2
    assert "no clip with id 7" in capsys.readouterr().err
def test_split_at_transitions_splits_a_dissolve_and_keeps_the_hand_work(tmp_path, capsys):
    from tests import analysis_fixtures as af

    (tmp_path / "media").mkdir()
    film = af.crossfade(tmp_path / "media")  # shot A, a 16-frame dissolve at 24, shot B
    project = tmp_path / "proj"
    p = ["--project", str(project)]
    assert main([*p, "-q", "ingest", "--scenes", "never", str(film.path)]) == 0
    assert main([*p, "caption-set", "--clip", "1", "A street."]) == 0
    assert main([*p, "decide", "1", "--accept"]) == 0
    capsys.readouterr()
    assert main([*p, "split", "--at-transitions", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    [split] = report["split"]
    start, end = film.dissolve
    (a0, a1), (b0, b1) = split["ranges"]
    # the dissolve's frames (and a margin) are in neither part
    assert a0 == 0 and a1 <= start and b0 >= end and b1 == film.frames
    assert a1 >= start - 6 and b0 <= end + 6
    catalog = Catalog.for_project(project)
    parts = catalog.list_clips()
    assert len(parts) == 2
    assert all(c.caption == "A street." and c.decision == "accepted" for c in parts)
    catalog.close()
    assert main([*p, "split", "1"]) == 2  # a clip without a frame: a sentence, no crash
