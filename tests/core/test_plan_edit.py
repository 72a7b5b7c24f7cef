"""Editing a plan as the Export tab's cells do (`curator.core.export.plan_edit`), Qt-free."""

from __future__ import annotations

import pytest

from curator.core.export import PlanError, load_preset
from curator.core.export.counting import CountWarning
from curator.core.export.plan import Selection
from curator.core.export.plan_edit import (
    edit_section,
    parse_selection,
    parse_size,
    parse_targets,
    selection_text,
    warning_clip_id,
)


def test_cells_read_what_people_type():
    assert parse_size("768x416") == parse_size("768×416") == parse_size(" 768, 416 ") == (768, 416)
    assert parse_size("512") == (512, 512)
    with pytest.raises(ValueError):
        parse_size("wide")
    assert parse_targets("1, 21") == parse_targets("[1 21]") == [1, 21]
    with pytest.raises(ValueError):
        parse_targets("1, lots")
    assert parse_selection("all accepted") == ([], [])
    assert parse_selection("tag: rain, night; source: *.mkv") == (["rain", "night"], ["*.mkv"])
    with pytest.raises(ValueError):
        parse_selection("rain")
    assert selection_text(Selection(("rain",), ("a.mkv",))) == "tag: rain; source: a.mkv"
    assert warning_clip_id(CountWarning("short", "…", item="clip:12")) == 12
    assert warning_clip_id(CountWarning("same_stem", "…", item="image:3")) is None


def test_switching_extraction_keeps_the_other_modes_settings():
    plan = load_preset("wan21-14b-style-24gb")
    index = [s.name for s in plan.sections].index("clips_384x208")
    slid = edit_section(plan, index, frame_extraction="slide", frame_stride=7)
    back = edit_section(slid, index, frame_extraction="uniform")
    assert back.sections[index].extraction.frame_sample == 2  # kept through the detour
    assert edit_section(back, index, frame_extraction="slide").sections[index] \
        .extraction.frame_stride == 7
    assert edit_section(plan, index, kind="images").sections[index].extraction is None
    with pytest.raises(PlanError, match="target_frames"):
        edit_section(plan, index, target_frames=[0])
