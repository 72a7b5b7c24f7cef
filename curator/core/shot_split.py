"""Split existing clips at the shot boundaries inside them, transition frames left out.

The same rule as ingest's split (`shots.shot_ranges` over the shot engine's boundaries): a
clip `A ⟶dissolve⟶ B` keeps A's frames up to the dissolve and a new clip takes B's from its
end. Each part keeps the clip's decision and caption (the catalog's split copies them), so
hand work survives. `curator split --at-transitions` and the window's action both call
`split_at_transitions`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curator.core import jobs
from curator.core.catalog import Catalog, CatalogError, ClipRow
from curator.core.media.errors import MediaError
from curator.core.media.frames import iter_raw_frames
from curator.core.media.scenes import SceneSettings
from curator.core.media.shots import ShotEngine, Transition, shot_ranges
from curator.core.media.thumbnails import ensure_clip_thumbnails


@dataclass
class ClipSplit:
    """One clip split: its old range and the clips that now hold its shots (itself first)."""

    clip_id: int
    old_range: tuple[int, int]
    parts: list[int]
    ranges: list[tuple[int, int]]

    def to_json(self) -> dict[str, Any]:
        return {"clip": self.clip_id, "old_range": list(self.old_range), "parts": self.parts,
                "ranges": [list(r) for r in self.ranges]}


@dataclass
class SplitReport:
    split: list[ClipSplit] = field(default_factory=list)
    unchanged: int = 0
    failed: list[jobs.ItemFailure] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"split": [s.to_json() for s in self.split], "unchanged": self.unchanged,
                "failed": [f.to_json() for f in self.failed]}


def stored_boundaries(clip: ClipRow) -> list[Transition] | None:
    """The boundaries the clip's current analysis found, or None when it has none for this range."""
    a = clip.analysis or {}
    if list(a.get("range") or ()) != [clip.start_frame, clip.end_frame]:
        return None
    if "cut_frames" not in a or "transitions" not in a:
        return None
    found = [Transition("cut", int(c), int(c)) for c in a["cut_frames"]]
    found += [Transition(t["kind"], int(t["start"]), int(t["end"])) for t in a["transitions"]
              if t.get("kind") in ("dissolve", "fade", "wipe")]
    return sorted(found, key=lambda t: t.start)


def detect_boundaries(clip: ClipRow, *, cancel: jobs.CancelToken = jobs.NEVER_CANCELLED
                      ) -> list[Transition]:
    """Decode the clip's range and ask the shot engine (what decodes is judged).

    Raises:
        MediaError: the source cannot be read or no frame of the range decodes.
    """
    engine = ShotEngine(SceneSettings(min_scene_frames=1))
    fed = 0
    last_size: tuple[int, int] | None = None
    for index, frame in iter_raw_frames(clip.source_path, clip.start_frame, clip.end_frame,
                                        cancel):
        if last_size is None:
            last_size = (frame.width, frame.height)
        engine.feed(index, frame)
        fed += 1
    if fed == 0:
        raise MediaError(clip.source_path,
                         f"no frame of [{clip.start_frame}, {clip.end_frame}) decodes")
    engine.finish()
    return engine.judge(clip.start_frame, clip.end_frame).boundaries


def split_clip_at(catalog: Catalog, clip: ClipRow, ranges: Sequence[tuple[int, int]]
                  ) -> list[int]:
    """Make the clip hold `ranges[0]` and new clips the others (each a split, then a trim)."""
    current = clip.id
    parts = [clip.id]
    for i, (a, b) in enumerate(ranges):
        if i + 1 < len(ranges):
            _kept, child = catalog.split_clip(current, ranges[i + 1][0])
            parts.append(child)
        catalog.trim_clip(current, a, b)
        if i + 1 < len(ranges):
            current = parts[-1]
    return parts


def split_at_transitions(catalog: Catalog, clip_ids: Sequence[int] | None = None, *,
                         thumbs_dir: Path | None = None, min_frames: int | None = None,
                         progress: jobs.ProgressFn = jobs.ignore_progress,
                         cancel: jobs.CancelToken = jobs.NEVER_CANCELLED) -> SplitReport:
    """Split every given clip (None: all) at the shot boundaries inside it.

    A clip whose analysis is current is split at what it found; another is decoded and
    judged now. Parts shorter than `min_frames` (None: the project's minimum scene length)
    are left out, as ingest does; a clip with no boundary is left alone.
    """
    report = SplitReport()
    clips = catalog.list_clips(ids=clip_ids) if clip_ids is not None else catalog.list_clips()
    if min_frames is None:
        min_frames = catalog.settings().min_scene_frames
    ordered = sorted(clips, key=lambda c: (str(c.source_path), c.start_frame))
    for done, clip in enumerate(ordered):
        if cancel.cancelled:
            break
        progress(jobs.Progress(done=done, total=len(ordered), item=clip.source_path.name,
                               message=f"{done}/{len(ordered)} clips"))
        try:
            found = stored_boundaries(clip)
            if found is None:
                found = detect_boundaries(clip, cancel=cancel)
            inside = [Transition(t.kind, t.start - clip.start_frame, t.end - clip.start_frame)
                      for t in found if clip.start_frame <= t.start and t.end <= clip.end_frame]
            ranges = [(clip.start_frame + a, clip.start_frame + b)
                      for a, b in shot_ranges(inside, clip.frames, max(1, min_frames))]
            if not inside or ranges == [(clip.start_frame, clip.end_frame)]:
                report.unchanged += 1
                continue
            parts = split_clip_at(catalog, clip, ranges)
        except (MediaError, CatalogError) as exc:
            report.failed.append(jobs.ItemFailure(str(clip.source_path),
                                                  f"clip {clip.id}: {exc}"))
            continue
        report.split.append(ClipSplit(clip.id, (clip.start_frame, clip.end_frame), parts,
                                      ranges))
        if thumbs_dir is not None:
            for part in parts:
                try:
                    ensure_clip_thumbnails(thumbs_dir, catalog.get_clip(part), cancel=cancel)
                except MediaError:
                    pass  # the tile shows no picture; the split stands
    return report
