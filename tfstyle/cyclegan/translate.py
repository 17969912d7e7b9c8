"""Translate images of any size with a trained CycleGAN generator: one image, a list, a batch, or a folder.

A generator takes images whose height and width are multiples of its `size_multiple` (4 for the ResNet
generator: two stride-2 convolutions; 2^depth for the U-Net). `Translator` lets images of any size through:

1. the image (float32 in [0, 1]) is padded on all four sides (centred: the extra row of an odd amount goes to the
   bottom/right) up to the next multiple of `size_multiple`, and to at least the generator's smallest usable side
   (8 for the ResNet generator, whose residual blocks reflect-pad the 1/4-resolution map by 1; `size_multiple`
   for others);
2. it is mapped to [-1, 1] (`2x − 1`), run through the generator, mapped back (`(y + 1) / 2`) and clipped to
   [0, 1];
3. the padding is cropped off, so the result has exactly the input's size.

Padding is by reflection without repeating the border pixel (numpy "reflect", like `ReflectionPadding2D` and the
generators' own padding), so the generator sees image-like content around the image and its instance norms get
statistics close to the image's own. A reflection cannot reach further than the image: on an axis where a pad is
as large as the image side (tiny images, or a deep U-Net's large multiple) that axis is padded "symmetric"
instead (mirror tiling that repeats the border pixel, continued as far as needed; a 1-pixel side becomes a
constant), which is still seamless at the image border.

The generator runs as one `tf.function` traced once with a (None, None, None, 3) input signature: every image
size and batch size reuses that trace (3 different sizes: 1 trace), and the trace is kept per model, so later
calls and `translate_folder` reuse it too.

Memory grows with the padded pixel count (a 64-filter ResNet generator holds several float32 maps of 64 channels
at full resolution: about 2 GB each at 8 megapixels). `max_pixels` (default `DEFAULT_MAX_PIXELS`, 2^23, about
2900 × 2900; environment variable `TFSTYLE_TRANSLATE_MAX_PIXELS` when left at the default; None or 0: no limit)
refuses larger images with one line that names the remedies (`max_size` downscales, `max_pixels` raises the
limit), and caps batches so that batch × padded pixels stays under it.

Example:
    >>> from tfstyle.cyclegan import load_generator, translate, translate_folder
    >>> generator = load_generator("runs/photo2ink")                    # generator_ab.keras of a work folder
    >>> ink = translate(generator, "photo.jpg")                         # float32 (H, W, 3) in [0, 1], any size
    >>> result = translate_folder(generator, "photos/", "ink/", extension=".png", batch_size=4)
    >>> print(result.summary())
    12 images translated, 1 skipped: not an image (Pillow cannot identify it): photos/notes.txt

Reference:
    Zhu, Park, Isola & Efros, "Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial Networks",
    ICCV 2017.
"""

import collections
import concurrent.futures
import dataclasses
import numbers
import os
import pathlib
import re
import time
import weakref

import numpy as np

from tfstyle import io as image_io
from tfstyle.cyclegan.pretrained import as_generator
from tfstyle.errors import ImageError, OptionError, TfstyleError, check_integer

DEFAULT_MAX_PIXELS = 2 ** 23
"""Padded pixels per image (and per batch) `translate` accepts by default: about 2900 × 2900."""
MAX_PIXELS_ENV = "TFSTYLE_TRANSLATE_MAX_PIXELS"


class Translator:
    """A generator with its padding, size limits and compiled forward pass, applied to any number of images.

    Args:
        generator: a `Generator` (`load_generator`), a generator `keras.Model`, or a source for `load_generator`
            (a `.keras` file, a training work folder, a shipped name).
        direction: for a work folder: "ab" (default) or "ba".
        batch_size: images of one size per forward pass (capped so that batch × padded pixels ≤ `max_pixels`).
        max_size: downscale images whose long side exceeds this before translating (None: never).
        max_pixels: largest padded image, in pixels (see the module docstring); None or 0: no limit.

    Raises:
        OptionError: bad option values. WeightsError: a generator source that cannot be loaded.

    Example:
        >>> translator = Translator("runs/photo2ink", direction="ba", max_size=1024)
        >>> photos = [translator(image) for image in inks]        # one trace for every size
    """

    def __init__(self, generator, *, direction=None, batch_size=1, max_size=None, max_pixels=DEFAULT_MAX_PIXELS):
        self.generator = as_generator(generator, direction)
        self.batch_size = check_integer("batch_size", batch_size)
        self.max_size = None if max_size is None else check_integer("max_size", max_size)
        self.max_pixels = _pixel_limit(max_pixels)
        self.multiple = self.generator.size_multiple
        self.min_side = _min_side(self.generator)
        self._function = _compiled(self.generator.model)

    @property
    def traces(self):
        """How many times the forward pass has been traced (1 after any number of sizes)."""
        return self._function.experimental_get_tracing_count()

    def __call__(self, images):
        """Translate one image, a list of images (any sizes) or a batch (B, H, W, 3).

        Args:
            images: anything `tfstyle.load_image` accepts (a path, `sample:NAME`, a PIL image, an array in
                [0, 1]), a list of them, or a 4-D array.

        Returns:
            float32 in [0, 1]: (H, W, 3) for one image, (B, H, W, 3) for a batch, a list for a list; each result
            has its input's size (after `max_size`).

        Raises:
            ImageError: an unreadable image, or one over `max_pixels`. OptionError: an empty list.
        """
        if (isinstance(images, np.ndarray) or hasattr(images, "numpy")) and np.ndim(images) == 4:
            items, kind = list(np.asarray(images)), "batch"
        elif isinstance(images, (list, tuple)):
            items, kind = list(images), "list"
        else:
            items, kind = [images], "single"
        if not items:
            raise OptionError("no images given")
        loaded = [self.load(item) for item in items]
        results = [None] * len(loaded)
        by_shape = collections.defaultdict(list)
        for index, image in enumerate(loaded):
            by_shape[image.shape].append(index)
        for indices in by_shape.values():
            step = self.batch_limit(*loaded[indices[0]].shape[:2])
            for start in range(0, len(indices), step):
                chunk = indices[start:start + step]
                for index, result in zip(chunk, self.run(np.stack([loaded[i] for i in chunk]))):
                    results[index] = result
        if kind == "single":
            return results[0]
        return np.stack(results) if kind == "batch" else results

    def load(self, source):
        """`tfstyle.load_image(source, max_size)`, refused with one line when its padded size is over the limit."""
        image = image_io.load_image(source, max_size=self.max_size)
        self.check_size(*image.shape[:2], label=source if isinstance(source, (str, os.PathLike)) else None)
        return image

    def padded_size(self, height, width):
        """The `(height, width)` the generator runs at for an image of this size."""
        return tuple(max(self.min_side, -(-side // self.multiple) * self.multiple) for side in (height, width))

    def check_size(self, height, width, label=None):
        """Raise `ImageError` when an image of this size is over `max_pixels` once padded."""
        padded_height, padded_width = self.padded_size(height, width)
        if self.max_pixels and padded_height * padded_width > self.max_pixels:
            where = f": {label}" if label is not None else ""
            raise ImageError(f"image too large to translate: {width}x{height} pixels ({padded_width}x{padded_height} "
                             f"padded) exceeds max_pixels={self.max_pixels}, which keeps the generator's memory in "
                             f"bounds; downscale it with max_size (--max-size) or raise the limit with max_pixels "
                             f"(--max-pixels, 0 for none){where}")

    def batch_limit(self, height, width):
        """Images of this size per forward pass: `batch_size`, fewer if the batch would exceed `max_pixels`."""
        if not self.max_pixels:
            return self.batch_size
        padded_height, padded_width = self.padded_size(height, width)
        return max(1, min(self.batch_size, self.max_pixels // (padded_height * padded_width)))

    def run(self, images):
        """Translate a batch (B, H, W, 3) of same-sized float32 images in [0, 1]; returns (B, H, W, 3) in [0, 1]."""
        import tensorflow as tf

        images = np.asarray(images, dtype=np.float32)
        height, width = images.shape[1:3]
        padded, (top, left) = pad_to_size(images, self.padded_size(height, width))
        try:
            output = self._function(padded).numpy()
        except tf.errors.ResourceExhaustedError:
            raise ImageError(f"not enough memory to translate {len(images)} image(s) of {width}x{height} pixels "
                             f"({padded.shape[2]}x{padded.shape[1]} padded); lower batch_size (--batch-size) or "
                             f"downscale with max_size (--max-size)") from None
        except tf.errors.InvalidArgumentError as error:
            raise OptionError(f"generator {self.generator.name} failed on a {padded.shape[2]}x{padded.shape[1]} "
                              f"input (is its size_multiple {self.multiple} right?): "
                              f"{_first_line(error.message)}") from None
        if output.shape != padded.shape:
            raise OptionError(f"generator {self.generator.name} returned {output.shape[2]}x{output.shape[1]} images "
                              f"for {padded.shape[2]}x{padded.shape[1]} inputs; its size_multiple "
                              f"({self.multiple}) must be wrong")
        return output[:, top:top + height, left:left + width]


def translate(generator, images, *, direction=None, batch_size=1, max_size=None, max_pixels=DEFAULT_MAX_PIXELS):
    """Translate images of any size with a CycleGAN generator (padding, [0, 1] ↔ [-1, 1], cropping back).

    Args:
        generator: a `Generator`, a generator `keras.Model`, or a `.keras` file / work folder / shipped name.
        images: one image (anything `tfstyle.load_image` accepts), a list of them (any sizes), or a batch
            (B, H, W, 3) in [0, 1].
        direction: for a work folder: "ab" (default) or "ba".
        batch_size: same-sized images per forward pass.
        max_size: downscale images whose long side exceeds this first (None: never).
        max_pixels: refuse images over this many pixels once padded (None or 0: no limit).

    Returns:
        float32 in [0, 1] of the inputs' sizes: (H, W, 3) for one image, (B, H, W, 3) for a batch, a list for
        a list.

    Raises:
        ImageError: an unreadable or too large image. WeightsError: a generator that cannot be loaded.
        OptionError: bad option values.

    Example:
        >>> generator = build_generator("unet", depth=3, filters=4)          # untrained, for the shapes
        >>> translate(generator, np.random.rand(37, 53, 3)).shape
        (37, 53, 3)

    Reference:
        Zhu, Park, Isola & Efros, "Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial
        Networks", ICCV 2017.
    """
    translator = Translator(generator, direction=direction, batch_size=batch_size, max_size=max_size,
                            max_pixels=max_pixels)
    return translator(images)


def pad_to_size(images, size):
    """Pad (B, H, W, C) images centred to `size` = (height, width): reflection, or symmetric where it cannot reach.

    Args:
        images: array (B, H, W, C).
        size: target `(height, width)`, each at least the image's.

    Returns:
        `(padded, (top, left))`: the padded array and where the image starts in it.

    Example:
        >>> padded, (top, left) = pad_to_size(np.arange(3.0).reshape(1, 1, 3, 1), (1, 6))
        >>> padded.ravel(), left                   # [0, 1, 2] reflected: one column left, two right
        (array([1., 0., 1., 2., 1., 0.]), 1)
    """
    images = np.asarray(images)
    starts = []
    for axis, target in zip((1, 2), size):
        side = images.shape[axis]
        extra = target - side
        if extra < 0:
            raise OptionError(f"cannot pad a side of {side} pixels to {target}")
        before, after = extra // 2, extra - extra // 2
        starts.append(before)
        if extra:
            widths = [(0, 0)] * images.ndim
            widths[axis] = (before, after)
            mode = "reflect" if max(before, after) < side else "symmetric"
            images = np.pad(images, widths, mode=mode)
    return images, tuple(starts)


# --- folders -------------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class TranslationResult:
    """Outcome of `translate_folder`.

    Attributes:
        outputs: `(source, output)` path pairs written, in input order.
        skipped: `(source, reason)` for each input that could not be read, translated or written.
        seconds: wall time of the loop (loading the generator excluded).
    """

    outputs: list
    skipped: list
    seconds: float

    @property
    def written(self):
        return len(self.outputs)

    @property
    def seconds_per_image(self):
        return self.seconds / max(1, len(self.outputs))

    def summary(self):
        """One line: how many images were written, how many skipped and why."""
        noun = "image" if len(self.outputs) == 1 else "images"
        line = f"{len(self.outputs)} {noun} translated"
        if self.skipped:
            line += f", {len(self.skipped)} skipped: " + "; ".join(reason for _, reason in self.skipped)
        return line


def list_inputs(inputs, recursive=False):
    """The files to translate, each with the relative name its output takes.

    Args:
        inputs: a folder, one file, or a list of files and folders. A folder gives its files (hidden ones left
            out) in natural order (`2.png` before `10.png`), with subfolders when `recursive`; every file is
            listed, so that files that are not images are reported rather than silently passed over.
            `sample:NAME` strings are built-in samples.
        recursive: include subfolders (outputs keep their relative folders).

    Returns:
        List of `(source, relative_path)`: `source` a `pathlib.Path` (or a `sample:` string).

    Raises:
        ImageError: a named file or folder that does not exist, or nothing to translate.
    """
    items = [inputs] if isinstance(inputs, (str, os.PathLike)) else list(inputs)
    found = []
    for item in items:
        if isinstance(item, str) and item.startswith(image_io.SAMPLE_PREFIX):
            found.append((item, pathlib.PurePath(item[len(image_io.SAMPLE_PREFIX):] + ".png")))
            continue
        path = pathlib.Path(item).expanduser()
        if path.is_dir():
            files = _folder_files(path, recursive)
            if not files:
                raise ImageError(f"no files to translate in {path}")
            found.extend((file, file.relative_to(path)) for file in files)
        elif path.exists():
            found.append((path, pathlib.PurePath(path.name)))
        else:
            raise ImageError(f"image not found: {path}")
    if not found:
        raise ImageError("no images given")
    return found


def output_names(sources, extension=None):
    """Output relative paths for `list_inputs` entries: the input's name, in `extension` or its own format.

    The input's format is kept when `tfstyle.save_image` writes it, otherwise the output is PNG. Names that
    would clash (`a.gif` and `a.png` both giving `a.png`, or two `a.jpg` from different folders) get the input's
    format added (`a_gif.png`), then a number (`a_2.jpg`).
    """
    used, names = set(), []
    for source, relative in sources:
        suffix = extension or (relative.suffix if relative.suffix.lower() in image_io.OUTPUT_FORMATS else ".png")
        stem = relative.parent / relative.stem
        candidate = stem.with_name(stem.name + suffix)
        if candidate.as_posix().lower() in used:
            candidate = stem.with_name(f"{stem.name}_{relative.suffix.lstrip('.').lower() or 'image'}{suffix}")
        number = 2
        base = candidate
        while candidate.as_posix().lower() in used:
            candidate = base.with_name(f"{base.stem}_{number}{suffix}")
            number += 1
        used.add(candidate.as_posix().lower())
        names.append(candidate)
    return names


def translate_folder(generator, inputs, output_dir, *, direction=None, extension=None, batch_size=1, max_size=None,
                     max_pixels=DEFAULT_MAX_PIXELS, recursive=False, callback=None):
    """Translate every image of a folder (or a list of files) into `output_dir`, one output per input.

    Each output is named after its input (`photos/a.jpg` → `output_dir/a.jpg`; with `recursive`, subfolders are
    kept: `photos/x/a.jpg` → `output_dir/x/a.jpg`), in the input's format when `tfstyle.save_image` writes it and
    PNG otherwise (or in `extension`); writes are atomic. No output may replace an input: such a run is refused
    before anything is written. Files that cannot be read, are too large or cannot be written are skipped and
    reported (`callback`, `TranslationResult.skipped`). Images are decoded in a background thread while the
    generator runs, and consecutive images of one size go through it `batch_size` at a time.

    Args:
        generator: a `Generator`, a generator `keras.Model`, or a `.keras` file / work folder / shipped name
            (or a `Translator`, then the size options must be left at their defaults).
        inputs: a folder, a file, or a list of files and folders (see `list_inputs`).
        output_dir: an existing folder.
        direction: for a work folder: "ab" (default) or "ba".
        extension: output format such as ".png"; default: each input's.
        batch_size: same-sized images per forward pass.
        max_size: downscale images whose long side exceeds this first (None: never).
        max_pixels: skip images over this many pixels once padded (None or 0: no limit).
        recursive: include the subfolders of input folders.
        callback: called as `callback(source, output_path, reason)` after each input (`output_path` None and
            `reason` a one-line message when it was skipped).

    Returns:
        A `TranslationResult`.

    Raises:
        ImageError: a missing output folder or input, an output that would replace an input, an unknown extension.

    Example:
        >>> result = translate_folder("runs/photo2ink", "photos/", "ink/", batch_size=4)
        >>> result.written, result.skipped
        (12, [])
    """
    output_dir = pathlib.Path(output_dir).expanduser()
    if not output_dir.is_dir():
        raise ImageError(f"output folder does not exist: {output_dir}" if not output_dir.exists()
                         else f"not a folder: {output_dir}")
    if extension is not None:
        extension = extension if extension.startswith(".") else f".{extension}"
        if extension.lower() not in image_io.OUTPUT_FORMATS:
            raise ImageError(f"unsupported output format {extension!r} (use {', '.join(image_io.OUTPUT_FORMATS)})")
    sources = list_inputs(inputs, recursive=recursive)
    targets = [output_dir / name for name in output_names(sources, extension)]
    originals = {_resolved(source) for source, _ in sources if isinstance(source, pathlib.Path)}
    for target in targets:
        if _resolved(target) in originals:
            raise ImageError(f"the output would replace an input: {target}; choose another output folder or format")
    if isinstance(generator, Translator):
        if (direction, batch_size, max_size, max_pixels) != (None, 1, None, DEFAULT_MAX_PIXELS):
            raise OptionError("direction, batch_size, max_size and max_pixels belong to the Translator already given")
        translator = generator
    else:
        translator = Translator(generator, direction=direction, batch_size=batch_size, max_size=max_size,
                                max_pixels=max_pixels)

    start = time.perf_counter()
    outputs, skipped = [], []

    def report(source, path, reason):
        (outputs.append((source, path)) if reason is None else skipped.append((source, reason)))
        if callback is not None:
            callback(source, path, reason)

    def flush(pending):
        if not pending:
            return
        try:
            results = translator.run(np.stack([image for _, _, image in pending]))
        except TfstyleError as error:  # out of memory: the whole batch shares the reason
            for source, _, _ in pending:
                report(source, None, str(error))
            pending.clear()
            return
        for (source, target, _), result in zip(pending, results):
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                image_io.save_image(target, result)
            except OSError as error:
                report(source, None, f"cannot create folder {target.parent} ({_first_line(error)})")
            except TfstyleError as error:
                report(source, None, str(error))
            else:
                report(source, target, None)
        pending.clear()

    pending = []
    for (source, target), future in _prefetched(list(zip((s for s, _ in sources), targets)), translator.load):
        try:
            image = future.result()
        except TfstyleError as error:
            flush(pending)  # keep the reports in input order
            report(source, None, str(error))
            continue
        if pending and (image.shape != pending[0][2].shape
                        or len(pending) >= translator.batch_limit(*pending[0][2].shape[:2])):
            flush(pending)
        pending.append((source, target, image))
    flush(pending)
    return TranslationResult(outputs, skipped, time.perf_counter() - start)


# --- helpers -------------------------------------------------------------------------------------------------------


_COMPILED = weakref.WeakKeyDictionary()


def _compiled(model):
    """The generator's forward pass on [0, 1] images as a `tf.function` traced once for every size, per model."""
    if model in _COMPILED:
        return _COMPILED[model]
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec((None, None, None, 3), tf.float32)])
    def forward(images):
        output = model(images * 2.0 - 1.0, training=False)
        return tf.clip_by_value((tf.cast(output, tf.float32) + 1.0) * 0.5, 0.0, 1.0)

    _COMPILED[model] = forward
    return forward


def _min_side(generator):
    """The smallest side the generator runs at: 2 × size_multiple for the ResNet generator, else size_multiple."""
    from tfstyle.cyclegan.generators import ResNetGenerator

    multiple = generator.size_multiple
    # Its residual blocks reflect-pad the 1/4-resolution map by 1 pixel, which needs at least 2 pixels there.
    return 2 * multiple if isinstance(generator.model, ResNetGenerator) else multiple


def _pixel_limit(max_pixels):
    if max_pixels is DEFAULT_MAX_PIXELS and os.environ.get(MAX_PIXELS_ENV):
        text = os.environ[MAX_PIXELS_ENV]
        try:
            max_pixels = int(text)
        except ValueError:
            raise OptionError(f"{MAX_PIXELS_ENV} must be a whole number (0 for no limit); Received: {text!r}") from None
    if max_pixels is None or max_pixels == 0:
        return None
    if isinstance(max_pixels, bool) or not isinstance(max_pixels, numbers.Integral) or max_pixels < 0:
        raise OptionError(f"max_pixels must be a whole number >= 0 or None; Received: max_pixels={max_pixels!r}")
    return int(max_pixels)



def _folder_files(folder, recursive):
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")) if recursive else []
        found.extend(pathlib.Path(root) / name for name in files if not name.startswith("."))
    return sorted(found, key=lambda path: _natural_key(path.relative_to(folder)))


def _natural_key(relative):
    return [[int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]
            for name in relative.parts]


def _resolved(path):
    return pathlib.Path(path).expanduser().resolve()


def _prefetched(items, load, ahead=2):
    """Yield `(item, future)` with `load(item[0])` running in a background thread up to `ahead` items early."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        queue = collections.deque()
        for item in items:
            queue.append((item, pool.submit(load, item[0])))
            if len(queue) > ahead:
                yield queue.popleft()
        while queue:
            yield queue.popleft()


def _first_line(error):
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return " ".join(text.split())[:200]

