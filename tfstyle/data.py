"""tf.data pipelines that stream training images from folders: one folder, or two zipped (content/style, A/B).

Every image goes through the same steps:

1. **Listing** (`list_images`): files with an image extension, sorted, hidden files skipped.
2. **Probing**, once, when the dataset is built: each file's header is read (in a thread pool, so slow network
   folders stay bearable). Files that are empty or not images are skipped here, before the pipeline starts, and
   a folder where nothing is usable fails at once with one line.
3. **Decoding**, once per epoch, in parallel (`num_parallel_calls=tf.data.AUTOTUNE`): `tfstyle.io.load_image`
   runs inside `tf.numpy_function`, so every format and mode it supports (CMYK, 16-bit, palette, alpha, EXIF
   rotation, animations) works here too. Large images are shrunk while decoding (JPEG draft mode + Lanczos). A
   file that still fails (truncated, corrupt, too large) is skipped, never fatal.
4. **Resizing** so that the short side is exactly `resize_to` (or, without `resize_to`, only images whose short
   side is below the crop are enlarged), then stored as uint8. With `cache=True` the dataset is cached here, in
   memory, so later epochs skip steps 3 and 4 entirely.
5. **Augmenting**: random (or, for evaluation, centre) crop to `crop_size`, optional horizontal flip, conversion
   to float32 RGB in [0, 1]; with a `Jitter` (`tfstyle.augment.Jitter`, also importable from here), the crop is
   also randomly zoomed and recoloured.

Skipped files are recorded in a `SkipCounter` (the `skip_counter` attribute of every returned dataset, or one you
pass in), and each is logged once on the "tfstyle" logger.

Because decoding runs Python code, the input pipeline must run in this Python process: true on CPU, GPU and
TPU-VM hosts and for every `tf.distribute` strategy that feeds from the local host.

Example:
    >>> ds = two_folder_dataset("data/content", "data/style", crop_size=256, resize_to=512, batch_size=8,
    ...                         keys=("content", "style"), cache=True, seed=0)
    >>> batch = next(iter(ds))
    >>> batch["content"].shape
    TensorShape([8, 256, 256, 3])
    >>> ds.skip_counter.count
    0
"""

import logging
import os
import pathlib
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import tensorflow as tf
from PIL import Image

from tfstyle.augment import Jitter, as_jitter, recolour, zoomed_crop  # noqa: F401 - Jitter is re-exported
from tfstyle.errors import OptionError, TfstyleError
from tfstyle.io import DEFAULT_MAX_PIXELS, _positive_int, load_image

logger = logging.getLogger("tfstyle")

IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png", ".tif", ".tiff", ".webp")

# Resizing the short side of a banner-shaped image would make it enormous (or its crops meaningless).
MAX_ASPECT_RATIO = 20

# Above this estimated size, `cache=True` logs a warning: Colab machines have about 12 GB of RAM.
_CACHE_WARNING_BYTES = 4 * 2**30

# Header reads are I/O-bound; on network folders (Google Drive on Colab) each can take tens of milliseconds.
_PROBE_THREADS = 16


class SkipCounter:
    """Records the image files a pipeline skipped because they could not be used, with the reason for each.

    A file is counted once however many epochs meet it. The counter is thread-safe: the pipeline's decoding
    threads add to it while you read it. Files are recorded when the dataset is built (empty files, non-images)
    or when they are first decoded (truncated or corrupt files, images over the pixel limit), so read it after
    iterating for the full picture.

    Example:
        >>> ds = image_dataset("photos", crop_size=256)
        >>> _ = list(ds.take(100))
        >>> ds.skip_counter.count, ds.skip_counter.paths
        (1, ['photos/broken.jpg'])
        >>> print(ds.skip_counter.summary())
        1 image file skipped: truncated or corrupt image: photos/broken.jpg
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._reasons = {}

    def add(self, path, reason):
        """Records that `path` was skipped for `reason` (one line); returns whether the file is new to the counter.

        Args:
            path: the skipped file.
            reason: one line saying what is wrong, naming the file.

        Returns:
            True the first time a path is added, False afterwards (the first reason is kept).
        """
        path = os.fspath(path)
        with self._lock:
            if path in self._reasons:
                return False
            self._reasons[path] = reason
        logger.warning("skipped %s", reason)
        return True

    @property
    def count(self):
        """Number of distinct files skipped so far."""
        with self._lock:
            return len(self._reasons)

    @property
    def paths(self):
        """Skipped files, in the order they were first met."""
        with self._lock:
            return list(self._reasons)

    @property
    def reasons(self):
        """A copy of the {path: reason} mapping."""
        with self._lock:
            return dict(self._reasons)

    def __len__(self):
        return self.count

    def summary(self):
        """One line: how many files were skipped and why."""
        reasons = list(self.reasons.values())
        if not reasons:
            return "no image files skipped"
        noun = "file" if len(reasons) == 1 else "files"
        return f"{len(reasons)} image {noun} skipped: " + "; ".join(reasons)

    def __repr__(self):
        return f"SkipCounter(count={self.count})"


def list_images(folder, recursive=True):
    """Lists the image files in a folder, sorted by their path relative to it.

    Image files are those ending in .bmp, .gif, .jpeg, .jpg, .png, .tif, .tiff or .webp, in any case. Hidden
    files and folders (name starting with ".") are left out: they are editor backups, `.ipynb_checkpoints` or the
    `._name.jpg` metadata files macOS leaves on shared drives, never training images. Symbolic links to files are
    listed; symbolic links to folders inside `folder` are not followed.

    Args:
        folder: path of the folder (str or os.PathLike; "~" is expanded).
        recursive: also list the images in subfolders, at any depth.

    Returns:
        A list of `pathlib.Path`, each `folder / relative path`, sorted by relative path (so the order is the same
        on every machine).

    Raises:
        OptionError: `folder` does not exist, is not a folder, or holds no image files.

    Example:
        >>> list_images("data/style")[:2]
        [PosixPath('data/style/la_muse.jpg'), PosixPath('data/style/wave.jpg')]
    """
    folder = _folder_path(folder)
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = [] if not recursive else [d for d in dirs if not d.startswith(".")]
        relative = pathlib.PurePath(root).relative_to(folder)
        found.extend(relative / name for name in files
                     if not name.startswith(".") and os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS)
    if not found:
        where = "folder or its subfolders" if recursive else "folder"
        raise OptionError(f"no image files ({', '.join(IMAGE_EXTENSIONS)}) found in {where}: {folder}")
    return [folder / name for name in sorted(found, key=lambda p: p.as_posix())]


def image_dataset(folder, crop_size, resize_to=None, batch_size=None, *, shuffle=True, repeat=True, flip=True,
                  jitter=None, seed=None, cache=False, deterministic=None, drop_remainder=True, recursive=True,
                  max_pixels=DEFAULT_MAX_PIXELS, skip_counter=None):
    """A training stream of random crops from the images in one folder.

    Args:
        folder: the image folder (see `list_images`).
        crop_size: side of the square crops, in pixels.
        resize_to: each image is first resized (up or down) so that its short side is this many pixels, e.g. 512
            as in AdaIN or 286 as in CycleGAN; at least `crop_size`. `None` keeps the images' own size, except
            that images whose short side is below `crop_size` are enlarged to it, so a crop always fits.
        batch_size: if given, elements are batches of this many images.
        shuffle: shuffle the images, differently in every epoch.
        repeat: repeat forever (an epoch is one pass over the usable images).
        flip: flip each crop horizontally with probability 1/2.
        jitter: a `tfstyle.augment.Jitter`: zoom and recolour each crop at random (None: no jitter).
        seed: an int makes the stream reproducible: the same seed gives the same images, crops and flips in the
            same order, on every run (it also turns `deterministic` on). `None`: different on every run.
        cache: keep the decoded, resized images in memory (before cropping), so that only the first epoch decodes
            files. Right for small folders (tens to a few thousand images); a warning is logged when the cache is
            estimated to need more than 4 GiB.
        deterministic: keep the element order independent of thread timing. `None` means "when `seed` is given".
            Without it, parallel decoding yields images in the order they finish, which is faster when their
            sizes differ a lot.
        drop_remainder: with `batch_size`, drop a last partial batch so that every batch has a static shape
            (needed by `tf.distribute`; only matters when `repeat=False`).
        recursive: include images in subfolders.
        max_pixels: files whose header claims more pixels than this are skipped without decoding (see
            `tfstyle.io.load_image`; `None` disables the guard).
        skip_counter: a `SkipCounter` to record skipped files in; by default a new one.

    Returns:
        A `tf.data.Dataset` of float32 images in [0, 1] of shape (crop_size, crop_size, 3), or batches of shape
        (batch_size, crop_size, crop_size, 3), prefetched. Its attribute `skip_counter` is the `SkipCounter`.

    Raises:
        OptionError: a bad option value, a missing or empty folder, or a folder where no image file is usable.

    Example:
        >>> ds = image_dataset("data/style", crop_size=256, resize_to=512, batch_size=4, cache=True, seed=1)
        >>> next(iter(ds)).shape
        TensorShape([4, 256, 256, 3])
    """
    crop_size = _positive_int(crop_size, "crop_size")
    resize_to = _resize_to(resize_to, crop_size)
    batch_size = _batch_size(batch_size)
    seed = _seed(seed)
    cache = _bool(cache, "cache")
    counter = _counter(skip_counter)
    jitter = as_jitter(jitter)
    images = _image_stream(folder, list_images(folder, recursive), crop_size=crop_size, resize_to=resize_to,
                           random_crop=True, flip=flip, jitter=jitter, shuffle=shuffle, repeat=repeat,
                           cache=cache, seed=seed, deterministic=_deterministic(deterministic, seed),
                           max_pixels=max_pixels, counter=counter, seed_stream=0)
    if batch_size is not None:
        images = images.batch(batch_size, drop_remainder=drop_remainder)
    return _finish(images, counter)


def two_folder_dataset(a_folder, b_folder, crop_size, resize_to=None, batch_size=None, *, keys=("a", "b"),
                       shuffle=True, repeat=True, flip=True, jitter=None, seed=None, cache=False,
                       deterministic=None, recursive=True, max_pixels=DEFAULT_MAX_PIXELS, skip_counter=None):
    """Two independent training streams, one per folder, zipped into dicts: content/style pairs, or unpaired A/B.

    Each folder becomes a stream exactly as in `image_dataset` (own shuffling, crops and flips); element i of the
    result holds the i-th image of each. The streams are unrelated, so this suits AdaIN (any content with any
    style) and CycleGAN (unpaired domains). Batches always drop a partial remainder, so every batch has the static
    shape `tf.distribute` needs.

    Args:
        a_folder: folder of the first stream.
        b_folder: folder of the second stream (may be the same folder; it is shuffled and cropped independently).
        crop_size: side of the square crops, in pixels.
        resize_to: short side each image is resized to before cropping (see `image_dataset`).
        batch_size: if given, elements are batches of this many pairs.
        keys: the two dict keys, e.g. ("content", "style") for AdaIN or ("a", "b") for CycleGAN.
        shuffle, repeat, flip, jitter, deterministic, recursive, max_pixels: as in `image_dataset`, for both
            streams. Without `repeat`, the result ends with the shorter stream.
        seed: an int makes both streams reproducible (they get different seeds derived from it).
        cache: as in `image_dataset`; a pair of booleans sets it per stream, e.g. (False, True) to cache only a
            small style folder.
        skip_counter: a `SkipCounter` for the skipped files of both folders; by default a new one.

    Returns:
        A `tf.data.Dataset` of dicts {keys[0]: image, keys[1]: image}, each float32 in [0, 1] of shape
        (crop_size, crop_size, 3), or (batch_size, crop_size, crop_size, 3) with `batch_size`; prefetched, with the
        `SkipCounter` as attribute `skip_counter`.

    Raises:
        OptionError: a bad option value, or a folder that is missing, empty or holds no usable image file.

    Example:
        >>> ds = two_folder_dataset("horses", "zebras", crop_size=256, resize_to=286, batch_size=1)
        >>> sorted(next(iter(ds)))
        ['a', 'b']
    """
    crop_size = _positive_int(crop_size, "crop_size")
    resize_to = _resize_to(resize_to, crop_size)
    batch_size = _batch_size(batch_size)
    seed = _seed(seed)
    keys = _keys(keys)
    caches = _pair_of_bools(cache, "cache")
    counter = _counter(skip_counter)
    jitter = as_jitter(jitter)
    # list both folders before probing either, so that a mistyped second folder fails at once
    listings = [list_images(a_folder, recursive), list_images(b_folder, recursive)]
    streams = [
        _image_stream(folder, files, crop_size=crop_size, resize_to=resize_to, random_crop=True, flip=flip,
                      jitter=jitter, shuffle=shuffle, repeat=repeat, cache=stream_cache, seed=seed,
                      deterministic=_deterministic(deterministic, seed), max_pixels=max_pixels,
                      counter=counter, seed_stream=index)
        for index, (folder, files, stream_cache) in enumerate(zip((a_folder, b_folder), listings, caches))
    ]
    pairs = tf.data.Dataset.zip({keys[0]: streams[0], keys[1]: streams[1]})
    if batch_size is not None:
        pairs = pairs.batch(batch_size, drop_remainder=True)
    return _finish(pairs, counter)


def evaluation_dataset(folder, crop_size=None, resize_to=None, batch_size=None, *, with_paths=False, cache=False,
                       recursive=True, max_pixels=DEFAULT_MAX_PIXELS, skip_counter=None):
    """Every usable image of a folder once, in `list_images` order, centre-cropped: no shuffling, flips or repeats.

    Args:
        folder: the image folder (see `list_images`).
        crop_size: side of the square centre crop; `None` keeps the whole (resized) image, whose shape then varies
            from image to image.
        resize_to: short side each image is resized to first (at least `crop_size`); `None` keeps the images' size
            (enlarging only images smaller than `crop_size`).
        batch_size: if given, batches of this many images; the last batch may be smaller. Needs `crop_size`.
        with_paths: yield `(image, path)` pairs, `path` a tf.string scalar (or vector, batched), so that results
            can be matched to files even when broken files were skipped.
        cache: keep the decoded images in memory for repeated evaluations.
        recursive, max_pixels, skip_counter: as in `image_dataset`.

    Returns:
        A `tf.data.Dataset` of float32 images in [0, 1] of shape (crop_size, crop_size, 3) (or (H, W, 3) without
        `crop_size`), batched if asked, prefetched, with the `SkipCounter` as attribute `skip_counter`.

    Raises:
        OptionError: a bad option value, or a folder that is missing, empty or holds no usable image file.

    Example:
        >>> for image, path in evaluation_dataset("data/content", resize_to=512, with_paths=True):
        ...     print(path.numpy().decode(), image.shape)
        data/content/avril.jpg (512, 819, 3)
    """
    crop_size = None if crop_size is None else _positive_int(crop_size, "crop_size")
    resize_to = _resize_to(resize_to, crop_size or 1)
    batch_size = _batch_size(batch_size)
    if batch_size is not None and crop_size is None:
        raise OptionError(f"batch_size needs crop_size (uncropped images differ in shape), got "
                          f"batch_size={batch_size!r}, crop_size=None")
    cache = _bool(cache, "cache")
    counter = _counter(skip_counter)
    images = _image_stream(folder, list_images(folder, recursive), crop_size=crop_size, resize_to=resize_to,
                           random_crop=False, flip=False, jitter=None, shuffle=False, repeat=False, cache=cache,
                           seed=None, deterministic=True, max_pixels=max_pixels, counter=counter, seed_stream=0,
                           with_paths=with_paths)
    if batch_size is not None:
        images = images.batch(batch_size)
    return _finish(images, counter)


# --- the pipeline ---


def _image_stream(folder, files, *, crop_size, resize_to, random_crop, flip, jitter, shuffle, repeat, cache, seed,
                  deterministic, max_pixels, counter, seed_stream, with_paths=False):
    """The unbatched stream of one folder's `files`: decoded, resized, (cached,) cropped, flipped, jittered float32
    images."""
    usable = _probe_all(files, resize_to, counter)
    if not usable:
        first = counter.reasons.get(str(files[0]), "")
        raise OptionError(f"none of the {len(files)} image files in {_folder_path(folder)} can be used; first: {first}")
    if cache:
        _warn_if_cache_is_large(usable, resize_to, folder)
    file_seed, image_seed, augment_seed = _derived_seeds(seed, seed_stream)

    # Paths travel as bytes so that names which are not valid UTF-8 survive the trip through TensorFlow.
    paths = [os.fsencode(path) for path, _, _ in usable]
    hints = np.array([hint for _, _, hint in usable], np.int64)
    items = tf.data.Dataset.from_tensor_slices((paths, hints))
    if shuffle and not cache:
        # Shuffling names before decoding is free and gives a perfect shuffle without a buffer of images.
        items = items.shuffle(len(paths), seed=file_seed, reshuffle_each_iteration=True)

    decode_file = _Decoder(max_pixels, counter)
    autotune = tf.data.AUTOTUNE

    def decode(path, hint):
        image = tf.numpy_function(decode_file, [path, hint], tf.uint8, name="decode_image_file")
        return tf.ensure_shape(image, [None, None, 3]), path

    items = items.map(decode, num_parallel_calls=autotune, deterministic=deterministic)
    items = items.filter(lambda image, path: tf.size(image) > 0)
    items = items.map(lambda image, path: (_resize_short_side(image, resize_to, crop_size), path),
                      num_parallel_calls=autotune, deterministic=deterministic)
    if cache:
        items = items.cache()
        if shuffle:
            items = items.shuffle(len(paths), seed=image_seed, reshuffle_each_iteration=True)
    if repeat:
        items = items.repeat()

    if random_crop or flip or jitter:
        # One random int64 per element, from a seeded stream, seeds the stateless crop and flip ops: reproducible
        # with a seed, and independent of how many threads run the map.
        noise = tf.data.Dataset.random(seed=augment_seed, rerandomize_each_iteration=True)
        items = tf.data.Dataset.zip((items, noise)).map(lambda item, rand: (*item, rand))
    else:
        items = items.map(lambda image, path: (image, path, tf.constant(0, tf.int64)))

    def augment(image, path, rand):
        if jitter and jitter.zooms:
            image = zoomed_crop(image, crop_size, jitter.scale, seed=tf.stack([rand, tf.constant(2, tf.int64)]))
        else:
            image = _crop(image, crop_size, random_crop, rand)
        if flip:
            image = tf.image.stateless_random_flip_left_right(image, seed=tf.stack([rand, tf.constant(1, tf.int64)]))
        image = tf.cast(image, tf.float32) / 255.0  # after the crop: converts fewer pixels
        if jitter and jitter.recolours:
            image = recolour(image, jitter, seed=tf.stack([rand, tf.constant(3, tf.int64)]))
        return (image, path) if with_paths else image

    return items.map(augment, num_parallel_calls=autotune, deterministic=deterministic)


class _Decoder:
    """The Python side of decoding: file bytes -> uint8 H x W x 3, or an empty array for a file to skip."""

    def __init__(self, max_pixels, counter):
        self.max_pixels = max_pixels
        self.counter = counter

    def __call__(self, path, hint):
        path = os.fsdecode(path)
        hint = int(hint)
        try:
            # `max_size` shrinks big images while decoding (JPEG draft + Lanczos): less work and memory than
            # decoding at full size and resizing afterwards; the exact short side is set in TensorFlow.
            image = load_image(path, max_size=hint or None, max_pixels=self.max_pixels)
        except TfstyleError as e:
            self.counter.add(path, str(e))
            return _EMPTY
        except Exception as e:  # noqa: BLE001 - one odd file (a Pillow plugin bug) must not end a long training run
            self.counter.add(path, f"cannot decode ({type(e).__name__}: {' '.join(str(e).split())}): {path}")
            return _EMPTY
        return (image * 255.0 + 0.5).astype(np.uint8)


_EMPTY = np.zeros((0, 0, 3), np.uint8)


def _probe_all(files, resize_to, counter):
    """Reads every header once; returns (path, (width, height) or None, decode hint) for the usable files."""
    with warnings.catch_warnings():
        # Pillow warns about images between its two bomb thresholds; `max_pixels` decides about those at decoding.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        workers = max(1, min(_PROBE_THREADS, len(files) // 8))
        with ThreadPoolExecutor(workers) as pool:
            probes = list(pool.map(_probe, files))
    usable = []
    for path, (size, problem) in zip(files, probes):
        if problem is not None:
            counter.add(path, problem)
            continue
        usable.append((path, size, _decode_hint(size, resize_to)))
    return usable


def _probe(path):
    """Returns ((width, height) or None, None) for a file worth decoding, or (None, reason) for one to skip."""
    try:
        with Image.open(path) as im:
            width, height = im.size
    except Image.DecompressionBombError:
        return None, None  # too large for Pillow's default limit: `max_pixels` (maybe lifted) decides when decoding
    except Exception:  # noqa: BLE001 - any failure: let load_image say what is wrong, in its words
        return None, _load_error(path)
    if width == 0 or height == 0:
        return None, _load_error(path)
    if max(width, height) > MAX_ASPECT_RATIO * min(width, height):
        return None, (f"image is {width}x{height} pixels: its long side is more than {MAX_ASPECT_RATIO} times its "
                      f"short side: {path}")
    return (width, height), None


def _load_error(path):
    """The one-line reason `load_image` gives for a file; it fails as fast as the header read did."""
    try:
        load_image(path)
    except TfstyleError as e:
        return str(e)
    except Exception as e:  # noqa: BLE001
        return f"cannot decode ({type(e).__name__}: {' '.join(str(e).split())}): {path}"
    return f"cannot read the image header: {path}"


def _decode_hint(size, resize_to):
    """Long side to ask `load_image` for (0: full size): only when the image will be shrunk."""
    if size is None or resize_to is None:
        return 0
    short, long = min(size), max(size)
    return round(long * resize_to / short) if resize_to < short else 0


def _resize_short_side(image, resize_to, crop_size):
    """Resizes a uint8 image so its short side is `resize_to` (or at least `crop_size`); a no-op when it is."""
    shape = tf.shape(image)
    height, width = shape[0], shape[1]
    short = tf.minimum(height, width)
    target = tf.constant(resize_to, tf.int32) if resize_to is not None else tf.maximum(short, crop_size or 1)
    scale = tf.cast(target, tf.float64) / tf.cast(short, tf.float64)
    new_height = tf.where(height <= width, target, tf.cast(tf.round(tf.cast(height, tf.float64) * scale), tf.int32))
    new_width = tf.where(width <= height, target, tf.cast(tf.round(tf.cast(width, tf.float64) * scale), tf.int32))

    def resized():
        # antialias only acts when shrinking; it keeps small downscales (rounding fixes) from aliasing
        out = tf.image.resize(image, tf.stack([new_height, new_width]), method="bilinear", antialias=True)
        return tf.cast(tf.clip_by_value(tf.round(out), 0.0, 255.0), tf.uint8)

    same = tf.logical_and(tf.equal(new_height, height), tf.equal(new_width, width))
    return tf.ensure_shape(tf.cond(same, lambda: image, resized), [None, None, 3])


def _crop(image, crop_size, random_crop, rand):
    if crop_size is None:
        return image
    if random_crop:
        seed = tf.stack([rand, tf.constant(0, tf.int64)])
        return tf.image.stateless_random_crop(image, [crop_size, crop_size, 3], seed=seed)
    shape = tf.shape(image)
    top = (shape[0] - crop_size) // 2
    left = (shape[1] - crop_size) // 2
    return tf.ensure_shape(image[top:top + crop_size, left:left + crop_size], [crop_size, crop_size, 3])


def _finish(dataset, counter):
    dataset = dataset.prefetch(tf.data.AUTOTUNE)
    dataset.skip_counter = counter
    return dataset


def _derived_seeds(seed, stream):
    """Three op seeds (file shuffle, image shuffle, augmentation) for one stream; all None without a seed."""
    if seed is None:
        return None, None, None
    # SeedSequence spreads nearby seeds (0, 1, 2...) and streams apart; int31 keeps TensorFlow's seed args happy.
    state = np.random.SeedSequence([seed, stream]).generate_state(3)
    return tuple(int(value) & 0x7FFFFFFF for value in state)


def _warn_if_cache_is_large(usable, resize_to, folder):
    total = 0
    for _, size, _ in usable:
        if size is None:
            continue
        short, long = min(size), max(size)
        if resize_to is not None:
            short, long = resize_to, round(long * resize_to / short)
        total += short * long * 3
    if total > _CACHE_WARNING_BYTES:
        logger.warning("cache=True will hold about %.1f GiB of decoded images from %s in memory",
                       total / 2**30, folder)


# --- option checks ---


def _folder_path(folder):
    if not isinstance(folder, (str, os.PathLike)):
        raise OptionError(f"an image folder must be a path, got {folder!r}")
    path = pathlib.Path(folder).expanduser()
    if not path.exists():
        raise OptionError(f"image folder not found: {path}")
    if not path.is_dir():
        raise OptionError(f"not a folder: {path}")
    return path


def _resize_to(resize_to, crop_size):
    if resize_to is None:
        return None
    resize_to = _positive_int(resize_to, "resize_to")
    if resize_to < crop_size:
        raise OptionError(f"resize_to must be at least crop_size so that a crop fits, got resize_to={resize_to}, "
                          f"crop_size={crop_size}")
    return resize_to


def _batch_size(batch_size):
    return None if batch_size is None else _positive_int(batch_size, "batch_size")


def _seed(seed):
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise OptionError(f"seed must be a non-negative integer or None, got {seed!r}")
    return int(seed)


def _deterministic(deterministic, seed):
    if deterministic is None:
        return seed is not None
    if not isinstance(deterministic, bool):
        raise OptionError(f"deterministic must be True, False or None, got {deterministic!r}")
    return deterministic


def _keys(keys):
    if (not isinstance(keys, (tuple, list)) or len(keys) != 2 or not all(isinstance(k, str) and k for k in keys)
            or keys[0] == keys[1]):
        raise OptionError(f"keys must be two different non-empty strings, got {keys!r}")
    return tuple(keys)


def _bool(value, name):
    if not isinstance(value, bool):
        raise OptionError(f"{name} must be True or False, got {value!r}")
    return value


def _pair_of_bools(value, name):
    if isinstance(value, bool):
        return value, value
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(isinstance(v, bool) for v in value):
        return tuple(value)
    raise OptionError(f"{name} must be a bool or a pair of bools, got {value!r}")


def _counter(skip_counter):
    if skip_counter is None:
        return SkipCounter()
    if not isinstance(skip_counter, SkipCounter):
        raise OptionError(f"skip_counter must be a SkipCounter, got {skip_counter!r}")
    return skip_counter
