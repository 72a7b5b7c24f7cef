"""The Export tab: plan, live count, warnings, resolution helper and the export run."""

from curator.gui.tabs.export.tab import ExportPanel

__all__ = ["ExportPanel"]
