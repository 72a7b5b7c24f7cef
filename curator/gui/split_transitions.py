"""The window's "Split at transitions" action: a job, then one undoable step on the stack.

The splitting itself is the core's (`curator.core.shot_split.split_at_transitions`, the same
as `curator split --at-transitions`); this module only runs it off the GUI thread and puts
what it did on the undo stack.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtGui import QUndoCommand

from curator.core.catalog import Catalog, CatalogError
from curator.core.shot_split import ClipSplit, split_at_transitions, split_clip_at

if TYPE_CHECKING:
    from curator.gui.workers import JobHandle

ChangedFn = Callable[[], None]


class SplitTransitionsCommand(QUndoCommand):
    """Clips split at their transitions (already done when pushed); undo merges them back."""

    def __init__(self, catalog: Catalog, splits: Sequence[ClipSplit],
                 on_changed: ChangedFn) -> None:
        n = len(splits)
        super().__init__(f"Split {n} clip{'s' if n != 1 else ''} at transitions")
        self._catalog, self._splits = catalog, list(splits)
        self._on_changed = on_changed
        self._done = True  # the job did it; the stack's first redo must not split again

    def redo(self) -> None:
        if self._done:
            return
        for split in self._splits:
            clip = self._catalog.get_clip(split.clip_id)
            split.parts = split_clip_at(self._catalog, clip, split.ranges)
        self._done = True
        self._on_changed()

    def undo(self) -> None:
        try:
            for split in self._splits:
                self._catalog.merge_split(split.clip_id, split.parts[1:], split.old_range)
        except CatalogError:
            self.setObsolete(True)  # a part was removed or changed meanwhile
        self._done = False
        self._on_changed()


def start(window, clip_ids: list[int]) -> JobHandle | None:
    """Split the clips as a job; when it ends, reload the browser and push the undo step."""
    if not clip_ids:
        window.statusBar().showMessage("Select clips to split at their transitions", 4000)
        return None

    def finished(handle: JobHandle) -> None:
        report = handle.report
        window.browser.reload()
        if report is None:
            return
        if report.split:
            window.undo_stack.push(SplitTransitionsCommand(window.catalog, report.split,
                                                           window.browser.reload))
        window.statusBar().showMessage(
            f"{len(report.split)} clip(s) split at transitions, {report.unchanged} hold one "
            f"shot" + (f", {len(report.failed)} failed" if report.failed else ""), 8000)

    return window.run_job("split", f"Split {len(clip_ids)} clip(s) at transitions",
                          split_at_transitions, on_finished=finished, record_in_catalog=False,
                          catalog=window.catalog, clip_ids=list(clip_ids),
                          thumbs_dir=window.project.thumbs_dir)
