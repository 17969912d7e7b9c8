"""Scale and colour jitter of training crops: golden behaviour of each change, validation, and the data pipeline."""

import colorsys

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from tfstyle.augment import Jitter, recolour, zoomed_crop
from tfstyle.data import image_dataset, two_folder_dataset
from tfstyle.errors import OptionError


def _seed(value):
    return tf.constant([value, 7], tf.int64)


def _ramp(height, width):
    """An image whose value is its column index: zooming shows up as the slope between neighbouring columns."""
    columns = np.broadcast_to(np.arange(width, dtype=np.float32), (height, width))
    return np.repeat(columns[..., None], 3, axis=-1)


@pytest.mark.parametrize("zoom", [0.5, 2.0])
def test_zoomed_crop_changes_the_scale_by_the_zoom(zoom):
    crop = zoomed_crop(_ramp(80, 90), 16, (zoom, zoom), _seed(1)).numpy()
    assert crop.shape == (16, 16, 3)
    slopes = np.diff(crop[:, :, 0], axis=1)[:, 2:-2]  # away from the borders, where the resize clamps
    np.testing.assert_allclose(slopes, 1.0 / zoom, atol=1e-4)
    np.testing.assert_array_equal(crop[:, :, 0], crop[:, :, 1])


def test_zoom_range_is_drawn_per_seed_and_limited_by_the_short_side():
    slopes = {round(float(np.diff(zoomed_crop(_ramp(64, 64), 16, (0.5, 2.0), _seed(s)).numpy()[8, 4:12, 0]).mean()),
                    3) for s in range(12)}
    assert len(slopes) > 6 and min(slopes) >= 0.5 - 1e-3 and max(slopes) <= 2.0 + 1e-3
    # zooming out to 0.1 would need a 160 px square: it takes the whole 20 px short side instead
    crop = zoomed_crop(_ramp(20, 30), 16, (0.1, 0.1), _seed(3)).numpy()
    assert crop.shape == (16, 16, 3)
    assert abs(np.diff(crop[:, 2:-2, 0], axis=1).mean() - 20 / 16) < 0.01  # all 20 px into 16 (antialiased)


def test_zoom_of_one_is_a_plain_crop():
    image = np.random.default_rng(0).uniform(0, 255, (30, 40, 3)).astype(np.float32)
    crop = zoomed_crop(image, 12, (1.0, 1.0), _seed(5)).numpy()
    windows = np.lib.stride_tricks.sliding_window_view(image, (12, 12, 3))[..., :, :, :].reshape(-1, 12, 12, 3)
    assert np.min(np.abs(windows - crop).max(axis=(1, 2, 3))) < 1e-3


def test_brightness_scales_by_a_factor_in_range():
    image = np.full((4, 4, 3), 0.5, np.float32) * np.array([0.4, 0.8, 1.2], np.float32)
    factors = set()
    for s in range(20):
        out = recolour(image, Jitter(brightness=0.3), _seed(s)).numpy()
        ratio = out / image
        np.testing.assert_allclose(ratio, ratio[0, 0, 0], rtol=1e-5)  # one factor for the whole crop
        factors.add(round(float(ratio[0, 0, 0]), 6))
    assert len(factors) == 20 and 0.7 <= min(factors) and max(factors) <= 1.3


def test_contrast_keeps_the_mean_and_saturation_and_hue_leave_grey_alone():
    rng = np.random.default_rng(1)
    image = rng.uniform(0.3, 0.7, (8, 8, 3)).astype(np.float32)
    out = recolour(image, Jitter(contrast=0.2), _seed(2)).numpy()
    np.testing.assert_allclose(out.mean(axis=(0, 1)), image.mean(axis=(0, 1)), atol=1e-5)
    assert not np.allclose(out, image)
    grey = np.repeat(rng.uniform(0, 1, (8, 8, 1)), 3, axis=-1).astype(np.float32)
    np.testing.assert_allclose(recolour(grey, Jitter(saturation=0.9, hue=0.5), _seed(3)).numpy(), grey, atol=1e-5)


def test_hue_turns_every_colour_by_the_same_amount_within_range():
    colours = np.array([[[0.8, 0.2, 0.2], [0.2, 0.6, 0.3], [0.3, 0.3, 0.9]]], np.float32)
    turns = []
    for s in range(10):
        out = recolour(colours, Jitter(hue=0.2), _seed(s)).numpy()
        before = [colorsys.rgb_to_hsv(*pixel)[0] for pixel in colours[0]]
        after = [colorsys.rgb_to_hsv(*pixel)[0] for pixel in out[0]]
        delta = [(a - b + 0.5) % 1.0 - 0.5 for a, b in zip(after, before)]
        np.testing.assert_allclose(delta, delta[0], atol=2e-3)
        turns.append(delta[0])
    assert max(np.abs(turns)) <= 0.2 + 2e-3 and len({round(t, 3) for t in turns}) == 10


def test_recolour_stays_in_range():
    image = np.random.default_rng(2).uniform(0, 1, (16, 16, 3)).astype(np.float32)
    jitter = Jitter(brightness=1.0, contrast=1.0, saturation=1.0, hue=0.5)
    for s in range(5):
        out = recolour(image, jitter, _seed(s)).numpy()
        assert out.min() >= 0.0 and out.max() <= 1.0


def test_jitter_validation_and_round_trip():
    assert not Jitter() and Jitter(hue=0.1) and Jitter(scale=(0.5, 1.0))
    assert Jitter(scale=(0.5, 1.0)).zooms and not Jitter(scale=(0.5, 1.0)).recolours
    jitter = Jitter(scale=[0.5, 2], brightness=0.2, contrast=0.1, saturation=0.3, hue=0.05)
    assert jitter.scale == (0.5, 2.0)
    assert Jitter.from_dict(jitter.as_dict()) == jitter
    with pytest.raises(OptionError, match=r"jitter scale must be a pair \(low, high\) of positive numbers with "
                                          r"low <= high; Received: scale=\(2.0, 1.0\)"):
        Jitter(scale=(2.0, 1.0))
    for scale in ((0, 1), (1,), "1 2", (1, float("inf")), (True, 2)):
        with pytest.raises(OptionError, match="jitter scale must be"):
            Jitter(scale=scale)
    with pytest.raises(OptionError, match=r"jitter hue must be a number from 0 to 0.5; Received: hue=0.6"):
        Jitter(hue=0.6)
    for name in ("brightness", "contrast", "saturation"):
        for value in (-0.1, 1.5, float("nan"), "0.2", None):
            with pytest.raises(OptionError, match=f"jitter {name} must be a number from 0 to 1.0"):
                Jitter(**{name: value})


def _folder(tmp_path, count=3):
    rng = np.random.default_rng(0)
    for index in range(count):
        Image.fromarray(rng.uniform(0, 255, (40, 50, 3)).astype(np.uint8)).save(tmp_path / f"{index}.png")
    return tmp_path


def test_dataset_jitter_is_seeded_and_off_by_default(tmp_path):
    folder = _folder(tmp_path)
    jitter = Jitter(scale=(0.6, 1.5), brightness=0.2, contrast=0.2, saturation=0.2, hue=0.1)

    def batches(**options):
        return [b.numpy() for b in image_dataset(folder, 16, 32, 4, seed=3, **options).take(3)]

    plain, no_jitter = batches(), batches(jitter=Jitter())
    for x, y in zip(plain, no_jitter):
        np.testing.assert_array_equal(x, y)  # a Jitter that changes nothing leaves the stream as it was
    jittered, again = batches(jitter=jitter), batches(jitter=jitter)
    for x, y in zip(jittered, again):
        np.testing.assert_array_equal(x, y)
    assert all(b.shape == (4, 16, 16, 3) and b.dtype == np.float32 and 0 <= b.min() and b.max() <= 1
               for b in jittered)
    assert not any(np.allclose(x, y) for x, y in zip(plain, jittered))
    pairs = next(iter(two_folder_dataset(folder, folder, 16, 32, 2, jitter=jitter, seed=1)))
    assert pairs["a"].shape == pairs["b"].shape == (2, 16, 16, 3)


def test_dataset_refuses_a_jitter_that_is_not_one(tmp_path):
    with pytest.raises(OptionError, match=r"jitter must be a tfstyle.augment.Jitter or None; Received: "
                                          r"jitter=\{'hue': 0.1\}"):
        image_dataset(_folder(tmp_path), 16, jitter={"hue": 0.1})
