"""Workspaces: Curate · Caption · Export · Train · Stats, each a full page (Ctrl+1 … Ctrl+5).

A short bottom dock gave the Caption, Export and Train forms ~200 px and hid the export warnings
below the fold; here each task gets the whole window under a row of segmented buttons. The
window has one clip list (with its Images tab), one preview and one caption editor: a page that
shows them borrows them, so switching moves them into the page's slots and the selection,
the playhead and an unsaved edit go along. Splitter sizes are shares of the window until a
person drags them; then they are remembered (QSettings) until View → Reset layout.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QByteArray, QSettings, Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QBoxLayout,
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)


@dataclass(frozen=True)
class Workspace:
    key: str
    title: str
    tip: str


WORKSPACES = (
    Workspace("curate", "Curate", "Decide clips and images: the browser, preview and caption"),
    Workspace("caption", "Caption", "Caption with a model, the clip list and editor beside it"),
    Workspace("export", "Export", "The dataset plan, its warnings, and the export"),
    Workspace("train", "Train", "Train a LoRA on the export and watch its samples"),
    Workspace("stats", "Stats", "Distributions, thresholds and the caption vocabulary"),
)
KEYS = tuple(w.key for w in WORKSPACES)

#: Panels built the first time their workspace is shown, by workspace key.
PANEL_TITLES = {"caption": "Caption", "export": "Export", "train": "Train"}

#: Splitter shares of each page (left to right, top to bottom) at first start and after reset.
SHARES: dict[str, list[int]] = {
    "curate": [50, 50], "curate.side": [64, 36],
    "caption": [34, 66], "caption.right": [30, 70],
}


class Slot(QWidget):
    """A place on a page where a shared widget (clip list, preview, caption editor) sits."""

    def __init__(self, role: str) -> None:
        super().__init__()
        self.setObjectName(f"slot_{role}")
        self.role = role
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)

    def hold(self, widget: QWidget) -> None:
        if widget.parentWidget() is not self:
            self.layout().addWidget(widget)  # reparents: it leaves the page it was on
        widget.show()


class PanelScroller(QScrollArea):
    """Where a lazily built panel goes, scrolled so a tall form never pushes the window.

    A panel whose cards sit in a row (Caption: model, prompts, run) stacks them when the page
    is narrower than the row, the run card on top, and the page scrolls down, not sideways.
    """

    def __init__(self) -> None:
        super().__init__()
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self._row: QBoxLayout | None = None
        self._row_width = 0

    def setWidget(self, widget: QWidget) -> None:  # noqa: N802 - Qt's name
        super().setWidget(widget)
        layout = widget.layout()
        if isinstance(layout, QBoxLayout) and layout.direction() == QBoxLayout.Direction.LeftToRight:
            self._row, self._row_width = layout, widget.minimumSizeHint().width()
        self._reflow()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._reflow()

    def _reflow(self) -> None:
        if self._row is None:
            return
        narrow = self.viewport().width() < self._row_width
        self._row.setDirection(QBoxLayout.Direction.BottomToTop if narrow
                               else QBoxLayout.Direction.LeftToRight)


class WorkspaceBar(QWidget):
    """The row of segmented buttons on top of the window, one per workspace."""

    chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("workspaceBar")
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 4, 8, 4)
        row.setSpacing(0)
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        self.buttons: dict[str, QToolButton] = {}
        for number, space in enumerate(WORKSPACES, start=1):
            button = QToolButton()
            button.setObjectName(f"workspace_{space.key}")
            button.setText(space.title)
            button.setCheckable(True)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay with the clip list
            button.setToolTip(f"{space.tip}  (Ctrl+{number})")
            position = "first" if number == 1 else "last" if number == len(WORKSPACES) else "mid"
            button.setProperty("segment", position)
            button.clicked.connect(lambda _c=False, k=space.key: self.chosen.emit(k))
            self.group.addButton(button)
            self.buttons[space.key] = button
            row.addWidget(button)
        row.addSpacing(16)
        self.hint = QLabel()
        self.hint.setObjectName("workspaceHint")
        row.addWidget(self.hint, 1)

    def set_current(self, key: str) -> None:
        self.buttons[key].setChecked(True)
        tip = next(w.tip for w in WORKSPACES if w.key == key)
        self.hint.setText(f"{tip}   ·   Ctrl+1 … Ctrl+{len(WORKSPACES)} switch")


class WorkspaceStack(QWidget):
    """The window's central widget: the workspace bar over the pages.

    Args:
        shared: the widgets pages borrow, by role: 'list' (the Clips/Images tabs), 'preview'
            and 'details' (the caption editor).
        pages: the widgets that are a whole page, by key: 'stats'.
    """

    changed = Signal(str)  # the workspace now shown

    def __init__(self, shared: dict[str, QWidget], pages: dict[str, QWidget],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("workspaces")
        self.shared = shared
        self.slots: dict[str, list[Slot]] = {}
        self.splitters: dict[str, QSplitter] = {}
        self.scrollers: dict[str, PanelScroller] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.bar = WorkspaceBar()
        self.bar.chosen.connect(self.show_workspace)
        layout.addWidget(self.bar)
        self.stack = QStackedWidget()
        layout.addWidget(self.stack, 1)
        self.pages: dict[str, QWidget] = {}
        self._build(pages)
        self._current = ""

    # --- pages ---------------------------------------------------------------------------

    def _build(self, pages: dict[str, QWidget]) -> None:
        self._add("curate", self._split("curate", [self._slot("curate", "list"),
                                                   self._side("curate")]))
        # Caption: the list down the left (pick what to caption), the caption editor over the
        # run's form beside it (read and fix what was made).
        self.scrollers["caption"] = PanelScroller()
        right = self._split("caption.right", [self._slot("caption", "details"),
                                              self.scrollers["caption"]],
                            Qt.Orientation.Vertical)
        self._add("caption", self._split("caption", [self._slot("caption", "list"), right]))
        # Export and Train: the whole width (a clip a warning names opens in Curate).
        for key in ("export", "train"):
            self.scrollers[key] = PanelScroller()
            self._add(key, self.scrollers[key])
        for key, widget in pages.items():
            self._add(key, widget)

    def _add(self, key: str, page: QWidget) -> None:
        page.setObjectName(page.objectName() or f"page_{key}")
        self.pages[key] = page
        self.stack.addWidget(page)
        self.slots.setdefault(key, [])

    def _slot(self, key: str, role: str) -> Slot:
        slot = Slot(role)
        self.slots.setdefault(key, []).append(slot)
        return slot

    def _side(self, key: str) -> QSplitter:
        """The preview over the caption editor, the right column of a page."""
        return self._split(f"{key}.side", [self._slot(key, "preview"), self._slot(key, "details")],
                           Qt.Orientation.Vertical)

    def _split(self, name: str, parts: list[QWidget],
               orientation: Qt.Orientation = Qt.Orientation.Horizontal) -> QSplitter:
        splitter = QSplitter(orientation)
        splitter.setObjectName(f"split_{name}")
        # A pane dragged shut vanished with no way back but a reset; they stop at their minimum.
        splitter.setChildrenCollapsible(False)
        splitter.setHandleWidth(5)
        for index, part in enumerate(parts):
            splitter.addWidget(part)
            splitter.setStretchFactor(index, SHARES[name][index])
        self.splitters[name] = splitter
        return splitter

    # --- switching -----------------------------------------------------------------------

    def current(self) -> str:
        return self._current

    def show_workspace(self, key: str) -> None:
        """Show a workspace, moving the clip list, preview and editor onto it if it has them."""
        if key not in self.pages:
            raise KeyError(f"no workspace {key!r}; one of {', '.join(self.pages)}")
        for slot in self.slots[key]:
            slot.hold(self.shared[slot.role])
        self.stack.setCurrentWidget(self.pages[key])
        self.bar.set_current(key)
        if key != self._current:
            self._current = key
            self.changed.emit(key)

    def show_clip_panels(self, visible: bool) -> None:
        """Show or hide the clip preview and editor beside the list (hidden for Images)."""
        for key, slots in self.slots.items():
            if not self.page_has(key, "list"):
                continue
            for slot in slots:
                if slot.role != "list":
                    holder = slot.parentWidget()
                    side = isinstance(holder, QSplitter) and holder.objectName().endswith(".side")
                    (holder if side else slot).setVisible(visible)

    def page_has(self, key: str, role: str) -> bool:
        return any(slot.role == role for slot in self.slots.get(key, []))

    def set_panel(self, key: str, panel: QWidget) -> None:
        self.scrollers[key].setWidget(panel)

    # --- sizes ---------------------------------------------------------------------------

    def fit(self) -> None:
        """Every splitter at its default shares of the space it has."""
        for name, splitter in self.splitters.items():
            whole = (splitter.width() if splitter.orientation() == Qt.Orientation.Horizontal
                     else splitter.height())
            shares = SHARES[name]
            splitter.setSizes([max(1, whole * share // sum(shares)) for share in shares])

    def save_state(self, settings: QSettings) -> None:
        """Splitter sizes, in the settings group the caller opened."""
        for name, splitter in self.splitters.items():
            settings.setValue(f"splitter/{name}", splitter.saveState())

    def restore_state(self, settings: QSettings) -> bool:
        """Splitter sizes from the settings; False when none were saved (first start)."""
        restored = False
        for name, splitter in self.splitters.items():
            state = settings.value(f"splitter/{name}")
            if isinstance(state, QByteArray):
                restored = splitter.restoreState(state) or restored
        return restored

