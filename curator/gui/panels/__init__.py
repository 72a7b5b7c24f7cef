"""Panels of the main window, one per file; each is composed and wired by main_window.py."""
