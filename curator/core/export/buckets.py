"""Spatial buckets exactly as the trainers compute them, and a helper to choose a resolution.

musubi-tuner's buckets are area-based (TRAINERS.md §1.5): `resolution = [W, H]` sets a pixel
budget `W*H`, and each clip or image goes to the bucket whose aspect ratio is nearest its own.
diffusion-pipe's buckets are aspect ratios in log space, sized per resolution (§4.2). Both are
reproduced here bit for bit (same integer steps, same float comparisons, same tie-breaking), so
that the sizes Curator shows are the sizes the trainer will cache.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

# Divisibility of bucket sides (`reso_steps`): 16 for Wan and every video architecture (§1.5).
WAN_RESO_STEPS = 16


def divisible_by(value: int, step: int) -> int:
    """Round down to a multiple of `step`, as musubi's `divisible_by` (`x - x % s`)."""
    return value - value % step


class BucketSelector:
    """musubi-tuner's `BucketSelector` (dataset/bucket.py), reproduced exactly (§1.5).

    Args:
        resolution: `(width, height)`; its product is the pixel budget.
        enable_bucket: False gives one bucket, exactly `resolution` (not rounded).
        no_upscale: with buckets on, a source of at most the budget's area keeps its own size
            rounded down to `reso_steps` instead of taking a bucket.
        reso_steps: side divisibility, 16 for Wan.
    """

    def __init__(self, resolution: tuple[int, int], enable_bucket: bool = True,
                 no_upscale: bool = False, reso_steps: int = WAN_RESO_STEPS) -> None:
        self.resolution = (int(resolution[0]), int(resolution[1]))
        self.bucket_area = self.resolution[0] * self.resolution[1]
        self.reso_steps = reso_steps
        if not enable_bucket:
            self.bucket_resolutions: list[tuple[int, int]] = [self.resolution]
            self.no_upscale = False
        else:
            self.no_upscale = no_upscale
            sqrt_size = int(math.sqrt(self.bucket_area))
            min_size = divisible_by(sqrt_size // 2, reso_steps)
            buckets: list[tuple[int, int]] = []
            # The upper bound is `sqrt_size + step` (exclusive), as in musubi: one width past
            # sqrt(area) may be listed, e.g. 576 for a budget of 565² pixels.
            for w in range(min_size, sqrt_size + reso_steps, reso_steps):
                h = divisible_by(self.bucket_area // w, reso_steps)
                buckets.append((w, h))
                buckets.append((h, w))
            self.bucket_resolutions = sorted(set(buckets))
        self.aspect_ratios = np.array([w / h for w, h in self.bucket_resolutions])

    def get_bucket_resolution(self, image_size: tuple[int, int]) -> tuple[int, int]:
        """The bucket `(width, height)` for a source of `image_size` `(width, height)`."""
        width, height = image_size
        if self.no_upscale and width * height <= self.bucket_area:
            return divisible_by(width, self.reso_steps), divisible_by(height, self.reso_steps)
        errors = np.abs(self.aspect_ratios - width / height)
        # argmin returns the first of equal errors: the first bucket in sorted order wins a tie.
        return self.bucket_resolutions[int(errors.argmin())]


def musubi_buckets(resolution: tuple[int, int], reso_steps: int = WAN_RESO_STEPS
                   ) -> list[tuple[int, int]]:
    """The sorted bucket list musubi-tuner builds for `resolution` with buckets on (§1.5)."""
    return list(BucketSelector(resolution, True, False, reso_steps).bucket_resolutions)


def musubi_cache_bucket(size: tuple[int, int], resolution: tuple[int, int],
                        reso_steps: int = WAN_RESO_STEPS) -> tuple[int, int]:
    """The size a video is cached at: buckets on and no-upscale off, whatever the config says.

    musubi resizes video frames at caching time with `BucketSelector(resolution)` and the first
    frame's size (§1.5, "Asymmetry").
    """
    return BucketSelector(resolution, True, False, reso_steps).get_bucket_resolution(size)


def cover_size(size: tuple[int, int], bucket: tuple[int, int]) -> tuple[int, int]:
    """The size musubi resizes a source to before center-cropping it to `bucket`.

    The larger of the two scale factors is used and each side rounded to the nearest pixel
    (`int(x * scale + 0.5)`, media_utils.resize_image_to_bucket).
    """
    width, height = size
    if (width, height) == tuple(bucket):
        return width, height
    scale = max(bucket[0] / width, bucket[1] / height)
    return int(width * scale + 0.5), int(height * scale + 0.5)


def cover_scale(size: tuple[int, int], bucket: tuple[int, int]) -> float:
    """The factor by which a source must be scaled so that it covers `bucket`."""
    return max(bucket[0] / size[0], bucket[1] / size[1])


# --- diffusion-pipe (§4.2) ---------------------------------------------------------------

DP_ROUND_DECIMALS = 3


def dp_dedup_and_sort(values: Iterable[float]) -> list[float]:
    """diffusion-pipe's `dedup_and_sort`: round to 3 decimals, deduplicate, sort."""
    return sorted({round(float(v), DP_ROUND_DECIMALS) for v in values})


def dp_round_to_nearest_multiple(x: float, multiple: int) -> int:
    """diffusion-pipe's `round_to_nearest_multiple` (Python's round: halves go to even)."""
    return int(round(x / multiple) * multiple)


def dp_resolution_side(resolution: int | float | Sequence[int]) -> float:
    """A `resolutions` entry as the side of the square of equal area (`sqrt(W*H)` for pairs)."""
    if isinstance(resolution, (tuple, list)):
        return math.sqrt(resolution[0] * resolution[1])
    return float(resolution)


def dp_ar_buckets(*, ar_buckets: Sequence[float | Sequence[int]] | None = None,
                  min_ar: float | None = None, max_ar: float | None = None,
                  num_ar_buckets: int | None = None, enable_ar_bucket: bool = True
                  ) -> list[float]:
    """The aspect-ratio buckets diffusion-pipe builds (width/height, rounded to 3 decimals).

    Without AR bucketing every file goes to 1.0 (a square center-crop); explicit `ar_buckets`
    may be ratios or `[W, H]` pairs; otherwise `geomspace(min_ar, max_ar, num_ar_buckets)`.
    """
    if not enable_ar_bucket:
        return [1.0]
    if ar_buckets:
        ratios = [a[0] / a[1] if isinstance(a, (tuple, list)) else float(a) for a in ar_buckets]
    else:
        if min_ar is None or max_ar is None or num_ar_buckets is None:
            raise ValueError("diffusion-pipe needs ar_buckets, or min_ar, max_ar and "
                             "num_ar_buckets")
        ratios = list(np.geomspace(min_ar, max_ar, num=num_ar_buckets))
    return dp_dedup_and_sort(ratios)


def dp_nearest_ar(size: tuple[int, int], ars: Sequence[float]) -> float:
    """The AR bucket nearest a file's aspect ratio in log space (first one on a tie)."""
    log_ar = np.log(size[0] / size[1])
    return float(ars[int(np.argmin(np.abs(log_ar - np.log(np.array(ars)))))])


def dp_bucket_size(ar: float, resolution: int | float | Sequence[int],
                   round_to: int = WAN_RESO_STEPS) -> tuple[int, int]:
    """The `(width, height)` diffusion-pipe caches an AR bucket at for one resolution entry."""
    side = round(dp_resolution_side(resolution), DP_ROUND_DECIMALS)
    area = side ** 2
    width = math.sqrt(area * ar)
    height = area / width
    return (dp_round_to_nearest_multiple(width, round_to),
            dp_round_to_nearest_multiple(height, round_to))


# --- choosing a resolution ---------------------------------------------------------------

@dataclass(frozen=True)
class ResolutionOption:
    """A `[W, H]` that keeps an aspect ratio, and the buckets musubi picks with it.

    Attributes:
        width, height: a candidate `resolution`, both multiples of the step.
        aspect_error: relative difference of `width/height` from the wanted ratio.
        buckets: for each source size asked about, the bucket musubi-tuner caches it at
            (buckets on, no-upscale off, as for videos).
    """

    width: int
    height: int
    aspect_error: float
    buckets: tuple[tuple[tuple[int, int], tuple[int, int]], ...] = ()

    @property
    def pixels(self) -> int:
        return self.width * self.height

    def to_json(self) -> dict[str, object]:
        return {
            "resolution": [self.width, self.height],
            "pixels": self.pixels,
            "aspect": round(self.width / self.height, 4),
            "aspect_error": round(self.aspect_error, 5),
            "buckets": [{"source": list(src), "bucket": list(b)} for src, b in self.buckets],
        }


def resolution_options(aspect: float | tuple[int, int], max_pixels: int, *,
                       sources: Sequence[tuple[int, int]] = (), step: int = WAN_RESO_STEPS,
                       tolerance: float = 0.01, min_side: int | None = None
                       ) -> list[ResolutionOption]:
    """Sizes divisible by `step` that keep an aspect ratio within a pixel budget.

    Args:
        aspect: the clips' ratio as a float, or a `(width, height)` such as `(1920, 1040)`.
        max_pixels: the budget; options with `width*height` above it are left out.
        sources: source sizes to show the musubi bucket for, under each option.
        step: side divisibility (16 for Wan).
        tolerance: the largest relative aspect error kept (0.01 = 1 %).
        min_side: the shortest side considered (default: `step`).

    Returns:
        Options, largest first; exact ratios (error 0) come before close ones of equal area.
    """
    ratio = aspect[0] / aspect[1] if isinstance(aspect, tuple) else float(aspect)
    if ratio <= 0 or max_pixels <= 0:
        raise ValueError("aspect and max_pixels must be positive")
    min_side = min_side or step
    options: dict[tuple[int, int], ResolutionOption] = {}
    # Walk the shorter side: for each multiple of `step`, the nearest multiple for the other.
    short = min_side
    while True:
        if ratio >= 1:
            h = short
            w = max(step, int(round(h * ratio / step)) * step)
        else:
            w = short
            h = max(step, int(round(w / ratio / step)) * step)
        if w * h > max_pixels:
            break
        error = abs(w / h - ratio) / ratio
        if error <= tolerance:
            options[(w, h)] = ResolutionOption(
                w, h, error,
                tuple((tuple(src), musubi_cache_bucket(tuple(src), (w, h), step))
                      for src in sources))
        short += step
    return sorted(options.values(), key=lambda o: (-o.pixels, o.aspect_error))
