"""Merging adjacent clips and taking a merge (or a split) apart again, on a real catalog."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from curator.core.catalog import CatalogError
from curator.core.merge import MergeConflict, merge_clips, split_record, unmerge
from tests.core.test_catalog import add_film


def _range(catalog, clip_id):
    clip = catalog.get_clip(clip_id)
    return clip.start_frame, clip.end_frame


def test_merge_keeps_the_earlier_clip_and_every_caption_version(catalog):
    _, (a, b) = add_film(catalog)
    catalog.save_caption("Ghibli style. A roof.", clip_id=a)
    catalog.save_caption("Ghibli style. A dog.", clip_id=b)
    catalog.save_caption("Ghibli style. A dog runs.", clip_id=b)
    catalog.set_decision([b], "rejected", "too static")
    record = merge_clips(catalog, b, a)  # either order
    assert record.kept_id == a and record.removed_id == b
    merged = catalog.get_clip(a)
    assert (merged.start_frame, merged.end_frame, merged.frames) == (0, 120, 120)
    assert merged.caption == "Ghibli style. A roof." and merged.decision == "pending"
    with pytest.raises(CatalogError):
        catalog.get_clip(b)
    history = catalog.caption_history(clip_id=a)
    assert history[0].text == "Ghibli style. A roof."  # still the newest version
    texts = [h.text for h in history]
    assert "Ghibli style. A dog." in texts and "Ghibli style. A dog runs." in texts
    moved = [h for h in history if h.settings and h.settings.get("merged_from_clip") == b]
    assert len(moved) == 2
    with catalog.session() as s:  # the search index follows the row that went
        assert s.execute(sa.text("SELECT rowid FROM clip_fts WHERE clip_fts MATCH 'dog'")).all() == []

    child = unmerge(catalog, record)
    assert child == b and _range(catalog, a) == (0, 50) and _range(catalog, b) == (50, 120)
    back = catalog.get_clip(b)
    assert (back.decision, back.reason, back.caption) == ("rejected", "too static",
                                                          "Ghibli style. A dog runs.")
    assert [h.text for h in catalog.caption_history(clip_id=b)] == [
        "Ghibli style. A dog runs.", "Ghibli style. A dog."]
    assert [h.text for h in catalog.caption_history(clip_id=a)] == ["Ghibli style. A roof."]


def test_merge_takes_the_later_caption_when_the_earlier_has_none(catalog):
    _, (a, b) = add_film(catalog)
    catalog.save_caption("Ghibli style. A dog.", clip_id=b)
    record = merge_clips(catalog, a, b)
    assert catalog.get_clip(a).caption == "Ghibli style. A dog."
    unmerge(catalog, record)
    assert catalog.get_clip(a).caption is None
    assert catalog.get_clip(b).caption == "Ghibli style. A dog."


def test_merge_refuses_clips_that_are_not_adjacent_or_of_two_sources(catalog):
    _, (a, b) = add_film(catalog, ranges=((0, 40), (50, 120)))
    _, (c, _d) = add_film(catalog, path="/films/b.mkv")
    with pytest.raises(CatalogError, match="not adjacent"):
        merge_clips(catalog, a, b)
    with pytest.raises(CatalogError, match="different sources"):
        merge_clips(catalog, a, c)
    assert _range(catalog, a) == (0, 40)


def test_undo_of_a_split_leaves_no_duplicate_versions_and_redo_restores_the_child(catalog):
    _, (a, _b) = add_film(catalog)
    catalog.save_caption("Ghibli style. Rain.", clip_id=a)
    left, right = catalog.split_clip(a, 20)
    catalog.set_decision([right], "accepted")
    record = split_record(catalog, left, right)  # undo
    assert _range(catalog, a) == (0, 50)
    assert [h.text for h in catalog.caption_history(clip_id=a)] == ["Ghibli style. Rain."]
    again = unmerge(catalog, record)  # redo
    assert again == right and catalog.get_clip(right).decision == "accepted"
    assert catalog.caption_history(clip_id=right)[0].settings == {"copied_from_clip": a}


def test_unmerge_refuses_when_another_writer_trimmed_the_merged_clip(catalog):
    _, (a, b) = add_film(catalog)
    record = merge_clips(catalog, a, b)
    catalog.trim_clip(a, 0, 100)
    with pytest.raises(MergeConflict, match="changed since"):
        unmerge(catalog, record)
    assert _range(catalog, a) == (0, 100)
