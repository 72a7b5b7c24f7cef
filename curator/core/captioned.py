"""Captioned clips and images read from the catalog page by page, for the passes over every
caption (find/replace, the trigger check): bounded memory at a million captions."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from curator.core.catalog import Catalog
from curator.core.catalog.models import Clip, Image, Source

# Rows read from the catalog per query.
PAGE = 2000

#: Extra SQL conditions on the clip or image model (Clip or Image is passed in).
Conditions = Callable[[Any], Sequence[Any]]


@dataclass(frozen=True)
class Captioned:
    """One captioned item: its kind ('clip' or 'image'), id, caption, file and a label."""

    kind: str
    id: int
    caption: str
    path: Path
    label: str  # 'a.mkv [0, 50)' for a clip, the file's name for an image


def iter_captioned(catalog: Catalog, kind: str, where: Conditions = lambda _model: ()
                   ) -> Iterator[Captioned]:
    """Clips or images (`kind`) with a non-empty caption and `where(model)`, in id order."""
    model = Clip if kind == "clip" else Image
    last = 0
    while True:
        if kind == "clip":
            query = select(Clip.id, Clip.caption, Source.path, Clip.start_frame,
                           Clip.end_frame).join(Source, Source.id == Clip.source_id)
        else:
            query = select(Image.id, Image.caption, Image.path)
        query = query.where(model.id > last, model.caption.is_not(None), model.caption != "",
                            *where(model))
        with catalog.session() as s:
            rows = s.execute(query.order_by(model.id).limit(PAGE)).all()
        for row in rows:
            last = row[0]
            path = Path(row[2])
            label = f"{path.name} [{row[3]}, {row[4]})" if kind == "clip" else path.name
            yield Captioned(kind, row[0], row[1], path, label)
        if len(rows) < PAGE:
            return
