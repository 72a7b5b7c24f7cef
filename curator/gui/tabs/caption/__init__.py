"""The Caption tab: a vision-language model captions clips and images, live, as a job."""

from curator.gui.tabs.caption.tab import CaptionJobPanel

__all__ = ["CaptionJobPanel"]
