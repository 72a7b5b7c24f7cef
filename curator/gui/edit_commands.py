"""Undoable splits and merges of clips, on the window's `QUndoStack`.

Both sides are the core's `merge_clips` / `unmerge` pair: undoing a split merges the two parts
back (the child's decision and caption versions kept in the record), redoing it splits again
and restores them; a merge is the mirror image. Each undo and redo is a compare-and-set: a
clip another writer trimmed, split or removed since is left as it is, the command is dropped
and `on_refused` says so.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QUndoCommand

from curator.core.catalog import Catalog, CatalogError, DecisionChange
from curator.core.merge import MergeRecord, merge_clips, split_record, unmerge

#: (kept clip id, other clip id, the other now exists): the window repaints / inserts / removes.
PartsChangedFn = Callable[[int, int, bool], None]


class SplitCommand(QUndoCommand):
    """A split already made (`Catalog.split_clip`); undo merges the parts back, redo splits.

    The split itself happens before the push, so its error reaches the caller (an exception
    raised inside a Qt virtual such as `redo` would only be printed).
    """

    def __init__(self, catalog: Catalog, clip_id: int, child_id: int, at_frame: int,
                 on_changed: PartsChangedFn, on_refused: Callable[[str], None]) -> None:
        super().__init__(f"Split clip at frame {at_frame}")
        self._catalog, self._clip_id, self.child_id = catalog, clip_id, child_id
        self._on_changed, self._on_refused = on_changed, on_refused
        self._record: MergeRecord | None = None

    def redo(self) -> None:
        if self._record is not None:  # a redo after an undo (the push finds the split made)
            try:
                self.child_id = unmerge(self._catalog, self._record)
            except CatalogError as exc:
                self._refuse(f"Not split again: {exc}")
                return
        self._on_changed(self._clip_id, self.child_id, True)

    def undo(self) -> None:
        try:
            self._record = split_record(self._catalog, self._clip_id, self.child_id)
        except CatalogError as exc:
            self._refuse(f"Split not undone: {exc}")
            return
        self._on_changed(self._clip_id, self.child_id, False)

    def _refuse(self, text: str) -> None:
        self.setObsolete(True)
        self._on_refused(text)


class MergeCommand(QUndoCommand):
    """A merge already made (`merge_clips`); undo takes the clips apart again, redo merges."""

    def __init__(self, catalog: Catalog, record: MergeRecord, on_changed: PartsChangedFn,
                 on_refused: Callable[[str], None]) -> None:
        super().__init__(f"Merge clips {record.kept_id} and {record.removed_id}")
        self._catalog, self.record = catalog, record
        self._pair = (record.kept_id, record.removed_id)
        self._on_changed, self._on_refused = on_changed, on_refused
        self._undone = False

    def redo(self) -> None:
        if not self._undone:  # the push: the merge was made already
            return
        try:
            self.record = merge_clips(self._catalog, *self._pair)
        except CatalogError as exc:
            self.setObsolete(True)
            self._on_refused(f"Not merged again: {exc}")
            return
        self._on_changed(self.record.kept_id, self.record.removed_id, False)

    def undo(self) -> None:
        assert self.record is not None
        try:
            removed = unmerge(self._catalog, self.record)
        except CatalogError as exc:
            self.setObsolete(True)
            self._on_refused(f"Merge not undone: {exc}")
            return
        self._pair, self._undone = (self.record.kept_id, removed), True
        self._on_changed(self.record.kept_id, removed, True)


class AppliedDecisionsCommand(QUndoCommand):
    """Decisions already made (the rules' apply) as one undo step; undo and redo are swaps.

    `Catalog.swap_decisions` is a compare-and-set: a clip another writer decided since keeps
    that decision and `on_refused` says how many.
    """

    def __init__(self, catalog: Catalog, text: str, before: list[DecisionChange],
                 after: list[DecisionChange], on_changed: Callable[[list[int]], None],
                 on_refused: Callable[[str], None]) -> None:
        super().__init__(text)
        self._catalog, self._before, self._after = catalog, before, after
        self._on_changed, self._on_refused = on_changed, on_refused
        self._pushed = False

    def redo(self) -> None:
        if self._pushed:
            self._swap(self._before, self._after, "redone")
        self._pushed = True

    def undo(self) -> None:
        self._swap(self._after, self._before, "undone")

    def _swap(self, expected: list[DecisionChange], wanted: list[DecisionChange],
              verb: str) -> None:
        swap = self._catalog.swap_decisions(expected, wanted)
        self._on_changed([c.id for c in wanted])
        if swap.conflicts:
            n = len(swap.conflicts)
            self._on_refused(f"{n} clip{' was' if n == 1 else 's were'} decided elsewhere since "
                             f"(kept as they are now): not {verb}")
