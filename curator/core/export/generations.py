"""The export folder switches from one complete dataset to the next in one rename.

Each export writes a whole new *generation* of the dataset (media, captions, section links, the
trainer's TOML and the manifest) into its own folder, then makes it current by renaming one
symbolic link. The names a trainer reads never change; they lead through that link::

    OUT/
      videos        -> .curator-dataset/current/videos
      images        -> .curator-dataset/current/images
      sections      -> .curator-dataset/current/sections
      musubi_dataset.toml -> .curator-dataset/current/musubi_dataset.toml
      manifest.json -> .curator-dataset/current/manifest.json
      cache/<name>/                 the trainer's own caches: outside the generations
      .curator-dataset/
        current -> g<n>             the one rename that publishes an export
        g<n>/videos/...             a complete dataset

A process killed at any point leaves `current` on the old generation or on the new one, never
on a mix. Unchanged files are hard links shared by both generations, so an incremental export
copies no video; the old generation is deleted after the switch.

A folder exported by an older Curator (real `videos/` etc.) is converted on its next export:
each real folder is moved aside and its link put in its place right after the switch (a folder
may be missing for that instant, but never holds a mix).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterable
from pathlib import Path

GENERATIONS_DIR = ".curator-dataset"
CURRENT = "current"
_LEGACY_PREFIX = "legacy-"


class FolderError(Exception):
    """The export folder holds something Curator will not write through (a foreign link)."""


def link_target(name: str) -> str:
    """What the stable name `OUT/<name>` points to (relative, so the folder can be moved)."""
    return f"{GENERATIONS_DIR}/{CURRENT}/{name}"


def is_our_link(path: Path, name: str) -> bool:
    return path.is_symlink() and os.readlink(path) == link_target(name)


def check_folder(out_dir: Path, stable: Iterable[str], real_dirs: Iterable[str]) -> None:
    """Refuse a folder whose trainer folders are links to elsewhere.

    Args:
        out_dir: the export folder.
        stable: names Curator itself makes links (`videos`, `images`, `sections`): a link there
            must be Curator's own.
        real_dirs: relative folders Curator writes into directly (`cache/<name>`, staging):
            no link at all, nor on the way to them.

    Raises:
        FolderError: naming the link and where it leads.
    """
    for name in stable:
        path = out_dir / name
        if path.is_symlink() and not is_our_link(path, name):
            raise FolderError(f"{path} is a link to {os.readlink(path)}; Curator does not write "
                              f"through links to other folders (remove it, or export elsewhere)")
    for rel in [GENERATIONS_DIR, *real_dirs]:
        path = out_dir
        for part in Path(rel).parts:
            path = path / part
            if path.is_symlink():
                raise FolderError(f"{path} is a link to {os.readlink(path)}; Curator does not "
                                  f"write through links to other folders (remove it, or "
                                  f"export elsewhere)")


def current_generation(out_dir: Path) -> Path | None:
    link = out_dir / GENERATIONS_DIR / CURRENT
    if not link.is_symlink():
        return None
    target = out_dir / GENERATIONS_DIR / os.readlink(link)
    return target if target.is_dir() else None


def begin(out_dir: Path) -> Path:
    """A new, empty generation folder; leftovers of interrupted exports are removed first."""
    root = out_dir / GENERATIONS_DIR
    root.mkdir(exist_ok=True)
    _remove_all_but(root, current_generation(out_dir))
    gen = root / f"g{time.time_ns()}-{os.getpid()}"
    gen.mkdir()
    return gen


def place(src: Path, dst: Path) -> None:
    """Put `src` at `dst` as a hard link (a copy where links are impossible); `src` stays."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst, follow_symlinks=False)
    except FileExistsError:
        raise
    except OSError:  # another file system, or one without hard links
        shutil.copy2(src, dst, follow_symlinks=False)


def carry_over(out_dir: Path, gen: Path, folders: Iterable[str], ours: set[str]) -> list[str]:
    """Link into `gen` every file under `folders` that the previous export did not write.

    A person's own file in `videos/` (or a diffusion-pipe cache in a section folder) lives in
    the current generation; without this it would vanish with it.

    Args:
        out_dir: the export folder (read through its links).
        gen: the new generation.
        folders: top-level folders to walk (`videos`, `images`, `sections`).
        ours: relative paths the previous export wrote (left out).

    Returns:
        The relative paths carried over.
    """
    carried = []
    for folder in folders:
        top = out_dir / folder
        if not top.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(top):  # does not descend into links
            rel_dir = Path(dirpath).relative_to(top)
            linked = [n for n in dirnames if (Path(dirpath) / n).is_symlink()]
            dirnames[:] = [n for n in dirnames if n not in linked]
            filenames.extend(linked)  # a link is carried as a link, never followed
            for name in filenames:
                rel = (Path(folder) / rel_dir / name).as_posix()
                if rel in ours or (gen / rel).exists() or (gen / rel).is_symlink():
                    continue
                place(Path(dirpath) / name, gen / rel)
                carried.append(rel)
            for name in dirnames:
                (gen / folder / rel_dir / name).mkdir(parents=True, exist_ok=True)
    return carried


def switch(out_dir: Path, gen: Path, names: Iterable[str], stale: Iterable[str] = ()) -> None:
    """Make `gen` the current generation, in one rename, and point the stable names at it.

    Args:
        out_dir: the export folder.
        gen: the complete new generation.
        names: top-level names in `gen` that get a stable link in `out_dir`.
        stale: top-level names the previous export had and this one does not (an image folder
            no longer exported, the config of the other trainer): removed after the switch.
    """
    root = out_dir / GENERATIONS_DIR
    names = list(names)
    legacy: list[str] = []
    # Before the switch: links that do not exist yet (a first export, or a folder new to this
    # one) lead through `current` and show nothing until it switches.
    for name in names:
        path = out_dir / name
        if path.is_symlink():
            continue
        if path.exists():
            legacy.append(name)  # a real file or folder from an older Curator
        else:
            _link(link_target(name), path)
    _link(gen.name, root / CURRENT)  # the switch
    if legacy:
        aside = root / f"{_LEGACY_PREFIX}{time.time_ns()}"
        aside.mkdir()
        for name in legacy:
            path = out_dir / name
            if path.is_dir():
                path.rename(aside / name)
            _link(link_target(name), path)  # replaces a real file in one rename
    for name in stale:
        path = out_dir / name
        if name in names:
            continue
        if is_our_link(path, name) or path.is_file():
            path.unlink(missing_ok=True)
    _remove_all_but(root, gen)


def _link(target: str, path: Path) -> None:
    """Make `path` a symbolic link to `target` atomically (a temporary link renamed over it)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.link")
    tmp.unlink(missing_ok=True)
    try:
        os.symlink(target, tmp)
    except OSError as exc:  # FAT/exFAT drives, some network shares
        raise FolderError(f"cannot make the link {tmp}: {exc.strerror or exc}; the export "
                          f"folder must be on a file system with symbolic links (its "
                          f"dataset is switched by renaming one)") from exc
    os.replace(tmp, path)


def _remove_all_but(root: Path, keep: Path | None) -> None:
    """Delete every generation (and moved-aside legacy folder) but `keep` and the link."""
    if not root.is_dir():
        return
    for entry in root.iterdir():
        if entry.name == CURRENT or (keep is not None and entry.name == keep.name):
            continue
        if entry.is_symlink() or entry.is_file():
            entry.unlink(missing_ok=True)
        else:
            shutil.rmtree(entry, ignore_errors=True)
