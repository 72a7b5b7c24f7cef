"""Dialogs: project chooser, reject-reason picker."""
