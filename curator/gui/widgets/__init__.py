"""Small widgets and helpers the tabs and panels share (job bar, stat cards, picker, fonts)."""
