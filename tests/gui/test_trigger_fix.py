"""The trigger-fix bar (rel-b's TriggerFixBar): the window adds the trigger phrase to every
caption missing it, through the core's one rule (curator/core/trigger.py).

Moved here from tests/cli/test_trigger_rule.py: it needs Qt, and tests/cli runs without it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from curator.core.catalog import Catalog
from curator.core.trigger import missing_trigger
from tests.export_fixtures import add_image, add_source, write_clip

TRIGGER = "OHWX style"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "media").mkdir()
    clip_file = write_clip(tmp_path / "media" / "film.mp4", 30, size=(64, 36))
    root = tmp_path / "project"
    catalog = Catalog.for_project(root)
    catalog.update_settings(trigger=TRIGGER)
    add_source(catalog, clip_file, caption="OHWX style a cat")
    catalog.close()
    return root


def test_the_window_adds_the_trigger_to_every_caption_missing_it(qtbot, root, tmp_path):
    from curator.gui.panels.trigger_fix import TriggerFixBar

    catalog = Catalog.for_project(root)
    try:
        add_source(catalog, write_clip(tmp_path / "b.mp4", 30, size=(64, 36), seed=5),
                   caption="ohwx style a dog")
        add_image(catalog, tmp_path / "still.png", caption="a still")
        bar = TriggerFixBar(catalog)
        qtbot.addWidget(bar)
        qtbot.waitUntil(lambda: bar.button.text() == "Add the trigger to 2 captions",
                        timeout=5000)
        with qtbot.waitSignal(bar.fixed, timeout=5000) as fixed:
            bar.button.click()
        assert fixed.args == [2]
        qtbot.waitUntil(lambda: not bar.isVisibleTo(None) and not bar.missing, timeout=5000)
        assert missing_trigger(catalog) == []
        assert [c.caption for c in catalog.list_clips()][1] == "OHWX style a dog"
        assert catalog.list_images()[0].caption == "OHWX style a still"
        bar.wait()
    finally:
        catalog.close()
