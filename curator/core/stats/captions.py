"""The captions in aggregate: length, opening phrases, n-grams, words in nearly every caption,
captions sharing most of their text, and captions without the trigger phrase.

Length is a SQL aggregate over every caption (words are counted as spaces + 1 in SQL; captions
are saved with single spaces). The vocabulary needs the words themselves, so it reads at most
`SAMPLE` captions, spread evenly over the ids: bounded cost at a million captions, exact on a
catalog that has fewer.

On SQLite no query here reads every caption: the lengths and the captions to read are found
in two expression indexes (catalog revision 0005), the word count and the first
`HEAD_CHARS` characters, spelt below as the migration spells them.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from itertools import chain
from typing import Any

import numpy as np
from sqlalchemy import and_, func, literal_column, not_, or_, select
from sqlalchemy.orm import Session

from curator.core.catalog.models import Clip
from curator.core.disjoint import DisjointSets

from .histogram import Histogram, bin_counts

#: Most captions the vocabulary reads.
SAMPLE = 4_000
#: Words of a caption that make its opening phrase.
OPENING_WORDS = 3
#: N-gram lengths counted.
NGRAM_SIZES = (2, 3, 4)
#: Phrases listed per kind.
TOP = 20
#: A word in at least this share of captions is "in nearly every caption".
NEARLY_ALL = 0.9
#: Two captions sharing at least this share of their word 3-grams (Jaccard) are near-duplicates.
NEAR_DUPLICATE = 0.8
#: MinHash: bands × rows hashes; a pair at Jaccard 0.8 shares a band with probability 0.9997.
_BANDS, _ROWS = 16, 4

_WORD = re.compile(r"[\w']+")
_CAPTIONED = (Clip.caption.is_not(None), Clip.caption != "")
#: A caption's words: spaces + 1 of the trimmed caption, NULL without one (ix_clips_caption_words).
_WORDS = literal_column(
    "CASE WHEN caption IS NOT NULL AND caption != '' THEN length(trim(caption)) - "
    "length(replace(trim(caption), ' ', '')) + 1 END")
#: A caption's first characters (ix_clips_caption_head). Under SQLite's byte order the
#: captions that start with a phrase are one range of it, and `head > ''` are the captioned.
HEAD_CHARS = 40
_HEAD = literal_column(f"substr(caption, 1, {HEAD_CHARS})")


@dataclass(frozen=True)
class PhraseCount:
    """A phrase and the number of captions (of those read) that hold it."""

    kind: str  # 'opening', '2-gram', '3-gram', '4-gram' or 'word'
    phrase: str
    captions: int
    share: float

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "phrase": self.phrase, "captions": self.captions,
                "share": round(self.share, 4)}


@dataclass(frozen=True)
class DuplicateGroup:
    """Captions that share most of their text: the clip ids and one of the texts."""

    clip_ids: tuple[int, ...]
    example: str

    def to_json(self) -> dict[str, Any]:
        return {"clip_ids": list(self.clip_ids), "example": self.example}


@dataclass(frozen=True)
class CaptionStats:
    """The caption figures.

    Attributes:
        captioned: clips with a caption.
        read: captions the vocabulary was counted on (all of them up to `SAMPLE`).
        words: histogram of caption length in words (every caption).
        openings: most frequent opening phrases (after the trigger phrase).
        ngrams: most frequent 2-, 3- and 4-word phrases (counted once per caption).
        common_words: words in at least `NEARLY_ALL` of the captions read.
        near_duplicates: groups of captions sharing most of their text, largest first.
        missing_trigger: captions (of all) without the trigger phrase; None without a trigger.
        missing_trigger_ids: the first of those clip ids.
    """

    captioned: int
    read: int
    words: Histogram
    openings: tuple[PhraseCount, ...] = ()
    ngrams: tuple[PhraseCount, ...] = ()
    common_words: tuple[PhraseCount, ...] = ()
    near_duplicates: tuple[DuplicateGroup, ...] = field(default_factory=tuple)
    missing_trigger: int | None = None
    missing_trigger_ids: tuple[int, ...] = ()

    def phrases(self) -> list[PhraseCount]:
        """Everything the vocabulary table lists, in one list."""
        return [*self.openings, *self.ngrams, *self.common_words]

    def to_json(self) -> dict[str, Any]:
        return {"captioned": self.captioned, "read": self.read, "words": self.words.to_json(),
                "openings": [p.to_json() for p in self.openings],
                "ngrams": [p.to_json() for p in self.ngrams],
                "common_words": [p.to_json() for p in self.common_words],
                "near_duplicates": [g.to_json() for g in self.near_duplicates],
                "near_duplicate_captions": sum(len(g.clip_ids) for g in self.near_duplicates),
                "missing_trigger": self.missing_trigger,
                "missing_trigger_ids": list(self.missing_trigger_ids)}


def words(text: str) -> list[str]:
    """A caption's words, lower case, punctuation dropped (apostrophes kept)."""
    return _WORD.findall(text.lower())


def caption_stats(s: Session, trigger: str, has_trigger: Callable[[str, str], bool], *,
                  sample: int = SAMPLE, top: int = TOP, list_ids: int = 200) -> CaptionStats:
    """The caption figures of every captioned clip (vocabulary on a bounded sample).

    `caption_lengths` and `caption_vocabulary` in one session; `dataset_stats` runs the two
    on their own threads.

    Args:
        s: an open session.
        trigger: the project's trigger phrase ('' when none is set).
        has_trigger: the core's trigger rule, `(caption, trigger) -> bool`.
        sample: most captions the vocabulary reads.
        top: phrases listed per kind.
        list_ids: most clip ids listed for captions without the trigger.
    """
    lengths = caption_lengths(s)
    vocabulary = caption_vocabulary(s, trigger, has_trigger, lengths.total, sample=sample,
                                    top=top, list_ids=list_ids)
    return replace(vocabulary, words=lengths)


def caption_lengths(s: Session) -> Histogram:
    """Caption length in words, grouped in SQL over the captioned clips (a walk of the words
    index from its first captioned entry: every caption has at least one word, the others
    are NULL and come first)."""
    counts = s.execute(select(_WORDS, func.count()).select_from(Clip).where(_WORDS > 0)
                       .group_by(_WORDS)).all()
    return bin_counts(counts, 1, key="caption_words", label="caption length", unit="words",
                      start=0)


def caption_vocabulary(s: Session, trigger: str, has_trigger: Callable[[str, str], bool],
                       captioned: int, *, sample: int = SAMPLE, top: int = TOP,
                       list_ids: int = 200) -> CaptionStats:
    """Phrases and near-duplicates on the sample, and the captions without the trigger.

    The sample is every k-th caption by id. The trigger rule judges the captions not written
    as the trigger, a space and more words; a caption written that way is not read when the
    rule itself accepts such a caption (asked once, on a probe), so a tidy dataset costs a
    few rows, not a million.

    Args:
        captioned: how many clips have a caption (picks k); `words` is left empty.
    """
    empty = Histogram("caption_words", "caption length", "words", (), ())
    if captioned == 0:
        return CaptionStats(0, 0, empty)
    every = max(1, -(-captioned // sample))  # every k-th caption by id when there are many
    sqlite = s.get_bind().dialect.name == "sqlite"
    # SQLite finds the captioned rows in the head index; ordered in SQL it would walk the
    # table instead (ids are sorted here, a few thousand)
    captioned_rows = (_HEAD > "",) if sqlite else _CAPTIONED
    rows = sorted(s.execute(select(Clip.id, Clip.caption)
                            .where(*captioned_rows, Clip.id % every == 0)), key=_first)[:sample]
    missing, missing_ids = _missing_trigger(s, trigger, has_trigger, list_ids) \
        if trigger else (None, ())
    lead = words(trigger)
    bodies = [(clip_id, _after_trigger(words(text), lead), text) for clip_id, text in rows]
    openings, ngrams, common = _vocabulary([b for _, b, _ in bodies], lead, top)
    groups = near_duplicate_groups([(cid, b) for cid, b, _ in bodies])
    texts = {cid: text for cid, _, text in bodies}
    return CaptionStats(
        captioned=captioned, read=len(rows), words=empty, openings=openings, ngrams=ngrams,
        common_words=common,
        near_duplicates=tuple(DuplicateGroup(tuple(g), texts[g[0]]) for g in groups),
        missing_trigger=missing, missing_trigger_ids=tuple(missing_ids))


def _missing_trigger(s: Session, trigger: str, has_trigger: Callable[[str, str], bool],
                     list_ids: int) -> tuple[int, list[int]]:
    """How many captions the trigger rule finds without the trigger, and the first ids."""
    prefix = trigger + " "
    judge_all = not (has_trigger(f"{trigger} x", trigger) and has_trigger(trigger, trigger))
    if judge_all:
        suspects = and_(*_CAPTIONED)  # the rule is not a prefix test: it judges every caption
    elif s.get_bind().dialect.name == "sqlite" and len(prefix) <= HEAD_CHARS:
        # everything but the range [prefix, prefix with its space bumped to '!'), which holds
        # exactly the heads that start with the prefix: two short walks of the head index
        suspects = or_(and_(_HEAD > "", _HEAD < prefix), _HEAD >= trigger + "!")
    else:
        suspects = and_(*_CAPTIONED, not_(or_(
            Clip.caption == trigger,
            func.substr(Clip.caption, 1, len(prefix)) == prefix)))
    missing, ids = 0, []
    for clip_id, text in sorted(s.execute(select(Clip.id, Clip.caption).where(suspects)),
                                key=_first):
        if (judge_all or not (text == trigger or text.startswith(prefix))) \
                and not has_trigger(text, trigger):
            missing += 1
            if len(ids) < list_ids:
                ids.append(clip_id)
    return missing, ids


def _first(row: Any) -> Any:
    """A row's first column (its id): the sort key; a whole Row compares slowly."""
    return row[0]


def _after_trigger(tokens: list[str], lead: list[str]) -> list[str]:
    """The words after the trigger phrase when the caption starts with it: its habits start there."""
    return tokens[len(lead):] if lead and tokens[:len(lead)] == lead else tokens


def _vocabulary(bodies: Sequence[list[str]], lead: list[str], top: int
                ) -> tuple[tuple[PhraseCount, ...], ...]:
    """Opening phrases, n-grams and near-universal words, each counted once per caption."""
    n = len(bodies)
    opening = Counter(" ".join(b[:OPENING_WORDS]) for b in bodies if b)
    # One Counter call per kind over every caption's set (each phrase once per caption):
    # the counting loop runs in C.
    vocab = Counter(chain.from_iterable(map(set, bodies)))
    grams = {k: Counter(chain.from_iterable(_grams(body, k) for body in bodies))
             for k in NGRAM_SIZES}

    def listed(kind: str, counter: Counter[str], minimum: int = 1) -> list[PhraseCount]:
        leaders = counter.most_common(top)  # C-fast; ties at the cut are settled below
        if not leaders:
            return []
        cut = max(leaders[-1][1], minimum)
        # Ties broken by the phrase, so the list is the same on every run.
        best = sorted(((p, c) for p, c in counter.items() if c >= cut),
                      key=lambda kv: (-kv[1], kv[0]))[:top]
        return [PhraseCount(kind, p, c, c / n) for p, c in best]

    openings = tuple(listed("opening", opening))
    # A phrase once in the whole sample says nothing about habits.
    ngrams = tuple(p for k in NGRAM_SIZES for p in listed(f"{k}-gram", grams[k], 2))
    skip = set(lead)
    common = tuple(PhraseCount("word", w, c, c / n) for w, c in
                   sorted(vocab.items(), key=lambda kv: (-kv[1], kv[0]))
                   if c >= NEARLY_ALL * n and w not in skip)
    return openings, ngrams, common


def _grams(body: list[str], k: int) -> set[str]:
    """The caption's distinct runs of `k` words."""
    return set(map(" ".join, zip(*(body[i:] for i in range(k)))))


def _shingles(body: list[str]) -> set[str]:
    if len(body) < 3:
        return {" ".join(body)} if body else set()
    return _grams(body, 3)


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: one well-mixed 64-bit hash per value (one per mask: a family).

    A linear hash (a·h + b mod p) of CRC32 values keeps small inputs small, so one shingle
    would be the minimum under every permutation; this avalanche does not.
    """
    with np.errstate(over="ignore"):  # multiplication modulo 2^64 is the point
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def near_duplicate_groups(captions: Sequence[tuple[int, list[str]]], *,
                          threshold: float = NEAR_DUPLICATE) -> list[list[int]]:
    """Groups of captions whose word 3-grams overlap by at least `threshold` (Jaccard).

    MinHash with banding finds candidates in linear time; each candidate is checked exactly
    against the first caption of its band bucket (not against every other member), so a
    thousand copies of one template cost a thousand checks, not half a million.

    Args:
        captions: (clip id, words) pairs.
        threshold: the least Jaccard similarity of two near-duplicates.

    Returns:
        Clip id groups of two or more, largest first, ids ascending.
    """
    sets = [_shingles(body) for _, body in captions]
    keep = [i for i, s in enumerate(sets) if s]
    if len(keep) < 2:
        return []
    # every caption's shingle hashes in one array, caption after caption
    flat = np.fromiter((zlib.crc32(x.encode()) for i in keep for x in sets[i]), np.uint64)
    starts = np.cumsum([0] + [len(sets[i]) for i in keep[:-1]])
    rng = np.random.default_rng(15)
    masks = rng.integers(0, 1 << 63, size=_BANDS * _ROWS, dtype=np.uint64)
    permuted = _mix(masks[:, None] ^ flat[None, :])
    signatures = np.minimum.reduceat(permuted, starts, axis=1).T  # one row per caption
    components = DisjointSets(len(keep))
    mix = rng.integers(1, 1 << 62, size=_ROWS, dtype=np.uint64) | np.uint64(1)
    with np.errstate(over="ignore"):  # the band key is a hash: wrapping is wanted
        for band in range(_BANDS):
            keys = (signatures[:, band * _ROWS:(band + 1) * _ROWS] * mix).sum(axis=1)
            _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
            leader = first[inverse]
            for i in np.flatnonzero(leader != np.arange(len(keep))).tolist():
                j = int(leader[i])
                if (not components.joined(i, j)
                        and jaccard(sets[keep[i]], sets[keep[j]]) >= threshold):
                    components.union(i, j)
    found = [sorted(g) for g in components.groups([captions[k][0] for k in keep])]
    return sorted(found, key=lambda g: (-len(g), g[0]))
