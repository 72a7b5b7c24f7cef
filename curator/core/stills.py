"""Stills for the image section: one source frame saved at full resolution, losslessly.

A style LoRA's dataset mixes clips with stills (the seed's author cut 120 from his films);
a still taken from a clip is the source frame as decoded, saved as PNG, then catalogued like
any ingested image so the square crop, captioning and export treat it the same way.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image as PILImage

from .catalog import Catalog, CatalogError
from .media.frames import read_frame
from .media.hashing import content_hash


@dataclass(frozen=True)
class Still:
    image_id: int
    path: Path
    width: int
    height: int
    created: bool

    def to_json(self) -> dict[str, Any]:
        return {"image": self.image_id, "path": str(self.path), "width": self.width,
                "height": self.height, "created": self.created}


def still_path(stills_dir: Path, source: Path, frame: int) -> Path:
    """Where the still of `frame` of `source` is kept: one file per source frame."""
    return Path(stills_dir) / f"{source.stem}_f{frame:07d}.png"


def save_still(catalog: Catalog, clip_id: int, frame: int, *, stills_dir: Path) -> Still:
    """Save source frame `frame` of clip `clip_id` as a lossless still and catalogue it.

    `frame` counts source frames (as trim, split and the preview's frame counter do) and must
    lie inside the clip. Saving the same frame again returns the image already made.

    Raises:
        CatalogError: no such clip, or the frame lies outside it.
        MediaError: the source cannot be decoded at that frame.
    """
    clip = catalog.get_clip(clip_id)
    if not clip.start_frame <= frame < clip.end_frame:
        raise CatalogError(f"frame {frame} is outside clip {clip_id} (source frames "
                           f"{clip.start_frame}–{clip.end_frame - 1})")
    target = still_path(stills_dir, clip.source_path, frame)
    existing = catalog.find_image(path=target)
    if existing is not None and target.is_file():
        return Still(existing.id, target, existing.width, existing.height, created=False)
    pixels = read_frame(clip.source_path, frame)  # full resolution, rgb24
    height, width = pixels.shape[:2]
    _write_png(target, PILImage.fromarray(pixels))
    stat = target.stat()
    image_id, created = catalog.upsert_image(
        path=target, size=stat.st_size, mtime=stat.st_mtime, content_hash=content_hash(target),
        width=width, height=height, image_id=existing.id if existing is not None else None)
    return Still(image_id, target, width, height, created=created)


def _write_png(target: Path, picture: PILImage.Image) -> None:
    """Write through a temporary file so a crash never leaves half a PNG under the real name."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".still-", suffix=".png", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            picture.save(out, format="PNG")
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


__all__ = ["Still", "save_still", "still_path"]
