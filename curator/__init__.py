"""Curator: from raw footage to a dataset a video trainer accepts without edits."""

__version__ = "0.1.0"
