"""The Train tab: profile, settings, commands, a live run and the samples it renders."""

from curator.gui.tabs.train.tab import TrainPanel

__all__ = ["TrainPanel"]
