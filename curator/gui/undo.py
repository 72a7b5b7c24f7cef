"""Undo and redo of a person's decisions and trims, on a `QUndoStack`.

Each command calls the catalog, which commits at once (nothing is ever waiting to be saved);
undo puts back exactly what the catalog said it replaced (`DecisionChange`s), so undoing a
bulk reject restores each clip's own earlier decision and reason.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtGui import QUndoCommand

from curator.core.catalog import Catalog, CatalogError, DecisionChange
from curator.gui.models.clip_table_model import reason_label

ChangedFn = Callable[[list[int]], None]  # clip ids to repaint


def decision_text(count: int, decision: str, reason: str | None) -> str:
    """The undo menu's words: 'Reject 3 clips (too static)'."""
    what = "clip" if count == 1 else f"{count} clips"
    if decision == "pending":
        return f"Move {what} back to pending"
    verb = {"accepted": "Accept", "rejected": "Reject"}.get(decision, decision)
    tail = f" ({reason_label(reason).lower()})" if reason else ""
    return f"{verb} {what}{tail}"


class DecisionCommand(QUndoCommand):
    """Decide some clips; undo restores what each had before, redo decides again.

    Undo and redo are compare-and-sets (`Catalog.swap_decisions`): a clip decided elsewhere
    since (the CLI, a rule) keeps that newer decision and reason, and `on_refused` says so.
    """

    def __init__(self, catalog: Catalog, ids: Sequence[int], decision: str,
                 reason: str | None, on_changed: ChangedFn,
                 on_refused: Callable[[str], None] | None = None) -> None:
        super().__init__(decision_text(len(ids), decision, reason))
        self._catalog, self._ids = catalog, list(ids)
        self._decision, self._reason = decision, reason
        self._on_changed, self._on_refused = on_changed, on_refused
        self._before: list[DecisionChange] | None = None  # what undo restores
        self._after: list[DecisionChange] = []  # what this command set (redo restores)

    def redo(self) -> None:
        if self._before is None:  # first time: a real decision (pushed onto the stack)
            self._before = self._catalog.set_decision(self._ids, self._decision, self._reason)
            by = None if self._decision == "pending" else "person"
            reason = self._reason if self._decision == "rejected" else None
            self._after = [DecisionChange(c.kind, c.id, self._decision, reason, by)
                           for c in self._before]
        else:
            self._swap(self._before, self._after, "redone")
        self._on_changed(self._ids)

    def undo(self) -> None:
        if self._before is None:
            return
        self._swap(self._after, self._before, "undone")
        self._on_changed(self._ids)

    def _swap(self, expected: list[DecisionChange], wanted: list[DecisionChange],
              verb: str) -> None:
        swap = self._catalog.swap_decisions(expected, wanted)
        if swap.conflicts and self._on_refused is not None:
            n = len(swap.conflicts)
            what = "1 clip was" if n == 1 else f"{n} clips were"
            self._on_refused(f"{what} decided elsewhere since (kept as they are now): "
                             f"not {verb}")


class TrimCommand(QUndoCommand):
    """Set a clip's in/out points; undo puts the old range back (analysis must be rerun).

    A clip split (or trimmed elsewhere) after this trim no longer has the range this command
    set; undoing it then would overlap the new clip, so the command is dropped instead.
    """

    def __init__(self, catalog: Catalog, clip_id: int, old: tuple[int, int],
                 new: tuple[int, int], on_changed: ChangedFn,
                 on_refused: Callable[[str], None] | None = None) -> None:
        super().__init__(f"Trim clip to {new[0]}–{new[1]}")
        self._catalog, self._clip_id = catalog, clip_id
        self._old, self._new, self._on_changed = old, new, on_changed
        self._on_refused = on_refused

    def _range_is(self, expected: tuple[int, int]) -> bool:
        try:
            clip = self._catalog.get_clip(self._clip_id)
        except CatalogError:  # gone (a re-ingest removed it)
            return False
        return (clip.start_frame, clip.end_frame) == expected

    def redo(self) -> None:
        if self.isObsolete():
            return
        self._catalog.trim_clip(self._clip_id, *self._new)
        self._on_changed([self._clip_id])

    def undo(self) -> None:
        if not self._range_is(self._new):
            self.setObsolete(True)
            if self._on_refused is not None:
                self._on_refused("The clip changed since this trim (split?): not undone")
            return
        self._catalog.trim_clip(self._clip_id, *self._old)
        self._on_changed([self._clip_id])
