"""Where the window tests' fixtures used to live; they are in tests/gui/conftest.py now.

Kept so test modules written against the old import still run while branches merge; new tests
take the fixtures by name and import nothing.
"""

from tests.gui.conftest import (  # noqa: F401 - re-exported for tests written before the move
    TRIGGER,
    add_films,
    filled_catalog_file,
    filled_project,
    make_window,
    no_dangling_qthreads,
    synthetic_films,
    ui_settings,
)
