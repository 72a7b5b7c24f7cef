"""The preview's control rows, built onto the panel (which keeps the widgets as attributes)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QToolButton, QWidget

from curator.gui.theme import transport_icon

if TYPE_CHECKING:
    from curator.gui.panels.preview_panel import PreviewPanel


def build_transport_bar(panel: PreviewPanel) -> QHBoxLayout:
    """Frame back, play, frame forward, the counter, the fps choice and the trainer toggle."""
    bar = QHBoxLayout()
    bar.setContentsMargins(6, 0, 6, 2)
    bar.setSpacing(4)

    def button(icon: str, tip: str) -> QToolButton:
        b = QToolButton()
        b.setIcon(transport_icon(icon))
        b.setIconSize(QSize(20, 20))
        b.setToolTip(tip)
        b.setAutoRaise(True)
        b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        bar.addWidget(b)
        return b

    panel.back_button = button("back",
                              "Previous frame  ( , or Left )")
    panel.back_button.setAutoRepeat(True)
    panel.back_button.clicked.connect(lambda: panel.step(-1))
    panel.play_button = button("play", "Play / pause  (Space)")
    panel.play_button.setObjectName("previewPlay")
    panel.play_button.clicked.connect(panel.toggle_play)
    panel.forward_button = button("forward",
                                 "Next frame  ( . or Right )")
    panel.forward_button.setAutoRepeat(True)
    panel.forward_button.clicked.connect(lambda: panel.step(1))
    panel.counter = QLabel()
    panel.counter.setObjectName("previewCounter")
    panel.counter.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    panel.counter.setMinimumWidth(150)
    bar.addSpacing(4)
    bar.addWidget(panel.counter, 1)

    panel.fps_box = QComboBox()
    panel.fps_box.setObjectName("previewFps")
    panel.fps_box.addItem("Source fps", "source")
    panel.fps_box.addItem(f"Training {panel.target_fps:g} fps", "training")
    panel.fps_box.setToolTip("Play every frame of the source, or the frames a "
                            f"{panel.target_fps:g} fps export keeps")
    panel.fps_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    panel.fps_box.currentIndexChanged.connect(lambda _i: panel._rebuild_sequence())
    bar.addWidget(panel.fps_box)

    panel.trainer_button = QToolButton()
    panel.trainer_button.setObjectName("trainerViewToggle")
    panel.trainer_button.setText("Trainer view")
    panel.trainer_button.setCheckable(True)
    panel.trainer_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    panel.trainer_button.setToolTip(
        "Show what the trainer gets: frames at the training fps, resized and centre-cropped "
        "to the section's bucket, with the windows its frame extraction cuts")
    panel.trainer_button.toggled.connect(panel.set_trainer_view)
    bar.addWidget(panel.trainer_button)
    return bar

def build_trainer_row(panel: PreviewPanel) -> QWidget:
    """The second row, trainer view only: which section of the plan, and what it gives."""
    panel.trainer_row = QWidget()
    panel.trainer_row.setObjectName("trainerRow")
    row = QHBoxLayout(panel.trainer_row)
    row.setContentsMargins(6, 0, 6, 4)
    row.setSpacing(6)
    panel.section_box = QComboBox()
    panel.section_box.setObjectName("trainerSection")
    panel.section_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    panel.section_box.setSizeAdjustPolicy(
        QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    panel.section_box.setMinimumContentsLength(20)
    panel.section_box.setToolTip("Section of the dataset plan (its resolution and frame "
                                "extraction)")
    panel.section_box.currentIndexChanged.connect(lambda _i: panel._rebuild_sequence())
    row.addWidget(panel.section_box)
    panel.trainer_info = QLabel()
    panel.trainer_info.setObjectName("trainerInfo")
    panel.trainer_info.setWordWrap(True)
    row.addWidget(panel.trainer_info, 1)
    panel.trainer_row.setVisible(False)
    return panel.trainer_row
