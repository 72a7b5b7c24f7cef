"""Buckets as musubi-tuner and diffusion-pipe compute them (TRAINERS.md §1.5, §4.2)."""

from __future__ import annotations

import math

import pytest

from curator.core.export.buckets import (
    BucketSelector,
    cover_size,
    divisible_by,
    dp_ar_buckets,
    dp_bucket_size,
    dp_nearest_ar,
    musubi_buckets,
    musubi_cache_bucket,
    resolution_options,
)

SOURCES = [(1920, 1040), (1920, 1080), (1080, 1920), (1024, 1024), (800, 600)]

# TRAINERS.md §1.5 "Examples from musubi's own BucketSelector, reso_steps 16".
TABLE_1_5 = {
    (768, 416): [(768, 416), (768, 416), (416, 768), (560, 560), (656, 480)],
    (384, 208): [(384, 208), (384, 208), (208, 384), (272, 288), (320, 240)],
    (768, 768): [(1040, 560), (1024, 576), (576, 1024), (768, 768), (896, 656)],
    (832, 480): [(848, 464), (832, 480), (480, 832), (624, 640), (720, 544)],
    (1280, 720): [(1296, 704), (1280, 720), (720, 1280), (960, 960), (1104, 832)],
}


@pytest.mark.parametrize("resolution", list(TABLE_1_5))
def test_bucket_choice_matches_the_table_in_1_5(resolution):
    selector = BucketSelector(resolution)
    assert [selector.get_bucket_resolution(s) for s in SOURCES] == TABLE_1_5[resolution]


def test_no_upscale_examples_of_1_5():
    # §1.5: with [768,768] and bucket_no_upscale=true
    selector = BucketSelector((768, 768), enable_bucket=True, no_upscale=True)
    assert selector.get_bucket_resolution((800, 600)) == (800, 592)
    assert selector.get_bucket_resolution((640, 360)) == (640, 352)
    assert selector.get_bucket_resolution((700, 700)) == (688, 688)
    assert selector.get_bucket_resolution((1024, 1024)) == (768, 768)


def test_bucket_list_is_area_bounded_multiples_of_16_and_symmetric():
    budget = 768 * 416
    buckets = musubi_buckets((768, 416))
    assert buckets == sorted(set(buckets))
    assert all(w % 16 == 0 and h % 16 == 0 and w * h <= budget for w, h in buckets)
    assert all((h, w) in buckets for w, h in buckets)
    assert (768, 416) in buckets
    # widths run from divisible_by(int(sqrt(area)) // 2, 16) up past sqrt(area) (§1.5)
    s = int(math.sqrt(budget))
    assert min(min(b) for b in buckets) == divisible_by(s // 2, 16)


def test_buckets_off_gives_exactly_the_resolution_unrounded():
    selector = BucketSelector((500, 300), enable_bucket=False, no_upscale=True)
    assert selector.bucket_resolutions == [(500, 300)]
    assert selector.no_upscale is False  # forced off with buckets off (§1.2)
    assert selector.get_bucket_resolution((1920, 1040)) == (500, 300)


def test_videos_are_cached_bucketed_whatever_the_config_says():
    # §1.5 asymmetry: enable_bucket=false, resolution [512,512] caches 1920x1040 at 704x368
    # but batches it under 512x512.
    assert musubi_cache_bucket((1920, 1040), (512, 512)) == (704, 368)
    assert BucketSelector((512, 512), enable_bucket=False).get_bucket_resolution(
        (704, 368)) == (512, 512)


def test_cover_size_rounds_to_the_nearest_pixel_then_crops():
    # scale = max(768/1920, 416/1080) = 0.4 → 768 x 432, then a center crop to 768 x 416
    assert cover_size((1920, 1080), (768, 416)) == (768, 432)
    assert cover_size((768, 416), (768, 416)) == (768, 416)


def test_dp_ar_buckets_and_sizes():
    ars = dp_ar_buckets(ar_buckets=[[768, 416], [416, 768], 1.0])
    assert ars == [0.542, 1.0, 1.846]  # 416/768 and 768/416 rounded to 3 decimals
    assert dp_nearest_ar((1920, 1040), ars) == 1.846
    assert dp_nearest_ar((1080, 1920), ars) == 0.542
    # side = sqrt(768*416) = 565.233 (3 decimals); w = sqrt(side² * 1.846) = 767.96 → 768,
    # h = side² / w = 416.02 → 416
    assert dp_bucket_size(1.846, [768, 416]) == (768, 416)
    assert dp_bucket_size(1.0, [768, 768]) == (768, 768)
    # Python's round sends halves to even: 424/16 = 26.5 → 26 → 416, not 432
    assert dp_bucket_size(1.0, 424) == (416, 416)
    assert dp_ar_buckets(enable_ar_bucket=False) == [1.0]
    geo = dp_ar_buckets(min_ar=0.5, max_ar=2.0, num_ar_buckets=7)
    assert len(geo) == 7 and geo[0] == 0.5 and geo[-1] == 2.0 and geo[3] == 1.0


def test_resolution_helper_lists_sizes_that_keep_1920x1040():
    options = resolution_options((1920, 1040), 768 * 416, sources=[(1920, 1040), (1920, 1080)])
    exact = [(o.width, o.height) for o in options if o.aspect_error == 0]
    assert exact == [(768, 416), (384, 208)]  # 24:13 at 16-pixel steps
    first = options[0]
    assert (first.width, first.height) == (768, 416)
    assert dict(first.buckets) == {(1920, 1040): (768, 416), (1920, 1080): (768, 416)}
    assert all(o.width % 16 == 0 and o.height % 16 == 0 and o.pixels <= 768 * 416
               for o in options)
    assert all(o.aspect_error <= 0.01 for o in options)
    # each listed bucket is the one musubi picks for that source at that resolution
    for o in options:
        for src, bucket in o.buckets:
            assert bucket == BucketSelector((o.width, o.height)).get_bucket_resolution(src)


def test_resolution_helper_portrait_and_bad_input():
    options = resolution_options(9 / 16, 480 * 832, tolerance=0.02)
    assert options and all(o.height > o.width for o in options)
    with pytest.raises(ValueError):
        resolution_options(0, 1000)
