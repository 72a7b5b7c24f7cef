"""The one exception the media layer raises: it names the file and says what is wrong with it."""

from __future__ import annotations

from pathlib import Path


class MediaError(Exception):
    """A file that cannot be read as media; `str(exc)` is a sentence a person understands.

    Attributes:
        path: the file concerned.
        reason: the plain-words reason, without the file name.
    """

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path.name}: {reason}")
