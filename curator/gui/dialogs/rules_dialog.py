"""The auto-decide rules in the window: thresholds, what each would reject now, apply.

Every change of a threshold reruns the core's dry run (`preview_rules`) off the GUI thread
(only the newest ask counts); each rule's row shows how many pending clips it would reject and
the list below names them (double-click shows the clip). Apply rejects exactly the listed
clips (`apply_rejections`) and hands what they were before to the window, which puts the
whole apply on its undo stack as one step.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QGridLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from curator.core.analysis.rule_preview import RULES, RulePreview, preview_rules
from curator.core.analysis.rules import RuleSettings, apply_rejections
from curator.core.catalog import Catalog, DecisionChange
from curator.gui.latest import LatestRun

PREVIEW_DELAY_MS = 150
LIST_ROWS = 1000  # rows listed; Apply rejects every clip the preview holds


def _spin(value: float, top: float, step: float, decimals: int = 2) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(0.0, top)
    box.setDecimals(decimals)
    box.setSingleStep(step)
    box.setValue(value)
    return box


class RulesDialog(QDialog):
    """Non-modal; `applied` carries what the apply replaced and set (`DecisionChange`s)."""

    applied = Signal(list, list, str)  # states before, states after, the undo text
    clip_activated = Signal(int)

    def __init__(self, catalog: Catalog, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("rulesDialog")
        self.setWindowTitle("Rules: pre-decide pending clips")
        self.catalog = catalog
        self.preview: RulePreview | None = None
        self._runner = LatestRun("rules-preview", self)
        self._runner.finished.connect(self._on_preview)
        self._timer = QTimer(self, singleShot=True, interval=PREVIEW_DELAY_MS)
        self._timer.timeout.connect(self.refresh)
        self._build()
        self.refresh()

    def _build(self) -> None:
        d = RuleSettings(target_fps=float(self.catalog.settings().target_fps or 16.0))
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Rules reject pending clips only; a person's decision always "
                                "stands. Motion is in pixels per 1/16 s at 256 px wide."))
        grid = QGridLayout()
        self.enabled: dict[str, QCheckBox] = {}
        self.counts: dict[str, QLabel] = {}
        self.static_below = _spin(d.static_below or 0.5, 100, 0.1)
        self.dynamic_above = _spin(d.dynamic_above or 12.0, 500, 0.5)
        self.flicker_above = _spin(d.flicker_above or 0.1, 1, 0.01)
        self.text_above = _spin(d.text_above or 0.0, 1, 0.05)
        self.min_frames = QSpinBox()
        self.min_frames.setRange(1, 100_000)
        self.min_frames.setValue(33)
        self.hash_distance = QSpinBox()
        self.hash_distance.setRange(0, 64)
        self.hash_distance.setValue(d.max_hash_distance)
        self.hash_distance.setSuffix(" bits")
        fields: dict[str, tuple[str, QWidget | None]] = {
            "cut": ("", None),
            "short": ("fewer frames than", self.min_frames),
            "dynamic": ("motion p95 above / flicker share above", None),
            "static": ("mean motion below", self.static_below),
            "text": ("text share above", self.text_above),
            "duplicate": ("hashes within", self.hash_distance),
        }
        for row, (key, label) in enumerate(RULES.items()):
            check = QCheckBox(label)
            check.setChecked(key != "short")  # as the CLI: no minimum length unless asked
            check.toggled.connect(self._changed)
            self.enabled[key] = check
            grid.addWidget(check, row, 0)
            words, box = fields[key]
            grid.addWidget(QLabel(words), row, 1)
            if key == "dynamic":
                pair = QWidget()
                pair_layout = QGridLayout(pair)
                pair_layout.setContentsMargins(0, 0, 0, 0)
                pair_layout.addWidget(self.dynamic_above, 0, 0)
                pair_layout.addWidget(self.flicker_above, 0, 1)
                grid.addWidget(pair, row, 2)
            elif box is not None:
                grid.addWidget(box, row, 2)
            count = QLabel("…")
            count.setObjectName(f"ruleCount_{key}")
            count.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.counts[key] = count
            grid.addWidget(count, row, 3)
        for box in (self.static_below, self.dynamic_above, self.flicker_above, self.text_above,
                    self.min_frames, self.hash_distance):
            box.valueChanged.connect(self._changed)
        layout.addLayout(grid)
        self.summary = QLabel()
        self.summary.setObjectName("rulesSummary")
        layout.addWidget(self.summary)
        self.list = QListWidget()
        self.list.itemActivated.connect(
            lambda item: self.clip_activated.emit(item.data(Qt.ItemDataRole.UserRole)))
        layout.addWidget(self.list, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.apply_button = buttons.addButton("Apply", QDialogButtonBox.ButtonRole.ApplyRole)
        self.apply_button.setEnabled(False)
        self.apply_button.clicked.connect(self.apply)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(640, 560)

    def settings(self) -> RuleSettings:
        """The thresholds as set; a rule switched off is None (or False)."""
        on = {key: check.isChecked() for key, check in self.enabled.items()}
        return RuleSettings(
            static_below=self.static_below.value() if on["static"] else None,
            dynamic_above=self.dynamic_above.value() if on["dynamic"] else None,
            flicker_above=self.flicker_above.value() if on["dynamic"] else None,
            reject_cuts=on["cut"],
            min_frames=self.min_frames.value() if on["short"] else None,
            target_fps=float(self.catalog.settings().target_fps or 16.0),
            reject_duplicates=on["duplicate"],
            max_hash_distance=self.hash_distance.value(),
            text_above=self.text_above.value() if on["text"] else None)

    def _changed(self) -> None:
        self.apply_button.setEnabled(False)  # what is listed is no longer what Apply would do
        self._timer.start()

    def refresh(self) -> None:
        """Count again with the thresholds as set now (off the GUI thread)."""
        rules, catalog = self.settings(), self.catalog

        def run() -> RulePreview | Exception:
            try:
                return preview_rules(catalog, rules)
            except Exception as exc:  # noqa: BLE001 - shown to the person, not swallowed
                return exc

        self.summary.setText("Counting…")
        self._runner.submit(run)

    def _on_preview(self, result: object) -> None:
        if isinstance(result, Exception):
            self.summary.setText(f"Could not count: {result}")
            return
        assert isinstance(result, RulePreview)
        if result.rules != self.settings():
            return  # an older ask; the newer one is on its way
        self.preview = result
        for key, label in self.counts.items():
            n = result.counts.get(key, 0)
            label.setText(f"would reject {n:,}" if self.enabled[key].isChecked() else "off")
        total = len(result.rejections)
        tail = (f" · {result.not_analyzed:,} not analysed yet (Jobs → Analyze) "
                if result.not_analyzed else "")
        self.summary.setText(f"{total:,} of {result.pending:,} pending clips would be rejected"
                             + tail)
        self.list.clear()
        for clip_id, reason in result.rejections[:LIST_ROWS]:
            item = QListWidgetItem(f"clip {clip_id}  —  {reason}")
            item.setData(Qt.ItemDataRole.UserRole, clip_id)
            self.list.addItem(item)
        self.apply_button.setEnabled(total > 0)

    def apply(self) -> None:
        """Reject what the preview lists; the window undoes it as one step."""
        if self.preview is None or not self.preview.rejections:
            return
        before = apply_rejections(self.catalog, self.preview.rejections)
        reasons = dict(self.preview.rejections)
        after = [DecisionChange("clip", c.id, "rejected", reasons[c.id], "rule") for c in before]
        n = len(before)
        self.applied.emit(before, after, f"Rules reject {n} clip{'s' if n != 1 else ''}")
        self.refresh()

    def done(self, result: int) -> None:
        self._timer.stop()
        self._runner.shutdown()
        super().done(result)
