"""The Stats view: distributions with the rules' thresholds on them, and the caption vocabulary."""

from curator.gui.stats.stats_view import StatsView

__all__ = ["StatsView"]
