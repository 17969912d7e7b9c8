"""Reading and writing images as float32 arrays in [0, 1].

Everything a user can throw at the library (photos with EXIF rotation, palettes, alpha, CMYK, 16-bit, animations,
truncated or absurdly large files) either loads as an H x W x 3 float32 array or raises `ImageError` with one line
that names the file. Writing is atomic: a temporary file in the target folder is renamed over the target, so an
existing image is never left half-written.

This module imports neither TensorFlow nor Keras so that the CLI can use it without starting them.

Example:
    >>> image = load_image("photo.jpg", max_size=512)
    >>> save_image("out.png", image)
"""

import contextlib
import functools
import math
import os
import pathlib
import struct
import tempfile
import threading
import warnings
import zlib

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from tfstyle.errors import ImageError, OptionError, TfstyleError

# Pillow raises DecompressionBombError above 2 * Image.MAX_IMAGE_PIXELS; we use the same default threshold.
DEFAULT_MAX_PIXELS = 178_956_970
MAX_PIXELS_ENV = "TFSTYLE_MAX_PIXELS"

SAMPLE_PREFIX = "sample:"

# lower-case extension -> Pillow format name
OUTPUT_FORMATS = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".webp": "WEBP",
    ".bmp": "BMP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
}
# formats that cannot store an alpha channel: RGBA arrays are composited over white for them
_NO_ALPHA_FORMATS = {"JPEG", "BMP"}

# Pillow errors a damaged or malicious file can cause while decoding; all mean "this file is broken".
_DECODE_ERRORS = (OSError, SyntaxError, EOFError, ValueError, struct.error, zlib.error, IndexError, KeyError)

_RESAMPLE = Image.Resampling.LANCZOS
# Downscaling by more than this factor first box-reduces by an integer factor: much faster, visually identical.
_REDUCING_GAP = 3.0

# Serializes the moments where Pillow's global bomb limit is lifted (see `_pillow_limit_lifted`).
_PILLOW_LIMIT_LOCK = threading.RLock()


def load_image(src, max_size=None, *, max_pixels=DEFAULT_MAX_PIXELS):
    """Loads an image as a float32 H x W x 3 array with values in [0, 1].

    Args:
        src: a path (str or os.PathLike) to any image Pillow reads; the string "sample:NAME" for a built-in sample
            (see `tfstyle.samples.available()`); a `PIL.Image.Image`; or an array (numpy, or anything with
            `.numpy()` such as a tf.Tensor) of shape HxW, HxWx1, HxWx3 or HxWx4, optionally with a leading batch
            dimension of 1. uint8 arrays are divided by 255, uint16 by 65535; float arrays are taken to be in
            [0, 1] and clipped; bool arrays map to 0 and 1. Alpha is composited over white.
        max_size: if given, images whose long side exceeds it are downscaled (high-quality Lanczos, aspect ratio
            kept) so that the long side is `max_size`. Smaller images are never upscaled.
        max_pixels: files whose header claims more than width x height pixels are refused before decoding
            (decompression-bomb guard). `None` or 0 disables the check. When left at the default, the environment
            variable `TFSTYLE_MAX_PIXELS` overrides it.

    Returns:
        A new, writable float32 array of shape (H, W, 3) with values in [0, 1].

    Raises:
        ImageError: the source is missing, unreadable, not an image, corrupt, too large or of an unsupported shape.
        OptionError: `max_size` or `max_pixels` is not a valid number.

    Example:
        >>> load_image("sample:astronaut", max_size=256).shape
        (256, 256, 3)
    """
    max_size = _check_max_size(max_size)
    limit = _pixel_limit(max_pixels)
    if isinstance(src, str) and src.startswith(SAMPLE_PREFIX):
        from tfstyle import samples  # lazy: only needed for sample names

        image = samples.load(src[len(SAMPLE_PREFIX):])
    elif isinstance(src, (str, os.PathLike)):
        image = _load_file(pathlib.Path(src).expanduser(), limit, max_size)
    elif isinstance(src, Image.Image):
        with _decode_errors_reported("<PIL image>"):
            image = _decode(src, limit, "<PIL image>")  # no JPEG draft: it would alter the caller's object
    elif isinstance(src, np.ndarray) or hasattr(src, "numpy") or hasattr(src, "__array__"):
        image = _array_to_float(src)
    else:
        raise ImageError(
            f"cannot load an image from a {type(src).__name__}: expected a path, 'sample:NAME', a PIL image or an array"
        )
    if max_size is not None and max(image.shape[:2]) > max_size:
        image = np.clip(resize_image(image, long_side=max_size), 0.0, 1.0)
    return image


def resize_image(image, size=None, long_side=None):
    """Resizes a float image exactly to a size, up or down, with Lanczos filtering in float precision.

    Each channel is resampled as a 32-bit float Pillow image, so no precision is lost to 8-bit quantization.
    Lanczos rings slightly at hard edges; the result is clamped to the input's value range so that an image in
    [0, 1] stays in [0, 1].

    Args:
        image: array of shape (H, W) or (H, W, C), any real dtype (values are not rescaled).
        size: target `(height, width)` in pixels (numpy order, like `image.shape[:2]`).
        long_side: alternatively, the target length of the longer side; the other side keeps the aspect ratio
            (rounded, at least 1 pixel). Give exactly one of `size` and `long_side`.

    Returns:
        A new float32 array of shape (height, width) or (height, width, C).

    Raises:
        OptionError: neither or both of `size` and `long_side` given, or a non-positive size.
        ImageError: `image` is not 2-D or 3-D, or is empty.

    Example:
        >>> resize_image(np.zeros((300, 400, 3), np.float32), long_side=200).shape
        (150, 200, 3)
    """
    image = np.asarray(image, dtype=np.float32)
    if image.ndim not in (2, 3) or image.size == 0:
        raise ImageError(f"cannot resize an array of shape {image.shape}: expected a non-empty HxW or HxWxC array")
    height, width = image.shape[:2]
    if (size is None) == (long_side is None):
        raise OptionError(f"give exactly one of size and long_side, got size={size!r}, long_side={long_side!r}")
    if long_side is not None:
        long_side = _positive_int(long_side, "long_side")
        scale = long_side / max(height, width)
        size = (max(1, round(height * scale)), max(1, round(width * scale)))
    else:
        if not isinstance(size, (tuple, list)) or len(size) != 2:
            raise OptionError(f"size must be a (height, width) pair, got {size!r}")
        size = (_positive_int(size[0], "size[0]"), _positive_int(size[1], "size[1]"))
    if size == (height, width):
        return image.copy()

    # Pillow wants (width, height); the reducing gap only matters (and only helps) when shrinking a lot.
    target = (size[1], size[0])
    gap = _REDUCING_GAP if size[0] < height and size[1] < width else None
    channels = image[..., None] if image.ndim == 2 else image
    out = np.empty((size[0], size[1], channels.shape[2]), np.float32)
    for c in range(channels.shape[2]):
        plane = Image.fromarray(np.ascontiguousarray(channels[..., c]))
        out[..., c] = np.asarray(plane.resize(target, _RESAMPLE, reducing_gap=gap))
    if np.isfinite(image).all():
        np.clip(out, image.min(), image.max(), out=out)
    return out[..., 0] if image.ndim == 2 else out


def save_image(path, image, *, quality=95):
    """Writes an image atomically; the format follows the file extension.

    The image is encoded into a temporary file in the target folder which then replaces `path` in one step, so an
    existing file at `path` is either fully replaced or left untouched, and no temporary file is left behind.

    Args:
        path: output path ending in .png, .jpg, .jpeg, .webp, .bmp, .tif or .tiff (any case).
        image: array (or tf.Tensor) of shape HxW, HxWx1, HxWx3, HxWx4 or 1xHxWx3; floats are taken to be in [0, 1]
            (clipped) and rounded to 8 bits, uint8 is written as is. Alpha is dropped by compositing over white for
            JPEG and BMP.
        quality: JPEG / WebP quality, 1-100.

    Returns:
        The written path as a `pathlib.Path`.

    Raises:
        ImageError: unsupported extension, missing output folder, bad array (shape, dtype, NaN) or a write failure.
        OptionError: `quality` is not an integer in 1-100.

    Example:
        >>> save_image("out.jpg", np.zeros((64, 64, 3)), quality=90)
        PosixPath('out.jpg')
    """
    path = pathlib.Path(path).expanduser()
    suffix = path.suffix.lower()
    if suffix not in OUTPUT_FORMATS:
        raise ImageError(f"unsupported output format '{path.suffix}' (use {', '.join(OUTPUT_FORMATS)}): {path}")
    folder = path.parent
    if not folder.is_dir():
        raise ImageError(f"output folder does not exist: {folder}")
    if path.is_dir():
        raise ImageError(f"not a file: {path}")
    if isinstance(quality, bool) or not isinstance(quality, (int, np.integer)) or not 1 <= quality <= 100:
        raise OptionError(f"quality must be an integer from 1 to 100, got {quality!r}")

    fmt = OUTPUT_FORMATS[suffix]
    pil_image = Image.fromarray(_to_uint8(image, str(path), keep_alpha=fmt not in _NO_ALPHA_FORMATS))
    options = {}
    if fmt == "JPEG":
        # 4:4:4 chroma keeps the fine colour texture that stylized images are made of
        options = {"quality": int(quality), "subsampling": 0 if quality >= 90 else 2}
    elif fmt == "WEBP":
        options = {"quality": int(quality)}

    try:
        fd, tmp_name = tempfile.mkstemp(suffix=suffix, prefix=f".{path.stem}.", dir=folder)
    except PermissionError:
        raise ImageError(f"permission denied: {path}") from None
    except OSError as e:
        raise ImageError(f"cannot write image ({_reason(e)}): {path}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            pil_image.save(f, format=fmt, **options)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp creates files readable only by their owner; give the result the permissions of a normal file
        os.chmod(tmp_name, 0o666 & ~current_umask())
        os.replace(tmp_name, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        if isinstance(e, PermissionError):
            raise ImageError(f"permission denied: {path}") from None
        if isinstance(e, (OSError, ValueError, KeyError)) and not isinstance(e, TfstyleError):
            raise ImageError(f"cannot write image ({_reason(e)}): {path}") from None
        raise
    return path


def save_json(path, value):
    """Write `value` as indented JSON to `path` atomically (temporary file + rename); returns the path.

    Values JSON cannot represent (NumPy scalars, paths) are written as their `str`. Errors are `OptionError`s
    with one line.
    """
    import json

    path = pathlib.Path(path)
    text = json.dumps(value, indent=2, default=_json_default) + "\n"
    try:
        fd, tmp_name = tempfile.mkstemp(suffix=".json", prefix=f".{path.stem}.", dir=path.parent)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(tmp_name, 0o666 & ~current_umask())
        os.replace(tmp_name, path)
    except OSError as e:
        with contextlib.suppress(OSError, UnboundLocalError):
            os.unlink(tmp_name)
        raise OptionError(f"cannot write {path} ({_reason(e)})") from None
    return path


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


# --- loading helpers ---


def _load_file(path, limit, max_size):
    """Decodes the first frame of an image file, refusing it before decoding if it has too many pixels."""
    if not path.exists():
        raise ImageError(f"image not found: {path}")
    if not path.is_file():
        raise ImageError(f"not a file: {path}")
    with _decode_errors_reported(path):
        if path.stat().st_size == 0:
            raise ImageError(f"empty file: {path}")
        with Image.open(path) as im:
            return _decode(im, limit, path, max_size)


def _decode(im, limit, label, max_size=None):
    """Checks the header size, then decodes an opened Pillow image upright to float32 H x W x 3."""
    _check_pixel_count(im.size, limit, label)  # the size comes from the header: nothing is decoded yet
    if im.width == 0 or im.height == 0:
        raise ImageError(f"image has zero size: {label}")
    long_side = max(im.size)
    if max_size is not None and im.format == "JPEG" and long_side > 4 * max_size:
        # JPEG can decode at 1/2, 1/4 or 1/8 scale almost for free; stay at >= 2x the target so that the
        # Lanczos downscale afterwards still sets the final quality
        scale = 2 * max_size / long_side
        im.draft(None, (math.ceil(im.width * scale), math.ceil(im.height * scale)))
    # animations: Pillow opens at the first frame; exif_transpose loads it and returns a detached copy
    return _pil_to_float(ImageOps.exif_transpose(im), label)


@contextlib.contextmanager
def _decode_errors_reported(label):
    """Runs Pillow with our bomb check instead of its own, turning decoding failures into one-line ImageErrors."""
    try:
        with _pillow_limit_lifted():
            yield
    except TfstyleError:
        raise
    except PermissionError:
        raise ImageError(f"permission denied: {label}") from None
    except UnidentifiedImageError:
        if _header_says_zero_size(label):
            raise ImageError(f"image has zero size: {label}") from None
        raise ImageError(f"not an image (Pillow cannot identify it): {label}") from None
    except MemoryError:
        raise ImageError(f"not enough memory to decode the image: {label}") from None
    except _DECODE_ERRORS:
        raise ImageError(f"truncated or corrupt image: {label}") from None


@contextlib.contextmanager
def _pillow_limit_lifted():
    """Switches off Pillow's own bomb check and warning (ours runs instead), restoring both afterwards."""
    with _PILLOW_LIMIT_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None
        try:
            yield
        finally:
            Image.MAX_IMAGE_PIXELS = saved


def _header_says_zero_size(path):
    """Tells whether a PNG or GIF header declares a zero width or height (Pillow refuses to identify those)."""
    try:
        with open(path, "rb") as f:
            head = f.read(24)
    except (OSError, TypeError):
        return False
    if head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR":
        width, height = struct.unpack(">II", head[16:24])
    elif head[:6] in (b"GIF87a", b"GIF89a") and len(head) >= 10:
        width, height = struct.unpack("<HH", head[6:10])
    else:
        return False
    return width == 0 or height == 0


def _check_pixel_count(size, limit, label):
    width, height = size
    if limit and width * height > limit:
        raise ImageError(
            f"image too large: {width}x{height} = {width * height} pixels exceeds the limit of {limit} "
            f"(pass max_pixels=None or set {MAX_PIXELS_ENV}=0 to allow it): {label}"
        )


def _pil_to_float(im, label):
    """Converts a decoded Pillow image of any mode to float32 H x W x 3 in [0, 1]."""
    mode = im.mode
    if mode.startswith("I;16"):
        # 16-bit grayscale: scale the full range, do not truncate to 8 bits as convert("L") would
        return _to_rgb(np.asarray(im).astype(np.float32) / 65535.0)
    if mode == "I":
        # 32-bit integer images are nearly always 16-bit data widened by the decoder
        return _to_rgb(np.clip(np.asarray(im).astype(np.float32) / 65535.0, 0.0, 1.0))
    if mode == "F":
        # like float arrays, float images are taken to be in [0, 1]
        gray = np.nan_to_num(np.asarray(im).astype(np.float32), nan=0.0, posinf=1.0, neginf=0.0)
        return _to_rgb(np.clip(gray, 0.0, 1.0))
    has_alpha = "A" in mode or "a" in mode or "transparency" in im.info
    try:
        im = im.convert("RGBA" if has_alpha else "RGB")
    except ValueError:
        raise ImageError(f"unsupported image mode '{mode}': {label}") from None
    return _to_rgb(np.asarray(im).astype(np.float32) / 255.0)


def _array_to_float(array):
    """Converts a user array of any supported shape and dtype to float32 H x W x 3 in [0, 1]."""
    return _to_rgb(_normalized(_squeeze_batch(np.asarray(array))))


def _normalized(array):
    """Scales an array to float32 in [0, 1] by its dtype, keeping its shape."""
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 255.0
    if array.dtype == np.uint16:
        return array.astype(np.float32) / 65535.0
    if array.dtype == np.bool_:
        return array.astype(np.float32)
    if np.issubdtype(array.dtype, np.floating):
        floats = array.astype(np.float32)  # always a copy: callers may modify the result
        if not np.isfinite(floats).all():
            raise ImageError("image array contains NaN or infinite values")
        return np.clip(floats, 0.0, 1.0, out=floats)
    raise ImageError(f"unsupported array dtype {array.dtype}: expected uint8, uint16, bool or float")


def _squeeze_batch(array):
    if array.ndim == 4 and array.shape[0] == 1:
        array = array[0]
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] in (1, 3, 4))):
        raise ImageError(f"unsupported array shape {array.shape}: expected HxW, HxWx1, HxWx3 or HxWx4")
    if array.size == 0:
        raise ImageError(f"image has zero size: array of shape {array.shape}")
    return array


def _to_rgb(image):
    """Turns a float H x W, H x W x 1, x 3 or x 4 array into H x W x 3, compositing alpha over white."""
    if image.ndim == 2:
        image = image[..., None]
    if image.shape[2] == 4:
        alpha = image[..., 3:]
        image = image[..., :3] * alpha + (1.0 - alpha)
    if image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    return np.ascontiguousarray(image, dtype=np.float32)


# --- saving helpers ---


def _to_uint8(image, label, keep_alpha):
    """Converts a user array to a uint8 array Pillow can write (HxW, HxWx3 or HxWx4), rounding floats."""
    try:
        array = _squeeze_batch(np.asarray(image))
        if array.dtype != np.uint8:
            array = np.round(_normalized(array) * 255.0).astype(np.uint8)
    except ImageError as e:
        raise ImageError(f"{e}: {label}") from None
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if array.ndim == 3 and array.shape[2] == 4 and not keep_alpha:
        array = np.round(_to_rgb(array.astype(np.float32) / 255.0) * 255.0).astype(np.uint8)
    return np.ascontiguousarray(array)


# --- option helpers ---


def _check_max_size(max_size):
    return None if max_size is None else _positive_int(max_size, "max_size")


def _positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise OptionError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _pixel_limit(max_pixels):
    """Returns the pixel limit to enforce (0 = none); the environment variable overrides the default only."""
    if max_pixels is None:
        return 0
    if isinstance(max_pixels, bool) or not isinstance(max_pixels, (int, np.integer)) or max_pixels < 0:
        raise OptionError(f"max_pixels must be a non-negative integer or None, got {max_pixels!r}")
    env = os.environ.get(MAX_PIXELS_ENV, "").strip()
    if max_pixels == DEFAULT_MAX_PIXELS and env:
        try:
            max_pixels = int(env)
        except ValueError:
            max_pixels = -1
        if max_pixels < 0:
            raise OptionError(f"{MAX_PIXELS_ENV} must be a non-negative integer (0 disables the limit), got {env!r}")
    return int(max_pixels)


def _reason(error):
    """One-line reason for an OS or encoder error."""
    text = getattr(error, "strerror", None) or str(error) or type(error).__name__
    return " ".join(text.split())


@functools.cache
def current_umask():
    """The process's file-creation mask (os.umask can only be read by setting it), for files written atomically
    through a temporary file that should get the permissions a plain `open` would give."""
    mask = os.umask(0)
    os.umask(mask)
    return mask
