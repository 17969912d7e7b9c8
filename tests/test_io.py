"""Tests for tfstyle.io: every input mode loads, every bad input fails with one exact line, writes are atomic."""

import os
import struct
import warnings
import zlib

import numpy as np
import pytest
from PIL import Image

from tfstyle import io
from tfstyle.errors import ImageError, OptionError
from tfstyle.io import DEFAULT_MAX_PIXELS, load_image, resize_image, save_image


def _png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_bytes(width, height, bit_depth=8, colour_type=2, pixels=None):
    """A PNG built by hand: lets us write 16-bit RGB (Pillow cannot) and headers that lie about the size."""
    data = b"\x89PNG\r\n\x1a\n"
    data += _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0))
    if pixels is not None:
        rows = b"".join(b"\x00" + row.tobytes() for row in pixels)  # filter type 0 per row
        data += _png_chunk(b"IDAT", zlib.compress(rows))
    return data + _png_chunk(b"IEND", b"")


def _gradient(height=24, width=32):
    """A uint8 RGB image where every pixel differs, so placement errors show."""
    yy, xx = np.mgrid[0:height, 0:width]
    return np.stack([xx * 255 // (width - 1), yy * 255 // (height - 1), (xx + yy) % 256], axis=2).astype(np.uint8)


def _error(call, *args, **kwargs):
    """Runs a call that must raise ImageError and returns its one-line message."""
    with pytest.raises(ImageError) as info:
        call(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


def _check_image(image, shape):
    assert image.shape == shape
    assert image.dtype == np.float32
    assert image.flags.writeable
    assert 0.0 <= image.min() and image.max() <= 1.0


# --- modes ---


def test_rgb_png_loads_exactly(tmp_path):
    pixels = _gradient()
    Image.fromarray(pixels).save(tmp_path / "a.png")
    image = load_image(tmp_path / "a.png")
    _check_image(image, (24, 32, 3))
    np.testing.assert_array_equal(image, pixels / np.float32(255))


def test_str_path_works(tmp_path):
    Image.fromarray(_gradient()).save(tmp_path / "a.png")
    assert load_image(str(tmp_path / "a.png")).shape == (24, 32, 3)


def test_mode_1(tmp_path):
    bits = np.zeros((8, 10), bool)
    bits[:, 5:] = True
    Image.fromarray(bits).save(tmp_path / "bits.png")
    assert Image.open(tmp_path / "bits.png").mode == "1"
    image = load_image(tmp_path / "bits.png")
    _check_image(image, (8, 10, 3))
    assert (image[:, :5] == 0).all() and (image[:, 5:] == 1).all()


def test_mode_l(tmp_path):
    gray = _gradient()[..., 0]
    Image.fromarray(gray).save(tmp_path / "gray.png")
    image = load_image(tmp_path / "gray.png")
    _check_image(image, (24, 32, 3))
    np.testing.assert_array_equal(image, np.repeat(gray[..., None], 3, axis=2) / np.float32(255))


def test_mode_la_composites_over_white(tmp_path):
    pixels = np.zeros((4, 4, 2), np.uint8)
    pixels[..., 0] = 40
    pixels[:2, :, 1] = 255  # top half opaque, bottom half transparent
    Image.frombytes("LA", (4, 4), pixels.tobytes()).save(tmp_path / "la.png")
    image = load_image(tmp_path / "la.png")
    _check_image(image, (4, 4, 3))
    np.testing.assert_allclose(image[:2], 40 / 255, atol=1e-6)
    np.testing.assert_allclose(image[2:], 1.0)


def test_mode_p_with_transparency(tmp_path):
    palette_image = Image.new("P", (4, 4), 0)
    palette_image.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    palette_image.putpixel((1, 2), 1)
    palette_image.save(tmp_path / "p.png", transparency=0)  # red is transparent
    image = load_image(tmp_path / "p.png")
    _check_image(image, (4, 4, 3))
    np.testing.assert_allclose(image[2, 1], [0, 0, 1])  # the blue pixel (x=1, y=2)
    np.testing.assert_allclose(image[0, 0], [1, 1, 1])  # transparent -> white


def test_mode_rgba_composites_over_white(tmp_path):
    pixels = np.zeros((2, 2, 4), np.uint8)
    pixels[...] = (255, 0, 0, 255)
    pixels[1, 1] = (255, 0, 0, 51)  # 20 % opaque red
    Image.fromarray(pixels).save(tmp_path / "rgba.png")
    image = load_image(tmp_path / "rgba.png")
    np.testing.assert_allclose(image[0, 0], [1, 0, 0])
    np.testing.assert_allclose(image[1, 1], [1, 0.8, 0.8], atol=1e-6)


def test_cmyk_jpeg(tmp_path):
    Image.new("CMYK", (16, 16), (0, 255, 255, 0)).save(tmp_path / "cmyk.jpg")
    image = load_image(tmp_path / "cmyk.jpg")
    _check_image(image, (16, 16, 3))
    np.testing.assert_allclose(image.mean(axis=(0, 1)), [1, 0, 0], atol=0.03)


def test_ycbcr_pil_image():
    pil = Image.new("YCbCr", (5, 3), (100, 50, 200))
    image = load_image(pil)
    _check_image(image, (3, 5, 3))
    np.testing.assert_allclose(image[0, 0], np.array(pil.convert("RGB").getpixel((0, 0))) / 255, atol=1e-6)


def test_16_bit_grayscale_png_keeps_precision(tmp_path):
    values = (np.arange(20, dtype=np.uint16).reshape(4, 5) * 3001 + 7).astype(np.uint16)  # low bytes matter
    Image.fromarray(values).save(tmp_path / "g16.png")
    assert Image.open(tmp_path / "g16.png").mode == "I;16"
    image = load_image(tmp_path / "g16.png")
    _check_image(image, (4, 5, 3))
    np.testing.assert_allclose(image[..., 1], values / 65535.0, atol=1e-7)


def test_16_bit_big_endian_tiff(tmp_path):
    values = (np.arange(6, dtype=np.uint16).reshape(2, 3) * 10001 + 3).astype(">u2")
    Image.fromarray(values).save(tmp_path / "g16b.tif")
    assert Image.open(tmp_path / "g16b.tif").mode == "I;16B"
    np.testing.assert_allclose(load_image(tmp_path / "g16b.tif")[..., 0], values / 65535.0, atol=1e-7)


def test_32_bit_integer_tiff_is_read_as_16_bit_range(tmp_path):
    values = np.array([[0, 32768, 65535, 70000]], np.int32)
    Image.fromarray(values).save(tmp_path / "i.tif")
    assert Image.open(tmp_path / "i.tif").mode == "I"
    np.testing.assert_allclose(load_image(tmp_path / "i.tif")[0, :, 0], [0, 32768 / 65535, 1, 1], atol=1e-7)


def test_16_bit_rgb_png(tmp_path):
    values = np.random.default_rng(0).integers(0, 65536, (6, 7, 3)).astype(">u2")
    (tmp_path / "rgb16.png").write_bytes(_png_bytes(7, 6, bit_depth=16, colour_type=2, pixels=values))
    image = load_image(tmp_path / "rgb16.png")
    _check_image(image, (6, 7, 3))
    # Pillow reads 16-bit RGB as 8-bit; whatever it gives must be scaled to the same [0, 1] values
    np.testing.assert_allclose(image, values / 65535.0, atol=1 / 255 + 1e-6)


def test_float_tiff_is_clipped(tmp_path):
    values = np.array([[-0.5, 0.25, 0.75, 2.0]], np.float32)
    Image.fromarray(values).save(tmp_path / "f.tif")
    assert Image.open(tmp_path / "f.tif").mode == "F"
    np.testing.assert_allclose(load_image(tmp_path / "f.tif")[0, :, 2], [0, 0.25, 0.75, 1])


def test_animated_gif_gives_first_frame(tmp_path):
    frames = [Image.new("RGB", (8, 6), colour) for colour in [(255, 0, 0), (0, 255, 0), (0, 0, 255)]]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=50, loop=0)
    image = load_image(tmp_path / "anim.gif")
    _check_image(image, (6, 8, 3))
    np.testing.assert_allclose(image.mean(axis=(0, 1)), [1, 0, 0])


def test_exif_orientation_is_applied(tmp_path):
    stored = np.zeros((40, 80, 3), np.uint8)  # 40 rows x 80 columns as stored in the file
    stored[:16, :16] = 255  # a white mark in the stored top-left corner
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    Image.fromarray(stored).save(tmp_path / "rotated.jpg", exif=exif, quality=95)
    image = load_image(tmp_path / "rotated.jpg")
    _check_image(image, (80, 40, 3))  # displayed upright: taller than wide
    assert image[2:14, -14:-2].mean() > 0.9  # the mark ends up top-right
    assert image[2:14, 2:14].mean() < 0.1


# --- other sources ---


class _FakeTensor:
    """Stands in for a tf.Tensor: has .numpy() and converts with np.asarray."""

    def __init__(self, value):
        self._value = value

    def numpy(self):
        return self._value

    def __array__(self, dtype=None, copy=None):
        return self._value if dtype is None else self._value.astype(dtype)


@pytest.mark.parametrize(
    ("array", "expected"),
    [
        (np.full((2, 3), 51, np.uint8), 0.2),
        (np.full((2, 3, 1), 13107, np.uint16), 0.2),
        (np.full((1, 2, 3, 3), 0.2, np.float64), 0.2),
        (np.full((2, 3, 3), 1.7, np.float32), 1.0),
        (np.full((2, 3, 3), -1.0, np.float16), 0.0),
        (np.ones((2, 3), bool), 1.0),
        (np.concatenate([np.full((2, 3, 3), 0.2), np.ones((2, 3, 1))], axis=2), 0.2),  # opaque alpha
    ],
)
def test_arrays(array, expected):
    image = load_image(array)
    _check_image(image, (2, 3, 3))
    np.testing.assert_allclose(image, expected, atol=1e-6)


def test_array_is_copied():
    array = np.full((2, 2, 3), 0.5, np.float32)
    load_image(array)[:] = 0
    assert (array == 0.5).all()


def test_tensor_like_and_pil_sources():
    values = np.full((1, 4, 5, 3), 0.25, np.float32)
    _check_image(load_image(_FakeTensor(values)), (4, 5, 3))
    _check_image(load_image(Image.new("RGB", (5, 4), (0, 64, 255))), (4, 5, 3))


def test_sample_source():
    image = load_image("sample:chelsea", max_size=100)
    _check_image(image, (67, 100, 3))


def test_bad_arrays():
    shape = _error(load_image, np.zeros((5, 5, 7), np.uint8))
    assert shape == "unsupported array shape (5, 5, 7): expected HxW, HxWx1, HxWx3 or HxWx4"
    batch = _error(load_image, np.zeros((2, 5, 5, 3), np.uint8))
    assert batch == "unsupported array shape (2, 5, 5, 3): expected HxW, HxWx1, HxWx3 or HxWx4"
    dtype = _error(load_image, np.zeros((5, 5, 3), np.int32))
    assert dtype == "unsupported array dtype int32: expected uint8, uint16, bool or float"
    nan = _error(load_image, np.full((5, 5, 3), np.nan, np.float32))
    assert nan == "image array contains NaN or infinite values"
    empty = _error(load_image, np.zeros((0, 5, 3), np.float32))
    assert empty == "image has zero size: array of shape (0, 5, 3)"
    source = _error(load_image, 42)
    assert source == "cannot load an image from a int: expected a path, 'sample:NAME', a PIL image or an array"


# --- broken files ---


def test_missing_file(tmp_path):
    path = tmp_path / "nope.jpg"
    assert _error(load_image, path) == f"image not found: {path}"


def test_directory(tmp_path):
    assert _error(load_image, tmp_path) == f"not a file: {tmp_path}"


def test_empty_file(tmp_path):
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    assert _error(load_image, path) == f"empty file: {path}"


def test_text_file_named_jpg(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("these are not pixels\n")
    assert _error(load_image, path) == f"not an image (Pillow cannot identify it): {path}"


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_truncated(tmp_path, suffix):
    noise = np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)  # noise: no tiny encodings
    Image.fromarray(noise).save(tmp_path / f"full{suffix}")
    data = (tmp_path / f"full{suffix}").read_bytes()
    path = tmp_path / f"cut{suffix}"
    path.write_bytes(data[: len(data) // 2])
    assert _error(load_image, path) == f"truncated or corrupt image: {path}"


def test_header_without_pixels(tmp_path):
    path = tmp_path / "hollow.png"
    path.write_bytes(_png_bytes(20, 20))
    assert _error(load_image, path) == f"truncated or corrupt image: {path}"


def test_zero_size(tmp_path):
    path = tmp_path / "zero.png"
    path.write_bytes(_png_bytes(0, 10))
    assert _error(load_image, path) == f"image has zero size: {path}"
    assert _error(load_image, Image.new("RGB", (0, 3))) == "image has zero size: <PIL image>"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs a non-root POSIX user")
def test_permission_denied(tmp_path):
    path = tmp_path / "secret.png"
    Image.fromarray(_gradient()).save(path)
    path.chmod(0)
    try:
        assert _error(load_image, path) == f"permission denied: {path}"
    finally:
        path.chmod(0o644)


def test_permission_denied_when_running_as_root(tmp_path, monkeypatch):
    # root can read anything, so simulate the OS refusing
    path = tmp_path / "secret.png"
    Image.fromarray(_gradient()).save(path)

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(io.Image, "open", refuse)
    assert _error(load_image, path) == f"permission denied: {path}"
    monkeypatch.setattr(io.tempfile, "mkstemp", refuse)
    assert _error(save_image, tmp_path / "out.png", np.zeros((2, 2))) == f"permission denied: {tmp_path / 'out.png'}"


# --- decompression-bomb guard ---


def test_bomb_header_is_refused_before_decoding(tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(_png_bytes(30000, 30000))  # 900 megapixels claimed, no data: decoding would fail anyway
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Pillow's own DecompressionBombWarning must not appear either
        message = _error(load_image, path)
    assert message == (
        "image too large: 30000x30000 = 900000000 pixels exceeds the limit of 178956970 "
        f"(pass max_pixels=None or set TFSTYLE_MAX_PIXELS=0 to allow it): {path}"
    )


def test_pixel_limit_argument_and_environment(tmp_path, monkeypatch):
    path = tmp_path / "small.png"
    Image.fromarray(_gradient(50, 40)).save(path)  # 2000 pixels
    monkeypatch.delenv("TFSTYLE_MAX_PIXELS", raising=False)
    message = _error(load_image, path, max_pixels=1999)
    assert message.startswith("image too large: 40x50 = 2000 pixels exceeds the limit of 1999 (pass")
    assert load_image(path, max_pixels=2000).shape == (50, 40, 3)
    assert load_image(path, max_pixels=None).shape == (50, 40, 3)
    assert load_image(path, max_pixels=0).shape == (50, 40, 3)

    monkeypatch.setenv("TFSTYLE_MAX_PIXELS", "1000")
    assert "exceeds the limit of 1000 " in _error(load_image, path)
    assert load_image(path, max_pixels=5000).shape == (50, 40, 3)  # an explicit argument wins
    monkeypatch.setenv("TFSTYLE_MAX_PIXELS", "0")
    assert load_image(path).shape == (50, 40, 3)
    monkeypatch.setenv("TFSTYLE_MAX_PIXELS", "lots")
    with pytest.raises(OptionError, match=r"^TFSTYLE_MAX_PIXELS must be a non-negative integer \(0 disables"):
        load_image(path)
    with pytest.raises(OptionError, match=r"^max_pixels must be a non-negative integer or None, got -1$"):
        load_image(path, max_pixels=-1)


def test_pillow_limit_neither_fires_nor_changes(tmp_path, monkeypatch):
    path = tmp_path / "mid.png"
    Image.fromarray(_gradient(50, 40)).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # Pillow alone would raise DecompressionBombError
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_image(path).shape == (50, 40, 3)
    assert Image.MAX_IMAGE_PIXELS == 100
    assert DEFAULT_MAX_PIXELS == 178_956_970


# --- resizing ---


def test_max_size_downscales_only(tmp_path):
    Image.fromarray(_gradient(100, 200)).save(tmp_path / "wide.png")
    _check_image(load_image(tmp_path / "wide.png", max_size=50), (25, 50, 3))
    _check_image(load_image(tmp_path / "wide.png", max_size=1000), (100, 200, 3))
    _check_image(load_image(np.zeros((1000, 2, 3), np.uint8), max_size=10), (10, 1, 3))
    with pytest.raises(OptionError, match=r"^max_size must be a positive integer, got 0$"):
        load_image(tmp_path / "wide.png", max_size=0)


def test_max_size_on_large_jpeg_matches_full_decode(tmp_path):
    # large JPEGs are decoded at reduced scale first; the result must match a full decode + resize
    smooth = np.asarray(Image.fromarray(_gradient(30, 60)).resize((1200, 600), Image.Resampling.BICUBIC))
    Image.fromarray(smooth).save(tmp_path / "big.jpg", quality=95)
    small = load_image(tmp_path / "big.jpg", max_size=100)
    _check_image(small, (50, 100, 3))
    reference = resize_image(load_image(tmp_path / "big.jpg"), size=(50, 100))
    assert np.abs(small - reference).mean() < 0.01


def test_max_size_with_exif_rotation(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(np.zeros((200, 400, 3), np.uint8)).save(tmp_path / "r.jpg", exif=exif)
    _check_image(load_image(tmp_path / "r.jpg", max_size=40), (40, 20, 3))


def test_max_size_keeps_range_on_hard_edges():
    checker = (np.indices((64, 64)).sum(axis=0) // 4 % 2).astype(np.float32)
    _check_image(load_image(checker, max_size=27), (27, 27, 3))


def test_resize_image_sizes_and_precision():
    image = np.full((30, 40, 3), 0.123456789, np.float32)
    up = resize_image(image, size=(61, 83))
    assert up.shape == (61, 83, 3) and up.dtype == np.float32
    np.testing.assert_allclose(up, 0.123456789, atol=1e-7)  # no 8-bit quantization
    assert resize_image(image, long_side=20).shape == (15, 20, 3)
    assert resize_image(image[..., 0], long_side=80).shape == (60, 80)
    assert resize_image(np.zeros((8, 8, 5)), size=(4, 4)).shape == (4, 4, 5)


def test_resize_image_clamps_ringing():
    step = np.zeros((32, 32), np.float32)
    step[:, 16:] = 1.0
    result = resize_image(step, size=(32, 77))
    assert result.min() == 0.0 and result.max() == 1.0


def test_resize_image_errors():
    image = np.zeros((4, 4, 3), np.float32)
    with pytest.raises(OptionError, match=r"^give exactly one of size and long_side, got size=None, long_side=None$"):
        resize_image(image)
    with pytest.raises(OptionError, match=r"^give exactly one of size and long_side"):
        resize_image(image, size=(2, 2), long_side=2)
    with pytest.raises(OptionError, match=r"^size\[0\] must be a positive integer, got 0$"):
        resize_image(image, size=(0, 2))
    assert _error(resize_image, np.zeros((4,)), size=(2, 2)) == (
        "cannot resize an array of shape (4,): expected a non-empty HxW or HxWxC array"
    )


# --- saving ---


def test_png_round_trip_is_exact(tmp_path):
    pixels = _gradient()
    path = save_image(tmp_path / "out.png", pixels / 255.0)
    assert path == tmp_path / "out.png"
    np.testing.assert_array_equal(np.asarray(Image.open(path)), pixels)


def test_save_rounds_instead_of_truncating(tmp_path):
    save_image(tmp_path / "r.png", np.full((2, 2, 3), 100.6 / 255, np.float32))
    assert (np.asarray(Image.open(tmp_path / "r.png")) == 101).all()


def test_jpg_round_trip_is_close(tmp_path):
    image = load_image("sample:coffee", max_size=128)
    save_image(tmp_path / "out.jpg", image)
    assert np.abs(load_image(tmp_path / "out.jpg") - image).mean() < 0.02


@pytest.mark.parametrize("name", ["a.PNG", "a.jpeg", "a.webp", "a.bmp", "a.tif", "a.TIFF"])
def test_all_output_formats(tmp_path, name):
    image = _gradient() / 255.0  # smooth: lossy formats keep it well
    save_image(tmp_path / name, image)
    assert np.abs(load_image(tmp_path / name) - image).mean() < 0.03


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((8, 9)),
        np.zeros((8, 9, 1), np.uint8),
        np.zeros((1, 8, 9, 3), np.float32),
        _FakeTensor(np.zeros((1, 8, 9, 3), np.float32)),
        np.zeros((8, 9, 3), bool),
    ],
)
def test_save_accepts_shapes_and_types(tmp_path, image):
    path = save_image(str(tmp_path / "x.png"), image)
    assert load_image(path).shape == (8, 9, 3)


def test_save_alpha(tmp_path):
    rgba = np.zeros((4, 4, 4), np.float32)
    rgba[..., 0] = 1.0  # red, fully transparent
    save_image(tmp_path / "keep.png", rgba)
    assert Image.open(tmp_path / "keep.png").mode == "RGBA"
    save_image(tmp_path / "flat.jpg", rgba)
    assert load_image(tmp_path / "flat.jpg").min() > 0.95  # composited over white


def test_save_errors(tmp_path):
    image = np.zeros((4, 4, 3))
    path = tmp_path / "out.xyz"
    assert _error(save_image, path, image) == (
        f"unsupported output format '.xyz' (use .png, .jpg, .jpeg, .webp, .bmp, .tif, .tiff): {path}"
    )
    missing = tmp_path / "no" / "such"
    assert _error(save_image, missing / "out.png", image) == f"output folder does not exist: {missing}"
    assert _error(save_image, tmp_path / "nan.png", np.full((4, 4, 3), np.nan)) == (
        f"image array contains NaN or infinite values: {tmp_path / 'nan.png'}"
    )
    assert _error(save_image, tmp_path / "bad.png", np.zeros((4, 4, 7))) == (
        f"unsupported array shape (4, 4, 7): expected HxW, HxWx1, HxWx3 or HxWx4: {tmp_path / 'bad.png'}"
    )
    folder = tmp_path / "folder.png"
    folder.mkdir()
    assert _error(save_image, folder, image) == f"not a file: {folder}"
    with pytest.raises(OptionError, match=r"^quality must be an integer from 1 to 100, got 0$"):
        save_image(tmp_path / "q.jpg", image, quality=0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder.png"]


@pytest.mark.parametrize("failure", [OSError("disk full"), KeyboardInterrupt()])
def test_failed_write_keeps_existing_file(tmp_path, monkeypatch, failure):
    path = tmp_path / "keep.png"
    save_image(path, np.zeros((4, 4, 3)))
    before = path.read_bytes()

    def broken_save(self, fp, *args, **kwargs):
        fp.write(b"half an image")
        raise failure

    monkeypatch.setattr(Image.Image, "save", broken_save)
    if isinstance(failure, OSError):
        assert _error(save_image, path, np.ones((4, 4, 3))) == f"cannot write image (disk full): {path}"
    else:
        with pytest.raises(KeyboardInterrupt):
            save_image(path, np.ones((4, 4, 3)))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["keep.png"]  # no temporary file left behind


def test_saved_file_has_normal_permissions(tmp_path):
    path = save_image(tmp_path / "p.png", np.zeros((2, 2)))
    assert path.stat().st_mode & 0o777 == 0o666 & ~io.current_umask()


def test_io_module_does_not_import_tensorflow():
    import subprocess
    import sys

    code = "import sys, tfstyle.io; assert not {'tensorflow', 'keras'} & set(sys.modules), 'heavy import'"
    subprocess.run([sys.executable, "-c", code], check=True)
