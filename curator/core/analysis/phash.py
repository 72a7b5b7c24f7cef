"""Perceptual hashes of frames and the grouping of clips that show the same picture.

The hash is pHash (the 8×8 lowest frequencies of a 32×32 DCT, each bit "above the median"),
computed with OpenCV on the gray frames the analyzer already holds, so no PIL image is made
per frame; it lands within a few bits of `imagehash.phash` (0–6 of 64 on the test footage:
OpenCV's area shrink to 32×32 differs from PIL's Lanczos). Two frames of
the same shot from two encodes (another size, bitrate or codec) land a few bits apart; two
different shots land about 32 bits apart, as random 64-bit strings do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from curator.core.disjoint import DisjointSets

HASH_BITS = 64
# Bits two hashes may differ by and still show the same picture. Measured on ../shared/media
# (36 frames): a frame and the same frame shrunk to a third and saved as JPEG at quality 40
# differ by 0–4 bits; frames of one clip a second apart by 0–34 (median 11); frames of two
# different clips by 22–40 (median 32).
DEFAULT_MAX_DISTANCE = 10
# Share of a clip's hashes that must find a partner in the other clip (so a trimmed copy of a
# shot still counts, while one shared frame, e.g. a title card, does not).
MIN_MATCH_SHARE = 0.6

_WEIGHTS = (1 << np.arange(HASH_BITS - 1, -1, -1, dtype=np.uint64)).astype(np.uint64)


def frame_hash(gray: np.ndarray) -> int:
    """The 64-bit pHash of a gray frame.

    Args:
        gray: a 2-D uint8 (or float) array, any size.

    Returns:
        The hash as an unsigned 64-bit int (bit order as `imagehash.phash`'s flattened array).
    """
    import cv2  # here, not above: the rules import this module for its grouping alone

    small = cv2.resize(gray, (32, 32), interpolation=cv2.INTER_AREA).astype(np.float32)
    low = cv2.dct(small)[:8, :8]
    bits = (low > np.median(low)).ravel()
    return int(np.sum(_WEIGHTS[bits], dtype=np.uint64))


def hash_to_hex(value: int) -> str:
    return f"{value:016x}"


def hex_to_hash(text: str) -> int:
    return int(text, 16)



def _match_share(mine: np.ndarray, theirs: np.ndarray, max_distance: int) -> float:
    dist = np.bitwise_count(mine[:, None] ^ theirs[None, :])
    return float(np.mean(dist.min(axis=1) <= max_distance))


def group_duplicates(hashes: Mapping[int, Sequence[int]], *,
                     max_distance: int = DEFAULT_MAX_DISTANCE) -> list[list[int]]:
    """Group clips whose frames look the same (near-duplicates).

    Two clips are duplicates when at least `MIN_MATCH_SHARE` of the hashes of the one with
    fewer hashes each lie within `max_distance` bits of some hash of the other; groups are the
    connected components of that relation.

    The candidate pairs come from a brute-force XOR + popcount over all hashes in blocks
    (numpy), about 1 ns per pair of hashes: under a second for 20,000 clips of 5 hashes.

    Args:
        hashes: clip id to its frame hashes (clips without hashes are ignored).
        max_distance: most differing bits for two frames to count as the same picture.

    Returns:
        Groups of two or more clip ids, each sorted, groups in order of their first id.
    """
    items = [(cid, np.asarray(list(h), dtype=np.uint64)) for cid, h in sorted(hashes.items()) if h]
    if len(items) < 2:
        return []
    owners = np.concatenate([np.full(len(h), i, dtype=np.int64) for i, (_, h) in enumerate(items)])
    flat = np.concatenate([h for _, h in items])
    components = DisjointSets(len(items))
    checked: set[tuple[int, int]] = set()
    block = 2048
    for lo in range(0, len(flat), block):
        part = flat[lo:lo + block]
        # Only pairs with the other hash later in the list: each pair is looked at once.
        dist = np.bitwise_count(part[:, None] ^ flat[None, lo:])
        rows, cols = np.nonzero(dist <= max_distance)
        for a, b in zip(owners[lo + rows].tolist(), owners[lo + cols].tolist(), strict=True):
            if a == b:
                continue
            key = (a, b) if a < b else (b, a)
            if key in checked:
                continue
            checked.add(key)
            ha, hb = items[key[0]][1], items[key[1]][1]
            small, large = (ha, hb) if len(ha) <= len(hb) else (hb, ha)
            if _match_share(small, large, max_distance) >= MIN_MATCH_SHARE:
                components.union(*key)
    groups = components.groups([cid for cid, _ in items])
    return sorted((sorted(g) for g in groups), key=lambda g: g[0])
