"""Tests for tfstyle.samples: every sample loads offline, deterministically, and the styles carry real texture."""

import socket
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image, ImageFilter

from tfstyle import samples
from tfstyle.errors import ImageError
from tfstyle.io import load_image

PHOTOS = ["astronaut", "camera", "chelsea", "coffee", "rocket"]
STYLES = ["ink", "mosaic", "waves"]


def _high_pass(gray):
    """Detail left after removing a 2-pixel Gaussian blur."""
    pixels = np.round(gray * 255).astype(np.uint8)
    blurred = np.asarray(Image.fromarray(pixels).filter(ImageFilter.GaussianBlur(2)))
    return pixels.astype(np.float32) - blurred


def test_available_lists_photos_and_styles():
    names = samples.available()
    assert list(names) == sorted(PHOTOS + STYLES)
    for name, description in names.items():
        kind = "style:" if name in STYLES else "photo:"
        assert description.startswith(kind) and "\n" not in description


@pytest.mark.parametrize("name", PHOTOS + STYLES)
def test_every_sample_loads(name):
    image = samples.load(name)
    assert image.ndim == 3 and image.shape[2] == 3 and min(image.shape[:2]) >= 256
    assert image.dtype == np.float32
    assert 0.0 <= image.min() and image.max() <= 1.0
    assert image.flags.writeable


def test_loads_are_independent_copies():
    first = samples.load("mosaic")
    first[:] = 0
    assert samples.load("mosaic").max() > 0


def test_unknown_name():
    with pytest.raises(ImageError) as info:
        samples.load("foo")
    expected = "unknown sample 'foo'; available: astronaut, camera, chelsea, coffee, ink, mosaic, rocket, waves"
    assert str(info.value) == expected


def test_load_image_understands_sample_names():
    np.testing.assert_array_equal(load_image("sample:waves"), samples.load("waves"))
    with pytest.raises(ImageError, match=r"^unknown sample 'nope'; available: "):
        load_image("sample:nope")


@pytest.mark.parametrize("name", STYLES)
def test_styles_are_deterministic_fast_and_textured(name):
    start = time.perf_counter()
    image = samples._generate(name)  # uncached: really paints
    elapsed = time.perf_counter() - start
    assert elapsed < 3.0  # about 0.5 s on one core; generous for slow CI machines
    np.testing.assert_array_equal(image, samples._generate(name))
    assert image.shape == (512, 512, 3)

    gray = image.mean(axis=2)
    assert gray.std() > 0.12  # strong contrast at large scale
    assert _high_pass(gray).std() > 8.0  # and fine detail (on a 0-255 scale)
    # coarse structure too: block means over 64-pixel tiles vary
    assert gray.reshape(8, 64, 8, 64).mean(axis=(1, 3)).std() > 0.04


def test_style_colours():
    saturation = {name: np.ptp(samples.load(name), axis=2).mean() for name in STYLES}
    assert saturation["ink"] < 0.12  # ink wash is grey on tinted paper
    assert saturation["mosaic"] > 0.2 and saturation["waves"] > 0.2


def test_photos_need_no_network(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("samples must not touch the network")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    for name in PHOTOS:
        assert samples._generate(name).ndim == 3


def test_samples_module_imports_light():
    code = (
        "import sys, tfstyle.samples; heavy = {'tensorflow', 'keras', 'skimage'} & set(sys.modules); "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
