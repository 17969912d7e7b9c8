"""Stylizing many files with AdaIN: folders of images and videos streamed through one `AdaINStylizer`.

This module's one job is the file side of stylizing many images: listing folders, decoding images in a background
thread while the model runs, batching same-sized images, naming outputs and writing them atomically, and reading
and writing video. The stylization itself (α, style interpolation, colours, masks) is
`tfstyle.adain.inference.AdaINStylizer`; `transfer_folder` and `transfer_video` build one from their options, or
take one already built.

Pre-processing colour modes depend on the content, so for a folder the styles are recoloured and re-encoded per
image; for a video they are matched to the first frame once (colours stay stable from frame to frame and the styles
are encoded once).

Video: GIF is read and written by imageio's Pillow plugin (imageio comes with scikit-image). Other formats (.mp4,
.webm, .mov, .avi, .mkv, .m4v) need the `imageio-ffmpeg` package; without it they fail with one line saying so.
H.264 needs even sides: frames of odd size are padded by one repeated row/column in those files (not in GIFs).

Example:
    >>> from tfstyle.adain import resolve_decoder, transfer_folder, transfer_video
    >>> model = resolve_decoder("vgg16_hed")
    >>> transfer_folder(model, "photos/", "waves.jpg", "out/", alpha=0.8).skipped
    []
    >>> transfer_video(model, "clip.gif", "waves.jpg", "clip_waves.gif", batch_size=4).frames
    48

Reference:
    Huang & Belongie, "Arbitrary Style Transfer in Real-time with Adaptive Instance Normalization", ICCV 2017
    (feed-forward speed makes video practical).
"""

import collections
import concurrent.futures
import contextlib
import dataclasses
import importlib.util
import numbers
import os
import pathlib
import re
import tempfile
import time

import numpy as np
from PIL import Image

from tfstyle import io as image_io
from tfstyle.adain.inference import AdaINStylizer
from tfstyle.errors import ImageError, OptionError, TfstyleError, check_integer

VIDEO_FORMATS = (".gif", ".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm")
"""Video file endings `transfer_video` reads and writes (all but .gif need `imageio-ffmpeg`)."""
DEFAULT_FPS = 24.0
"""Frame rate of a video made from a folder of frames when none is given."""


@dataclasses.dataclass
class BatchResult:
    """Outcome of `transfer_folder`.

    Attributes:
        outputs: `(source, output)` path pairs written, in input order.
        skipped: `(source, reason)` for each input that could not be read or written.
        seconds: wall time of the loop (model building excluded).
    """

    outputs: list
    skipped: list
    seconds: float

    @property
    def seconds_per_image(self):
        return self.seconds / max(1, len(self.outputs))


@dataclasses.dataclass
class VideoResult:
    """Outcome of `transfer_video`.

    Attributes:
        output: the video file or folder of frames written.
        frames: number of frames written.
        fps: frame rate of the output video.
        skipped: `(frame, reason)` for frames that could not be read or did not match the first frame's size.
        seconds: wall time of the loop.
    """

    output: pathlib.Path
    frames: int
    fps: float
    skipped: list
    seconds: float

    @property
    def seconds_per_frame(self):
        return self.seconds / max(1, self.frames)


def list_images(folder, image_files_only=False):
    """Files of a folder in natural order (`frame2` before `frame10`), hidden files left out.

    Args:
        folder: a folder path.
        image_files_only: keep only file endings Pillow knows (for folders of frames, where a stray text file is
            not a frame); otherwise every file is listed so that unreadable ones can be reported.

    Returns:
        List of `pathlib.Path`.
    """
    folder = pathlib.Path(folder)
    if not folder.is_dir():
        raise ImageError(f"not a folder: {folder}")
    known = Image.registered_extensions()
    files = [path for path in folder.iterdir() if path.is_file() and not path.name.startswith(".")
             and (not image_files_only or path.suffix.lower() in known)]
    return sorted(files, key=_natural_key)


def transfer_folder(model, content, styles, output_dir, *, extension=None, batch_size=1, callback=None, **options):
    """Stylize every image of a folder (or a list of files) into `output_dir`, one output per input.

    Each output is named after its input (`photo.jpg` → `output_dir/photo.jpg`), in the input's format when
    `tfstyle.save_image` writes it and as PNG otherwise (or in `extension`); writes are atomic. Unreadable files
    are skipped and reported. Images are decoded in a background thread while the model runs, and consecutive
    images of one size go through the network `batch_size` at a time.

    Args:
        model: a trained `AdaINModel`, or an `AdaINStylizer` (then `options` must be empty).
        content: a folder, or a list of image paths.
        styles: style image(s), see `AdaINStylizer`.
        output_dir: an existing folder, not the content folder.
        extension: output format such as `".png"`; default: the input's.
        batch_size: images per forward pass.
        callback: called as `callback(source, output_path, reason)` after each input (`output_path` None and
            `reason` a one-line message when it was skipped).
        **options: `AdaINStylizer` options (alpha, style_weights, preserve_colors, mask, max_size, ...).

    Returns:
        A `BatchResult`.

    Raises:
        ImageError: a missing output folder, the output folder being the content folder, an unknown extension.

    Example:
        >>> result = transfer_folder(model, "photos/", "waves.jpg", "out/", alpha=0.8)
        >>> len(result.outputs), result.skipped
        (12, [])

    Reference:
        Huang & Belongie, "Arbitrary Style Transfer in Real-time with Adaptive Instance Normalization", ICCV 2017.
    """
    start = time.perf_counter()
    output_dir = pathlib.Path(output_dir)
    if not output_dir.is_dir():
        raise ImageError(f"output folder does not exist: {output_dir}")
    if extension is not None and extension.lower() not in image_io.OUTPUT_FORMATS:
        raise ImageError(f"unsupported output format {extension!r} (use {', '.join(image_io.OUTPUT_FORMATS)})")
    if isinstance(content, (str, os.PathLike)):
        if pathlib.Path(content).resolve() == output_dir.resolve():
            raise ImageError(f"the output folder is the content folder: the results would replace the inputs: "
                             f"{output_dir}")
        sources = list_images(content)
    else:
        sources = [pathlib.Path(path) for path in content]
    batch_size = check_integer("batch_size", batch_size)
    stylizer = _stylizer(model, styles, options)
    outputs, skipped, used = [], [], set()

    def report(source, path, reason):
        (outputs.append((source, path)) if reason is None else skipped.append((source, reason)))
        if callback is not None:
            callback(source, path, reason)

    def flush(pending):
        if not pending:
            return
        try:
            results = stylizer(np.stack([image for _, image in pending]))
        except TfstyleError as error:  # e.g. a mask of another aspect ratio: the batch shares the image size
            for source, _ in pending:
                report(source, None, str(error))
            pending.clear()
            return
        for (source, _), result in zip(pending, results):
            path = output_dir / _output_name(source, extension, used)
            try:
                image_io.save_image(path, result)
            except TfstyleError as error:
                report(source, None, str(error))
            else:
                report(source, path, None)
        pending.clear()

    def load(path):
        return image_io.load_image(path, max_size=stylizer.max_size)

    pending = []
    for source, future in _prefetched(sources, load):
        try:
            image = future.result()
        except TfstyleError as error:
            flush(pending)  # keep the reports in input order
            report(source, None, str(error))
            continue
        if pending and (image.shape != pending[0][1].shape or len(pending) >= batch_size):
            flush(pending)
        pending.append((source, image))
    flush(pending)
    return BatchResult(outputs, skipped, time.perf_counter() - start)


def transfer_video(model, source, styles, output, *, fps=None, batch_size=1, callback=None, **options):
    """Stylize a video file or a folder of frames into a video file or a folder of frames.

    The styles are encoded once for the whole video; with a pre-processing colour mode they are recoloured to the
    first frame. Frames are streamed: the input is never held in memory whole (a GIF output is, by Pillow). The
    output file is written to a temporary file next to it and renamed at the end, so an existing video is only
    replaced by a complete one.

    Args:
        model: a trained `AdaINModel`, or an `AdaINStylizer` (then `options` must be empty).
        source: a video file (see `VIDEO_FORMATS`) or a folder of frames (image files in natural name order).
        styles: style image(s).
        output: a video file path (.gif, .mp4, ...) or an existing folder (frames written as
            `frame_000001.png`, ...).
        fps: output frame rate; default the source's (a folder of frames: `DEFAULT_FPS`).
        batch_size: frames per forward pass.
        callback: called as `callback(frame_label, reason)` after each frame (`reason` None when it was written).
        **options: `AdaINStylizer` options.

    Returns:
        A `VideoResult`.

    Raises:
        ImageError: unreadable video, no frames, missing backend for the format, missing output folder.

    Example:
        >>> transfer_video(model, "clip.gif", "waves.jpg", "clip_waves.gif", alpha=0.8).frames
        48

    Reference:
        Huang & Belongie, "Arbitrary Style Transfer in Real-time with Adaptive Instance Normalization", ICCV 2017
        (feed-forward speed makes video practical).
    """
    start = time.perf_counter()
    source, output = pathlib.Path(source), pathlib.Path(output)
    to_folder = output.is_dir()
    if not to_folder:
        _check_video_path(output, "writing")
    if fps is not None and (isinstance(fps, bool) or not isinstance(fps, numbers.Real) or not 0 < fps < 1000):
        raise OptionError(f"fps must be a number in (0, 1000); Received: fps={fps!r}")
    batch_size = check_integer("batch_size", batch_size)
    max_size = model.max_size if isinstance(model, AdaINStylizer) else options.get("max_size")
    frames, source_fps = _read_frames(source, max_size)
    fps = float(fps or source_fps or DEFAULT_FPS)
    skipped, written = [], 0
    first_frame = None
    stylizer = None
    size = None

    def note(label, reason=None):
        if reason is not None:
            skipped.append((label, reason))
        if callback is not None:
            callback(label, reason)

    with contextlib.ExitStack() as stack:
        sink = None if to_folder else stack.enter_context(_VideoWriter(output, fps))
        pending = []

        def flush():
            nonlocal written
            if not pending:
                return
            results = stylizer(np.stack([frame for _, frame in pending]))
            for (label, _), result in zip(pending, results):
                written += 1
                if to_folder:
                    image_io.save_image(output / f"frame_{written:06d}.png", result)
                else:
                    sink.append(result)
                note(label)
            pending.clear()

        for label, frame in frames:
            if isinstance(frame, TfstyleError):
                note(label, str(frame))
                continue
            if first_frame is None:
                first_frame = frame
                if isinstance(model, AdaINStylizer):
                    stylizer = _stylizer(model, styles, options)
                else:
                    reference = frame if options.get("preserve_colors") else None
                    stylizer = AdaINStylizer(model, styles, color_reference=reference, **options)
                size = frame.shape
            if frame.shape != size:
                note(label, f"frame is {frame.shape[1]}x{frame.shape[0]} pixels but the first frame is "
                            f"{size[1]}x{size[0]}")
                continue
            pending.append((label, frame))
            if len(pending) >= batch_size:
                flush()
        flush()
        if written == 0:
            raise ImageError(f"no readable frames in {source}")
    return VideoResult(output, written, fps, skipped, time.perf_counter() - start)


def video_backend_missing(path, action="writing"):
    """The one-line reason `path`'s video format cannot be read or written here, or None when it can.

    Example:
        >>> video_backend_missing("clip.mp4")        # without imageio-ffmpeg
        'writing .mp4 video needs the imageio-ffmpeg package (pip install imageio-ffmpeg); .gif and folders ...'
    """
    suffix = pathlib.Path(path).suffix.lower()
    if suffix not in VIDEO_FORMATS:
        return f"unsupported video format {suffix or '(none)'!r} (use {', '.join(VIDEO_FORMATS)}): {path}"
    if importlib.util.find_spec("imageio") is None:
        return f"{action} {suffix} video needs the imageio package (pip install imageio)"
    if suffix != ".gif" and importlib.util.find_spec("imageio_ffmpeg") is None:
        return (f"{action} {suffix} video needs the imageio-ffmpeg package (pip install imageio-ffmpeg); .gif and "
                f"folders of frames work without it")
    return None

# --- helpers -------------------------------------------------------------------------------------------------------


def _stylizer(model, styles, options):
    if isinstance(model, AdaINStylizer):
        if options:
            raise OptionError(f"options {', '.join(sorted(options))} belong to the AdaINStylizer already given")
        return model
    return AdaINStylizer(model, styles, **options)


def _natural_key(path):
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


def _output_name(source, extension, used):
    """`photo.jpg` → `photo.jpg` (or `photo.png` for formats save_image does not write); unique within a run."""
    source = pathlib.Path(source)
    suffix = extension or (source.suffix if source.suffix.lower() in image_io.OUTPUT_FORMATS else ".png")
    name = f"{source.stem}{suffix}"
    if name.lower() in used:  # photo.gif and photo.png would both become photo.png
        name = f"{source.stem}_{source.suffix.lstrip('.').lower()}{suffix}"
    used.add(name.lower())
    return name


def _prefetched(items, load, ahead=2):
    """Yield `(item, future)` with `load(item)` running in a background thread up to `ahead` items early."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        queue = collections.deque()
        iterator = iter(items)
        for item in iterator:
            queue.append((item, pool.submit(load, item)))
            if len(queue) > ahead:
                yield queue.popleft()
        while queue:
            yield queue.popleft()


def _check_video_path(path, action):
    reason = video_backend_missing(path, action)
    if reason:
        raise ImageError(reason)
    if action == "writing" and not path.parent.is_dir():
        raise ImageError(f"output folder does not exist: {path.parent}")


def _read_frames(source, max_size):
    """`(iterator of (label, frame or TfstyleError), fps or None)` for a video file or a folder of frames."""
    if source.is_dir():
        paths = list_images(source, image_files_only=True)
        if not paths:
            raise ImageError(f"no image files in {source}")

        def from_folder():
            for path, future in _prefetched(paths, lambda p: image_io.load_image(p, max_size=max_size)):
                try:
                    yield path, future.result()
                except TfstyleError as error:
                    yield path, error

        return from_folder(), None
    if not source.exists():
        raise ImageError(f"video not found: {source}")
    _check_video_path(source, "reading")
    import imageio.v3 as iio  # lazy: only videos need it

    try:
        meta = iio.immeta(source)
    except Exception as error:  # imageio raises OSError, ValueError or a plugin's own error on a bad file
        raise ImageError(f"cannot read video ({_reason(error)}): {source}") from None
    fps = meta.get("fps")
    if not fps and meta.get("duration"):
        duration = meta["duration"]  # GIF: milliseconds per frame (of the first frame)
        fps = 1000.0 / float(duration) if isinstance(duration, numbers.Real) and duration > 0 else None

    def from_file():
        try:
            for index, frame in enumerate(iio.imiter(source)):
                yield f"{source} frame {index + 1}", image_io.load_image(frame, max_size=max_size)
        except TfstyleError:
            raise
        except Exception as error:
            raise ImageError(f"cannot read video ({_reason(error)}): {source}") from None

    return from_file(), fps


def _reason(error):
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return " ".join(text.split())[:200]


class _VideoWriter:
    """Append frames to a temporary video file next to `path`; renamed to `path` only when closed without error."""

    def __init__(self, path, fps):
        self.path = pathlib.Path(path)
        self.fps = float(fps)
        self._writer = None
        self._temporary = None

    def __enter__(self):
        import imageio.v2 as imageio  # lazy: only videos need it

        suffix = self.path.suffix.lower()
        fd, name = tempfile.mkstemp(suffix=suffix, prefix=f".{self.path.stem}.", dir=self.path.parent)
        os.close(fd)
        self._temporary = pathlib.Path(name)
        try:
            if suffix == ".gif":
                # Pillow's GIF writer takes milliseconds per frame; loop=0 repeats forever like most GIFs
                self._writer = imageio.get_writer(self._temporary, format="GIF", mode="I",
                                                  duration=1000.0 / self.fps, loop=0)
            else:
                # append() pads frames to even sides (H.264 needs them), so imageio-ffmpeg has nothing to rescale
                self._writer = imageio.get_writer(self._temporary, format="FFMPEG", mode="I", fps=self.fps,
                                                  macro_block_size=1, quality=8)
        except Exception as error:
            self._temporary.unlink(missing_ok=True)
            raise ImageError(f"cannot write video ({_reason(error)}): {self.path}") from None
        return self

    def append(self, frame):
        frame = np.round(np.clip(frame, 0.0, 1.0) * 255.0).astype(np.uint8)
        if self.path.suffix.lower() != ".gif":
            # repeat the last row/column rather than rescale: an odd-sized frame keeps its pixels
            frame = np.pad(frame, ((0, frame.shape[0] % 2), (0, frame.shape[1] % 2), (0, 0)), mode="edge")
        self._writer.append_data(frame)

    def __exit__(self, kind, error, traceback):
        try:
            self._writer.close()
            if kind is None:
                os.chmod(self._temporary, 0o666 & ~image_io.current_umask())
                os.replace(self._temporary, self.path)
        except Exception as close_error:
            if kind is None:
                raise ImageError(f"cannot write video ({_reason(close_error)}): {self.path}") from None
        finally:
            self._temporary.unlink(missing_ok=True)
        return False
