"""The PySide6 layer: windows, Qt models over the catalog, workers wrapping core jobs."""
