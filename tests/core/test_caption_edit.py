"""Find and replace across captions: preview, apply as new manual versions, edited-meanwhile."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from curator.core.caption_edit import (
    CaptionEditError,
    apply_replacements,
    compile_search,
    find_replacements,
    replace_in,
    tidy_spaces,
)
from curator.core.catalog import Catalog
from curator.core.jobs import CancelToken, Progress


def _add_clips(catalog: Catalog, captions: list[str | None]) -> list[int]:
    """One fake source (no file needed: nothing is decoded) with a clip per caption."""
    ranges = [(i * 10, i * 10 + 10) for i in range(len(captions))]
    catalog.upsert_source(
        path=Path("/footage/film.mkv"), size=1, mtime=0.0, content_hash="h", container="mkv",
        codec="h264", fps=Fraction(24), frame_count=10 * len(captions), header_frame_count=None,
        width=320, height=180, duration=10.0, clip_ranges=ranges)
    ids = [c.id for c in catalog.list_clips()]
    for clip_id, caption in zip(ids, captions):
        if caption is not None:
            catalog.save_caption(caption, clip_id=clip_id, origin="model-x")
    return ids


def test_compile_search_plain_escapes_and_bad_regex_is_explained() -> None:
    assert compile_search("a.b").search("a.b") and not compile_search("a.b").search("axb")
    assert compile_search("A.B", regex=True).search("axb")
    assert not compile_search("A", case_sensitive=True).search("a")
    with pytest.raises(CaptionEditError, match="regular expression"):
        compile_search("(unclosed", regex=True)
    with pytest.raises(CaptionEditError, match="search for"):
        compile_search("")


def test_replace_in_literal_and_template() -> None:
    plain = compile_search("cat")
    assert replace_in("Cat and cat", plain, r"dog\1") == (r"dog\1 and dog\1", 2)
    rx = compile_search(r"(\w+) hat", regex=True)
    assert replace_in("a red hat, a blue hat", rx, r"\1 cap", regex=True) == (
        "a red cap, a blue cap", 2)
    with pytest.raises(CaptionEditError, match="replacement"):
        replace_in("a red hat", rx, r"\2", regex=True)
    assert tidy_spaces("  a  girl   walks ") == "a girl walks"


def test_find_previews_without_writing(catalog: Catalog) -> None:
    ids = _add_clips(catalog, ["Ghibli style. A girl runs.", "A GIRL waves.", "A boy sits.",
                               None, "girlish laughter"])
    changes = find_replacements(catalog, "girl", "woman")
    assert [c.item_id for c in changes] == [ids[0], ids[1], ids[4]]
    assert changes[1].before == "A GIRL waves." and changes[1].after == "A woman waves."
    assert changes[2].after == "womanish laughter"
    assert changes[0].label == "film.mkv [0, 10)"
    # nothing written yet
    assert catalog.get_clip(ids[0]).caption == "Ghibli style. A girl runs."
    assert len(catalog.caption_history(clip_id=ids[0])) == 1

    exact = find_replacements(catalog, "girl", "woman", case_sensitive=True)
    assert [c.item_id for c in exact] == [ids[0], ids[4]]
    words = find_replacements(catalog, r"\bgirl\b", "woman", regex=True)
    assert [c.item_id for c in words] == [ids[0], ids[1]]
    only = find_replacements(catalog, "girl", "woman", clip_ids=[ids[1]])
    assert [c.item_id for c in only] == [ids[1]]
    assert len(find_replacements(catalog, "girl", "woman", limit=2)) == 2
    # deleting a word leaves no double space
    deleted = find_replacements(catalog, "girl ", "", scope="clips")
    assert deleted[0].after == "Ghibli style. A runs."
    # percent and underscore are text, not LIKE wildcards
    assert find_replacements(catalog, "%", "x") == []
    assert find_replacements(catalog, "A_b", "x") == []


def test_apply_saves_manual_versions_and_skips_edited(catalog: Catalog) -> None:
    ids = _add_clips(catalog, ["a red hat", "a red scarf", "a blue hat"])
    changes = find_replacements(catalog, "red", "crimson")
    assert len(changes) == 2
    # someone edits the second caption after the preview
    catalog.save_caption("a green scarf", clip_id=ids[1])
    seen: list[Progress] = []
    report = apply_replacements(catalog, changes, progress=seen.append)
    assert report.done == 1 and report.saved_ids == [("clip", ids[0])]
    assert len(report.failed) == 1 and "edited after the preview" in report.failed[0].reason
    assert [p.done for p in seen] == [1, 2] and seen[-1].total == 2

    clip = catalog.get_clip(ids[0])
    assert clip.caption == "a crimson hat" and clip.caption_is_manual
    history = catalog.caption_history(clip_id=ids[0])
    assert [h.text for h in history] == ["a crimson hat", "a red hat"]
    assert history[0].origin == "manual"
    assert catalog.get_clip(ids[1]).caption == "a green scarf"
    # applying again changes nothing: already as wanted
    again = apply_replacements(catalog, changes[:1])
    assert again.done == 0 and again.skipped == 1


def test_apply_stops_when_cancelled(catalog: Catalog) -> None:
    _add_clips(catalog, ["one cat", "two cats", "three cats"])
    changes = find_replacements(catalog, "cat", "dog")
    token = CancelToken()

    def progress(p: Progress) -> None:
        if p.done == 1:
            token.cancel()

    report = apply_replacements(catalog, changes, progress=progress, cancel=token)
    assert report.cancelled and report.done == 1


def test_images_scope(catalog: Catalog, tmp_path: Path) -> None:
    _add_clips(catalog, ["a cat"])
    image_id, _ = catalog.upsert_image(path=tmp_path / "shot.png", size=1, mtime=0.0,
                                       content_hash="i", width=64, height=48)
    catalog.save_caption("a cat on a roof", image_id=image_id)
    assert [c.kind for c in find_replacements(catalog, "cat", "dog", scope="images")] == ["image"]
    both = find_replacements(catalog, "cat", "dog", scope="all")
    assert [c.kind for c in both] == ["clip", "image"]
    assert both[1].label == "shot.png"
    apply_replacements(catalog, both)
    assert catalog.get_image(image_id).caption == "a dog on a roof"
    with pytest.raises(CaptionEditError):
        find_replacements(catalog, "cat", "dog", scope="everything")
