"""The Qt-free core: every function the CLI, the GUI and the tests call alike."""
