"""Tests for tfstyle.data: folders of awkward images stream as crops of the right shape; broken files are skipped."""

import struct
import zlib

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from tfstyle import data
from tfstyle.data import SkipCounter, evaluation_dataset, image_dataset, list_images, two_folder_dataset
from tfstyle.errors import OptionError

# --- helpers ---


def _png_chunk(kind, payload):
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def _rgb16_png(pixels):
    """A 16-bit RGB PNG built by hand (Pillow cannot write one); `pixels` is H x W x 3 big-endian uint16."""
    height, width = pixels.shape[:2]
    rows = b"".join(b"\x00" + row.tobytes() for row in pixels)  # filter type 0 on every row
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0))
            + _png_chunk(b"IDAT", zlib.compress(rows)) + _png_chunk(b"IEND", b""))


def _solid(path, colour, size=(24, 36)):
    """Saves a height x width image of one colour."""
    Image.fromarray(np.full((*size, 3), colour, np.uint8)).save(path)
    return path


def _noise(height, width, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def _awkward_folder(folder):
    """Six usable images in awkward formats and three broken files; returns ({name: path}, [broken paths])."""
    folder.mkdir(exist_ok=True)
    good = {}
    good["rgb"] = _solid(folder / "rgb.png", (0, 255, 0))
    Image.fromarray(_noise(30, 40)).save(folder / "photo.JPG", quality=90)  # upper-case extension
    good["photo"] = folder / "photo.JPG"
    Image.new("CMYK", (40, 30), (0, 255, 255, 0)).save(folder / "cmyk.jpg")  # red in CMYK
    good["cmyk"] = folder / "cmyk.jpg"
    (folder / "deep.png").write_bytes(_rgb16_png(np.full((30, 40, 3), [65535, 0, 32768], ">u2")))
    good["deep"] = folder / "deep.png"
    palette = Image.new("P", (40, 30), 0)
    palette.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    palette.paste(1, (0, 0, 20, 30))  # left half blue, right half transparent red
    palette.save(folder / "palette.png", transparency=0)
    good["palette"] = folder / "palette.png"
    good["rotated"] = _rotated_jpeg(folder / "rotated.jpeg")

    Image.fromarray(_noise(64, 64, seed=1)).save(folder / "full.jpg")
    encoded = (folder / "full.jpg").read_bytes()
    (folder / "full.jpg").unlink()
    broken = [folder / "truncated.jpg", folder / "zero.png", folder / "notes.jpg"]
    broken[0].write_bytes(encoded[: len(encoded) // 2])
    broken[1].write_bytes(b"")
    broken[2].write_text("these are not pixels\n")
    return good, broken


def _rotated_jpeg(path):
    """A JPEG stored 40 rows x 80 columns with a white mark top-left, EXIF-tagged to display rotated 90° clockwise.

    Displayed upright it is 80 rows x 40 columns with the mark in the top-right corner.
    """
    stored = np.zeros((40, 80, 3), np.uint8)
    stored[:16, :16] = 255
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(stored).save(path, exif=exif, quality=95)
    return path


def _by_path(dataset):
    return {path.numpy().decode(): image.numpy() for image, path in dataset}


def _take(dataset, count):
    return [element.numpy() if hasattr(element, "numpy") else {k: v.numpy() for k, v in element.items()}
            for element in dataset.take(count)]


def _option_error(call, *args, **kwargs):
    with pytest.raises(OptionError) as info:
        call(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


# --- listing ---


def test_list_images_filters_sorts_and_recurses(tmp_path):
    for name in ["b.jpg", "A.PNG", "c.webp", "d.Tiff", "sub/e.jpeg", "sub/deeper/f.gif", "g.bmp"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    for name in ["notes.txt", "._b.jpg", ".hidden/h.png", "noext"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    names = [p.relative_to(tmp_path).as_posix() for p in list_images(tmp_path)]
    assert names == ["A.PNG", "b.jpg", "c.webp", "d.Tiff", "g.bmp", "sub/deeper/f.gif", "sub/e.jpeg"]
    top_only = [p.name for p in list_images(str(tmp_path), recursive=False)]
    assert top_only == ["A.PNG", "b.jpg", "c.webp", "d.Tiff", "g.bmp"]


def test_missing_and_empty_folders(tmp_path):
    extensions = ".bmp, .gif, .jpeg, .jpg, .png, .tif, .tiff, .webp"
    missing = tmp_path / "nope"
    assert _option_error(list_images, missing) == f"image folder not found: {missing}"
    (tmp_path / "file.jpg").write_bytes(b"x")
    assert _option_error(list_images, tmp_path / "file.jpg") == f"not a folder: {tmp_path / 'file.jpg'}"
    empty = tmp_path / "empty"
    (empty / "sub").mkdir(parents=True)
    (empty / "readme.txt").write_text("no images here")
    everywhere = f"no image files ({extensions}) found in folder or its subfolders: {empty}"
    assert _option_error(list_images, empty) == everywhere
    top_only = f"no image files ({extensions}) found in folder: {empty}"
    assert _option_error(list_images, empty, recursive=False) == top_only
    # the dataset builders report the same line
    assert _option_error(image_dataset, missing, 16) == f"image folder not found: {missing}"
    (tmp_path / "good").mkdir()
    _solid(tmp_path / "good" / "x.png", (0, 0, 0))
    assert _option_error(two_folder_dataset, tmp_path / "good", empty, 16) == everywhere


def test_folder_of_only_broken_files(tmp_path):
    (tmp_path / "a.jpg").write_text("not an image")
    (tmp_path / "b.png").write_bytes(b"")
    assert _option_error(image_dataset, tmp_path, 16) == (
        f"none of the 2 image files in {tmp_path} can be used; first: "
        f"not an image (Pillow cannot identify it): {tmp_path / 'a.jpg'}")


# --- decoding awkward and broken files ---


def test_awkward_formats_load_and_broken_files_are_skipped_and_counted(tmp_path):
    good, broken = _awkward_folder(tmp_path)
    dataset = evaluation_dataset(tmp_path, with_paths=True)
    counter = dataset.skip_counter
    # empty and non-image files are found when the dataset is built, before any decoding
    assert sorted(counter.paths) == sorted(str(p) for p in broken[1:])

    images = _by_path(dataset)
    assert sorted(images) == sorted(str(p) for p in good.values())
    assert counter.count == len(counter) == 3
    assert counter.reasons == {
        str(broken[0]): f"truncated or corrupt image: {broken[0]}",
        str(broken[1]): f"empty file: {broken[1]}",
        str(broken[2]): f"not an image (Pillow cannot identify it): {broken[2]}",
    }
    assert counter.summary().startswith("3 image files skipped: ")
    for image in images.values():
        assert image.dtype == np.float32 and image.ndim == 3 and image.shape[2] == 3
        assert 0.0 <= image.min() and image.max() <= 1.0

    def mean(name):
        return images[str(good[name])].mean(axis=(0, 1))

    np.testing.assert_allclose(mean("rgb"), [0, 1, 0])
    np.testing.assert_allclose(mean("cmyk"), [1, 0, 0], atol=0.03)
    np.testing.assert_allclose(mean("deep"), [1, 0, 0.5], atol=1 / 255)
    palette = images[str(good["palette"])]
    np.testing.assert_allclose(palette[:, :20].mean(axis=(0, 1)), [0, 0, 1])  # blue
    np.testing.assert_allclose(palette[:, 20:].mean(axis=(0, 1)), [1, 1, 1])  # transparent -> white
    assert images[str(good["photo"])].shape == (30, 40, 3)


def test_exif_rotation_is_applied(tmp_path):
    _rotated_jpeg(tmp_path / "rotated.jpg")
    (image,) = list(evaluation_dataset(tmp_path))
    image = image.numpy()
    assert image.shape == (80, 40, 3)  # upright: taller than wide
    assert image[2:14, -14:-2].mean() > 0.9  # the mark is top-right
    assert image[2:14, 2:14].mean() < 0.1
    # the orientation decides which side is short: the upright image is resized by its width
    (small,) = list(evaluation_dataset(tmp_path, resize_to=20))
    assert small.shape == (40, 20, 3)
    assert small.numpy()[1:6, -6:-1].mean() > 0.9


def test_broken_file_is_counted_once_over_many_epochs(tmp_path):
    _, broken = _awkward_folder(tmp_path)
    dataset = image_dataset(tmp_path, crop_size=16, batch_size=2, seed=0)
    batches = _take(dataset, 12)  # 24 crops from 6 usable images: every file is decoded several times
    assert len(batches) == 12
    assert sorted(dataset.skip_counter.paths) == sorted(str(p) for p in broken)


def test_skip_counter_keeps_the_first_reason_and_can_be_passed_in(tmp_path):
    counter = SkipCounter()
    assert counter.add("x.jpg", "bad: x.jpg") is True
    assert counter.add("x.jpg", "other reason") is False
    assert counter.reasons == {"x.jpg": "bad: x.jpg"}
    assert counter.summary() == "1 image file skipped: bad: x.jpg"
    assert SkipCounter().summary() == "no image files skipped"
    _solid(tmp_path / "ok.png", (1, 2, 3))
    (tmp_path / "bad.jpg").write_bytes(b"")
    dataset = image_dataset(tmp_path, 8, skip_counter=counter)
    assert dataset.skip_counter is counter
    assert counter.paths == ["x.jpg", str(tmp_path / "bad.jpg")]


# --- resizing, cropping, flipping ---


def test_training_crops_have_static_shape_type_and_range(tmp_path):
    for index in range(3):
        Image.fromarray(_noise(60, 90, seed=index)).save(tmp_path / f"{index}.png")
    dataset = image_dataset(tmp_path, crop_size=32, resize_to=40, batch_size=4)
    assert dataset.element_spec == tf.TensorSpec((4, 32, 32, 3), tf.float32)
    for batch in _take(dataset, 3):
        assert batch.shape == (4, 32, 32, 3) and batch.dtype == np.float32
        assert 0.0 <= batch.min() and batch.max() <= 1.0
    unbatched = image_dataset(tmp_path, crop_size=32, resize_to=40)
    assert unbatched.element_spec == tf.TensorSpec((32, 32, 3), tf.float32)


def test_short_side_is_resized_exactly_up_and_down(tmp_path):
    _solid(tmp_path / "wide.png", (9, 9, 9), size=(60, 90))
    _solid(tmp_path / "tall.png", (9, 9, 9), size=(91, 61))
    shapes = {p.rsplit("/", 1)[1]: v.shape for p, v in _by_path(evaluation_dataset(tmp_path, resize_to=40,
                                                                                     with_paths=True)).items()}
    assert shapes == {"wide.png": (40, 60, 3), "tall.png": (60, 40, 3)}
    shapes = [tuple(image.shape) for image in evaluation_dataset(tmp_path, resize_to=120)]
    assert sorted(shapes) == [(120, 180, 3), (179, 120, 3)]


def test_tiny_images_are_upsampled_so_a_crop_fits(tmp_path):
    _solid(tmp_path / "tiny.png", (200, 100, 50), size=(8, 12))
    (image,) = list(evaluation_dataset(tmp_path, crop_size=32))
    assert image.shape == (32, 32, 3)
    (whole,) = list(evaluation_dataset(tmp_path))
    assert whole.shape == (8, 12, 3)  # without a crop nothing needs enlarging
    crops = _take(image_dataset(tmp_path, crop_size=32), 3)
    assert all(crop.shape == (32, 32, 3) for crop in crops)
    np.testing.assert_allclose(crops[0].mean(axis=(0, 1)), np.array([200, 100, 50]) / 255, atol=1e-5)


def test_flip_option(tmp_path):
    pixels = np.zeros((16, 16, 3), np.uint8)
    pixels[:, 8:] = 255  # white on the right
    Image.fromarray(pixels).save(tmp_path / "half.png")
    def right_is_white(crop):
        return crop[:, 8:].mean() > crop[:, :8].mean()
    assert all(right_is_white(c) for c in _take(image_dataset(tmp_path, 16, flip=False, seed=0), 20))
    flips = [right_is_white(c) for c in _take(image_dataset(tmp_path, 16, flip=True, seed=0), 20)]
    assert 0 < sum(flips) < 20


def test_one_epoch_visits_every_image_once(tmp_path):
    for value in range(5):
        _solid(tmp_path / f"{value}.png", (value * 40,) * 3)
    for cache in (False, True):
        dataset = image_dataset(tmp_path, 8, repeat=False, seed=3, cache=cache)
        values = sorted(round(float(crop.mean()) * 255) for crop in _take(dataset, 100))
        assert values == [0, 40, 80, 120, 160]


# --- two folders ---


def test_two_folder_dataset_yields_named_static_batches(tmp_path):
    (tmp_path / "content").mkdir()
    (tmp_path / "style").mkdir()
    for index in range(3):
        _solid(tmp_path / "content" / f"{index}.png", (0, 0, 0))
    _solid(tmp_path / "style" / "only.jpg", (255, 255, 255), size=(50, 30))
    dataset = two_folder_dataset(tmp_path / "content", tmp_path / "style", crop_size=16, resize_to=20,
                                 batch_size=4, keys=("content", "style"), cache=(False, True))
    spec = tf.TensorSpec((4, 16, 16, 3), tf.float32)
    assert dataset.element_spec == {"content": spec, "style": spec}
    for batch in _take(dataset, 3):
        assert set(batch) == {"content", "style"}
        assert batch["content"].max() == 0.0
        assert batch["style"].min() > 0.95  # JPEG white, resized
    default_keys = two_folder_dataset(tmp_path / "content", tmp_path / "style", 16, batch_size=2)
    assert set(default_keys.element_spec) == {"a", "b"}


def test_two_folder_dataset_works_with_a_distribution_strategy(tmp_path):
    _solid(tmp_path / "x.png", (10, 20, 30))
    strategy = tf.distribute.get_strategy()  # the default strategy: enough to check static batch shapes pass
    distributed = strategy.experimental_distribute_dataset(two_folder_dataset(tmp_path, tmp_path, 8, batch_size=2))
    batch = next(iter(distributed))
    assert batch["a"].shape == (2, 8, 8, 3) and batch["b"].shape == (2, 8, 8, 3)


def test_without_repeat_the_zip_ends_with_the_shorter_folder(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for index in range(5):
        _solid(tmp_path / "a" / f"{index}.png", (index, 0, 0))
    for index in range(2):
        _solid(tmp_path / "b" / f"{index}.png", (index, 0, 0))
    dataset = two_folder_dataset(tmp_path / "a", tmp_path / "b", 8, repeat=False)
    assert len(_take(dataset, 100)) == 2


# --- determinism, caching ---


def test_a_seed_makes_the_stream_reproducible(tmp_path):
    for index in range(4):
        Image.fromarray(_noise(20, 30, seed=index)).save(tmp_path / f"{index}.png")
    def run(seed):
        # stream "a" decodes every epoch, stream "b" is cached: both paths must be reproducible
        dataset = two_folder_dataset(tmp_path, tmp_path, crop_size=12, batch_size=3, seed=seed, cache=(False, True))
        return _take(dataset, 4)
    first, again, other = run(5), run(5), run(6)
    for x, y in zip(first, again):
        np.testing.assert_array_equal(x["a"], y["a"])
        np.testing.assert_array_equal(x["b"], y["b"])
    assert any(not np.array_equal(x["a"], y["a"]) for x, y in zip(first, other))
    assert not np.array_equal(first[0]["a"], first[0]["b"])  # the two streams are independent


def test_cache_decodes_each_file_once(tmp_path, monkeypatch):
    for index in range(3):
        _solid(tmp_path / f"{index}.png", (index, 0, 0))
    calls = []
    real_load_image = data.load_image
    def counting_load_image(path, **kwargs):
        calls.append(path)
        return real_load_image(path, **kwargs)
    monkeypatch.setattr(data, "load_image", counting_load_image)

    _take(image_dataset(tmp_path, 8, cache=True, seed=0), 30)
    assert sorted(calls) == sorted(str(tmp_path / f"{index}.png") for index in range(3))
    calls.clear()
    _take(image_dataset(tmp_path, 8, cache=False, seed=0), 30)
    assert len(calls) >= 30


def test_large_images_are_shrunk_while_decoding(tmp_path, monkeypatch):
    _solid(tmp_path / "big.jpg", (0, 0, 255), size=(300, 450))
    calls = []
    real_load_image = data.load_image
    def recording_load_image(path, **kwargs):
        calls.append(kwargs["max_size"])
        return real_load_image(path, **kwargs)
    monkeypatch.setattr(data, "load_image", recording_load_image)
    (image,) = list(evaluation_dataset(tmp_path, resize_to=40))
    assert image.shape == (40, 60, 3)
    assert calls == [60]


# --- options ---


def test_bad_options(tmp_path):
    _solid(tmp_path / "x.png", (0, 0, 0))
    assert _option_error(image_dataset, tmp_path, 0) == "crop_size must be a positive integer, got 0"
    assert _option_error(image_dataset, tmp_path, 32, resize_to=16) == (
        "resize_to must be at least crop_size so that a crop fits, got resize_to=16, crop_size=32")
    assert _option_error(image_dataset, tmp_path, 8, batch_size=2.0) == "batch_size must be a positive integer, got 2.0"
    assert _option_error(image_dataset, tmp_path, 8, seed=-1) == "seed must be a non-negative integer or None, got -1"
    assert _option_error(image_dataset, tmp_path, 8, cache="yes") == "cache must be True or False, got 'yes'"
    assert _option_error(two_folder_dataset, tmp_path, tmp_path, 8, keys=("a", "a")) == (
        "keys must be two different non-empty strings, got ('a', 'a')")
    assert _option_error(two_folder_dataset, tmp_path, tmp_path, 8, cache=(True,)) == (
        "cache must be a bool or a pair of bools, got (True,)")
    assert _option_error(evaluation_dataset, tmp_path, batch_size=2) == (
        "batch_size needs crop_size (uncropped images differ in shape), got batch_size=2, crop_size=None")
    assert _option_error(image_dataset, 3, 8) == "an image folder must be a path, got 3"


def test_banner_shaped_images_are_skipped(tmp_path):
    _solid(tmp_path / "ok.png", (0, 0, 0))
    _solid(tmp_path / "banner.png", (0, 0, 0), size=(2, 100))
    dataset = evaluation_dataset(tmp_path, crop_size=8)
    assert len(list(dataset)) == 1
    assert dataset.skip_counter.reasons == {
        str(tmp_path / "banner.png"): f"image is 100x2 pixels: its long side is more than 20 times its short side: "
                                      f"{tmp_path / 'banner.png'}"}
