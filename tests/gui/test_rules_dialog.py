"""The auto-decide rules in the window: live counts per rule, a preview, apply as one undo."""

from __future__ import annotations

from PySide6.QtCore import Qt

from curator.core.analysis.rule_preview import preview_rules, rule_of
from curator.core.analysis.rules import RuleSettings


def _analyse(catalog):
    ids = catalog.clip_ids()
    catalog.save_analysis(ids[0], {"motion_p95": 0.2}, motion=0.1, cuts=0)  # static
    catalog.save_analysis(ids[2], {"motion_p95": 0.3}, motion=0.2, cuts=0)  # static
    catalog.save_analysis(ids[5], {"motion_p95": 40.0}, motion=15.0, cuts=0)  # dynamic
    catalog.save_analysis(ids[6], {"motion_p95": 3.0}, motion=2.0, cuts=1)  # a cut
    catalog.set_decision([ids[2]], "accepted")  # a person's decision stands
    return ids


def test_core_preview_counts_each_clip_under_its_first_rule(filled_project):
    catalog = filled_project.catalog
    ids = _analyse(catalog)
    preview = preview_rules(catalog, RuleSettings())
    assert preview.rejections == [(ids[0], "too static"), (ids[5], "too dynamic"),
                                  (ids[6], "holds a cut")]
    assert preview.counts == {"static": 1, "dynamic": 1, "cut": 1}
    assert preview.pending == 8 and rule_of("duplicate of clip 4") == "duplicate"
    assert [c.decision for c in catalog.list_clips(ids=ids[:1])] == ["pending"]  # a dry run


def test_rules_dialog_counts_live_and_applies_as_one_undo_step(qtbot, make_window,
                                                                filled_project):
    window = make_window(filled_project)
    catalog = filled_project.catalog
    ids = _analyse(catalog)
    dialog = window.clip_actions.open_rules()
    qtbot.waitUntil(lambda: dialog.preview is not None, timeout=10_000)
    assert dialog.counts["static"].text() == "would reject 1"
    assert dialog.counts["dynamic"].text() == "would reject 1"
    assert "3 of 8 pending clips" in dialog.summary.text()
    assert dialog.list.count() == 3

    dialog.enabled["cut"].setChecked(False)  # a threshold changed: counted again, off thread
    qtbot.waitUntil(lambda: dialog.counts["cut"].text() == "off", timeout=10_000)
    assert dialog.list.count() == 2
    dialog.static_below.setValue(0.05)  # now nothing is that still
    qtbot.waitUntil(lambda: dialog.counts["static"].text() == "would reject 0", timeout=10_000)
    dialog.static_below.setValue(0.5)
    qtbot.waitUntil(lambda: dialog.counts["static"].text() == "would reject 1"
                    and dialog.apply_button.isEnabled(), timeout=10_000)

    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    assert catalog.get_clip(ids[0]).reason == "too static"
    assert catalog.get_clip(ids[5]).decided_by == "rule"
    assert catalog.get_clip(ids[6]).decision == "pending"  # its rule was off
    assert window.undo_stack.undoText() == "Rules reject 2 clips"
    window.undo_action.trigger()
    assert [catalog.get_clip(i).decision for i in (ids[0], ids[5])] == ["pending", "pending"]
    assert catalog.get_clip(ids[2]).decision == "accepted"
    window.redo_action.trigger()
    assert catalog.get_clip(ids[0]).decision == "rejected"
    dialog.close()
