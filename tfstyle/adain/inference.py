"""AdaIN inference controls: α, style interpolation, colour preservation, masks, any size, folders and video.

Everything here drives a trained `AdaINModel` (its `encode`, `adain` and `decode`); nothing re-implements it. With
f the encoder (at `model.encoder_layer`), g the decoder, c the content and s_k the style images:

- content–style trade-off: `t = α·T + (1 − α)·f(c)`, output `g(t)`; α = 0 decodes the content's own features.
- style interpolation: `T = Σ_k w_k AdaIN(f(c), f(s_k))` with the weights normalised to sum to 1.
- colour preservation: `"coral"` or `"histogram"` recolour each style image to the content's colours before it is
  encoded (`tfstyle.ops.colour.coral` / `match_histograms`); `"luminance"` transfers on luminance only as
  `tfstyle.stylize` does: grey content, styles turned grey with their luminance matched to the content's
  (`match_luminance`), then the content's chroma put back with `transfer_luminance`.
- spatial control (`mask`): each style gets a region of the content; a feature position belongs to at most one
  region, and inside region k, `T = AdaIN_k(f(c), f(s_k))` where the content's mean and standard deviation are
  computed over the positions of region k only, while the style's statistics are those of the whole style image
  s_k. Positions in no region keep f(c) (no style). Region statistics are what makes a region look like its style:
  normalising with the statistics of the whole content image would carry the region's offset from the rest of the
  image (a dark sky under bright fields) into the result, so the region would not get s_k's statistics. This is
  what Huang & Belongie's code does (it AdaINs the foreground and background feature vectors separately).

Masks: white = 1, black = 0 (the luminance of the mask image; transparent pixels count as white). With one style,
the style applies where the mask is white and the content is kept where it is black. With two styles and one mask,
style 1 goes where the mask is white and style 2 where it is black. With three or more styles, one mask is a label
image (`tfstyle.masks.split_labels`: K colours, darkest = style 1, or K + 1 with the darkest unstyled). A list of
one mask per style gives each style its own mask. Masks must have the content's aspect ratio; they are resized to
the content's size and then to the feature grid with nearest-neighbour sampling (no blurred borders, no invented
regions) and thresholded at 0.5; where masks overlap the larger value (then the first style) wins.

Any size: the content is padded by reflection up to a multiple of the encoder's downsampling factor (8 at relu4_1;
at least twice the factor; plus an optional `border` on every side) and the output is cropped back, so a 37 × 45
image comes back 37 × 45.
`max_size` caps the long side (downscaling only); it is None (no cap) in the library, because an array the caller
passes is taken at its size, and 1024 in the CLI. Style images are used as given unless `style_size` caps them (512
in the CLI, the reference code's default: AdaIN's statistics depend on the scale of the brush strokes).

Many images: `AdaINStylizer` encodes the style images once and is then applied to any number of content images or
frames; `transfer_folder` and `transfer_video` stream files through it (images decoded in a background thread
while the model runs). Pre-processing colour modes depend on the content, so for a folder the styles are
recoloured and re-encoded per image; for a video they are matched to the first frame once (colours stay stable
from frame to frame and the styles are encoded once).

Video: GIF is read and written by imageio's Pillow plugin (imageio comes with scikit-image). Other formats (.mp4,
.webm, .mov, .avi, .mkv, .m4v) need the `imageio-ffmpeg` package; without it they fail with one line saying so.
H.264 needs even sides: frames of odd size are padded by one repeated row/column in those files (not in GIFs).

Example:
    >>> from tfstyle.adain import resolve_decoder, transfer
    >>> model = resolve_decoder("vgg16_hed")
    >>> image = transfer(model, "photo.jpg", ["monet.jpg", "hokusai.jpg"], style_weights=[3, 1], alpha=0.8)
    >>> image = transfer(model, "photo.jpg", ["sky.jpg", "ground.jpg"], mask="sky_mask.png")

Reference:
    Huang & Belongie, "Arbitrary Style Transfer in Real-time with Adaptive Instance Normalization", ICCV 2017
    (sec. 7.3, runtime controls); Gatys et al., "Controlling Perceptual Factors in Neural Style Transfer", CVPR 2017.
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
import weakref

import numpy as np
from keras import ops
from PIL import Image

from tfstyle import io as image_io
from tfstyle.adain.model import check_alpha
from tfstyle.errors import ImageError, OptionError, TfstyleError
from tfstyle.masks import load_mask, split_labels
from tfstyle.ops import colour
from tfstyle.ops.masks import masked_mean_std
from tfstyle.ops.moments import mean_std

COLOR_MODES = colour.COLOR_MODES
VIDEO_FORMATS = (".gif", ".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm")
"""Video file endings `transfer_video` reads and writes (all but .gif need `imageio-ffmpeg`)."""
DEFAULT_FPS = 24.0
"""Frame rate of a video made from a folder of frames when none is given."""
MASK_THRESHOLD = 0.5
_ASPECT_TOLERANCE = 0.02


class AdaINStylizer:
    """AdaIN transfer with fixed styles and controls, applied to any number of content images or video frames.

    The style images are loaded, recoloured if asked and encoded once, on the first call (again per content image
    only for `"coral"`/`"histogram"`/`"luminance"` without a `color_reference`, since those depend on the content).
    See the module docstring for the formulas and the mask semantics.

    Args:
        model: a trained `AdaINModel`, or a decoder name or path for `tfstyle.adain.resolve_decoder`.
        styles: one style image or a list of them: anything `tfstyle.load_image` accepts.
        alpha: α in [0, 1]: 1 = full style, 0 = the content decoded.
        style_weights: one weight ≥ 0 per style (normalised to sum 1; not all 0); default equal weights.
            Not combined with `mask` (a mask gives each style its own region).
        preserve_colors: None, `"coral"`, `"histogram"` or `"luminance"`.
        mask: None; one mask (path, array, PIL image) or label image; or a list of one mask per style.
        max_size: cap on the content's long side in pixels (downscaling only), or None.
        style_size: cap on each style image's long side, or None (as given).
        border: extra reflection padding in pixels on every side of the content before encoding (cropped off
            afterwards); keeps the encoder's zero-padding border effects out of the image. Default 0.
        color_reference: the image the styles are recoloured to in the pre-processing colour modes, instead of
            each content image (`transfer_video` passes the first frame).

    Raises:
        OptionError: bad option values. ImageError: unreadable style or mask images.

    Example:
        >>> stylizer = AdaINStylizer(model, "waves.jpg", alpha=0.7)
        >>> frames = [stylizer(frame) for frame in frames]         # the style is encoded once

    Reference:
        Huang & Belongie, "Arbitrary Style Transfer in Real-time with Adaptive Instance Normalization", ICCV 2017
        (sec. 7.3).
    """

    def __init__(self, model, styles, *, alpha=1.0, style_weights=None, preserve_colors=None, mask=None,
                 max_size=None, style_size=None, border=0, color_reference=None):
        if isinstance(model, (str, os.PathLike)):
            from tfstyle.adain.pretrained import resolve_decoder  # a name or file: the decoder it names

            model = resolve_decoder(model)
        self.model = model
        self.alpha = check_alpha(alpha)
        self.max_size = _optional_positive_int(max_size, "max_size")
        style_size = _optional_positive_int(style_size, "style_size")
        self.border = _non_negative_int(border, "border")
        if preserve_colors is not None and preserve_colors not in COLOR_MODES:
            raise OptionError(f"unknown preserve_colors {preserve_colors!r}; choose one of: {', '.join(COLOR_MODES)}")
        self.preserve_colors = preserve_colors
        self.styles = [image_io.load_image(style, max_size=style_size) for style in _as_list(styles)]
        if not self.styles:
            raise OptionError("give at least one style image")
        self.factor = int(model.extractor.downsampling)
        for index, style in enumerate(self.styles, 1):
            if min(style.shape[:2]) < self.factor:
                raise OptionError(f"style image {index} is {style.shape[1]}x{style.shape[0]} pixels; the "
                                  f"{model.encoder_layer} encoder needs at least {self.factor} on each side")
        if mask is not None and style_weights is not None:
            raise OptionError("style_weights blend the styles everywhere and a mask gives each style its own region: "
                              "give one or the other")
        self.weights = _normalised_weights(style_weights, len(self.styles))
        self.regions = None if mask is None else _load_regions(mask, len(self.styles))
        self.color_reference = None if color_reference is None else image_io.load_image(color_reference)
        self._cached_styles = None
        self._feature_masks = {}
        self._encode, self._decode = _compiled_networks(model)

    # --- public ------------------------------------------------------------------------------------------------

    def __call__(self, content):
        """Stylize one content image, a batch (B, H, W, 3) or a list of same-sized images.

        Args:
            content: anything `tfstyle.load_image` accepts, or a batch / list of them.

        Returns:
            float32 array in [0, 1]: (H, W, 3) for one image (after `max_size`), (B, H, W, 3) for a batch.
        """
        images, single = self._load_contents(content)
        if self.preserve_colors is not None and self.color_reference is None and len(images) > 1:
            out = np.concatenate([self._run(image[None], reference=image) for image in images])
        else:
            reference = self.color_reference if self.color_reference is not None else images[0]
            out = self._run(images, reference=reference)
        return out[0] if single else out

    def content_size(self, height, width):
        """The output size `(height, width)` for a content image of this size (after `max_size`)."""
        if self.max_size is None or max(height, width) <= self.max_size:
            return height, width
        scale = self.max_size / max(height, width)
        return max(1, round(height * scale)), max(1, round(width * scale))

    # --- steps -------------------------------------------------------------------------------------------------

    def _load_contents(self, content):
        array_like = isinstance(content, np.ndarray) or hasattr(content, "numpy")
        if array_like and np.ndim(content) == 4:
            items, single = list(np.asarray(content)), False
        elif isinstance(content, (list, tuple)):
            items, single = list(content), False
        else:
            items, single = [content], True
        if not items:
            raise OptionError("no content images given")
        images = [image_io.load_image(item, max_size=self.max_size) for item in items]
        shapes = sorted({image.shape for image in images})
        if len(shapes) > 1:
            raise OptionError(f"a batch of content images must share one size; Received: shapes {shapes}")
        return np.stack(images), single

    def _run(self, images, reference):
        """Stylize a batch (B, H, W, 3) of same-sized content images; styles recoloured to `reference`."""
        model = self.model
        height, width = images.shape[1:3]
        network_input = images
        if self.preserve_colors == "luminance":
            network_input = np.stack([colour.luminance(image) for image in images])
        (top, bottom), (left, right) = self._padding(height, width)
        padded = np.pad(network_input, ((0, 0), (top, bottom), (left, right), (0, 0)), mode="reflect")
        content_features = self._encode(padded)
        target = self._target(content_features, self._style_features(reference), height, width)
        output = ops.clip(self._decode(target), 0.0, 1.0)
        output = np.asarray(ops.convert_to_numpy(output), dtype=np.float32)[:, top:top + height, left:left + width]
        if self.preserve_colors == "luminance":
            output = np.stack([colour.transfer_luminance(out, image) for out, image in zip(output, images)])
        return output

    def _style_features(self, reference):
        """f(s_k) at the encoder layer, (1, h_k, w_k, C) each; cached unless the recolouring depends on the content."""
        fixed = self.preserve_colors is None or self.color_reference is not None
        if fixed and self._cached_styles is not None:
            return self._cached_styles
        styles = self.styles
        if self.preserve_colors == "coral":
            styles = [colour.coral(style, reference) for style in styles]
        elif self.preserve_colors == "histogram":
            styles = [colour.match_histograms(style, reference) for style in styles]
        elif self.preserve_colors == "luminance":
            styles = [colour.match_luminance(style, reference) for style in styles]
        features = [self._encode(style[None]) for style in styles]
        if fixed:
            self._cached_styles = features
        return features

    def _target(self, content_features, style_features, height, width):
        """The decoder input t: interpolated or region-wise AdaIN, then the α trade-off with f(c)."""
        model = self.model
        if self.regions is None:
            target = None
            for weight, style in zip(self.weights, style_features):
                if weight == 0.0:  # skipped: a zero weight must not cost an AdaIN (nor add rounding)
                    continue
                term = weight * model.adain([content_features, style])
                target = term if target is None else target + term
        else:
            masks = self._masks_on_features(height, width)
            uncovered = ops.convert_to_tensor(1.0 - masks.sum(axis=0)[None, :, :, None])
            target = content_features * uncovered
            for region, style in zip(masks, style_features):
                if not region.any():
                    continue
                weight = ops.convert_to_tensor(region[None, :, :, None])
                if region.all():  # the whole image: exactly the unmasked AdaIN
                    stylized = model.adain([content_features, style])
                else:
                    stylized = _region_adain(content_features, style, weight, model.adain.epsilon)
                target = target + weight * stylized
        if self.alpha != 1.0:
            target = self.alpha * target + (1.0 - self.alpha) * content_features
        return target

    def _padding(self, height, width):
        """((top, bottom), (left, right)) reflection padding to a multiple of the downsampling factor."""
        pads = []
        for side in (height, width):
            # at least 2 feature cells: the decoder's reflection padding needs 2 rows and columns to reflect
            padded = max(2, -(-(side + 2 * self.border) // self.factor)) * self.factor
            extra = padded - side
            pads.append((extra // 2, extra - extra // 2))
        return tuple(pads)

    def _masks_on_features(self, height, width):
        """(K, h, w) exclusive 0/1 region masks on the feature grid of a `height` × `width` content, cached."""
        key = (height, width)
        if key not in self._feature_masks:
            (top, bottom), (left, right) = self._padding(height, width)
            offset = self.factor // 2  # the pixel at the centre of each feature cell
            planes = []
            for mask in self.regions:
                _check_aspect(mask.shape, (height, width))
                mask = _resize_nearest(mask, (height, width))
                mask = np.pad(mask, ((top, bottom), (left, right)), mode="reflect")
                planes.append(mask[offset::self.factor, offset::self.factor])
            planes = np.stack(planes)
            best = planes.argmax(axis=0)
            covered = planes.max(axis=0) >= MASK_THRESHOLD
            regions = (np.arange(len(planes))[:, None, None] == best[None]) & covered[None]
            self._feature_masks[key] = regions.astype(np.float32)
        return self._feature_masks[key]


def transfer(model, content, styles, *, alpha=1.0, style_weights=None, preserve_colors=None, mask=None,
             max_size=None, style_size=None, border=0):
    """Stylize a content image with a trained AdaIN model and the inference controls.

    `t = α·Σ_k w_k AdaIN(f(c), f(s_k)) + (1 − α)·f(c)`, output `g(t)` clipped to [0, 1] (with a mask: region-wise
    AdaIN instead of the sum; see the module docstring).

    Args:
        model: a trained `AdaINModel`, or a decoder name or path (`tfstyle.adain.resolve_decoder`).
        content: the content image (anything `tfstyle.load_image` accepts), or a batch (B, H, W, 3).
        styles: one style image or a list.
        alpha: content–style trade-off α in [0, 1].
        style_weights: interpolation weights, one per style (normalised).
        preserve_colors: None, `"coral"`, `"histogram"` or `"luminance"`.
        mask: spatial control: one mask, a label image, or one mask per style.
        max_size: cap on the content's long side (None: its own size).
        style_size: cap on the style images' long side (None: as given).
        border: extra reflection padding around the content while encoding, in pixels.

    Returns:
        float32 array (H, W, 3) in [0, 1] of the content's size (after `max_size`); (B, H, W, 3) for a batch.

    Example:
        >>> image = transfer(model, "photo.jpg", "waves.jpg", alpha=0.6, preserve_colors="coral")
        >>> image.shape == tfstyle.load_image("photo.jpg").shape
        True

    Reference:
        Huang & Belongie, "Arbitrary Style Transfer in Real-time with Adaptive Instance Normalization", ICCV 2017
        (eq. 8 and sec. 7.3).
    """
    stylizer = AdaINStylizer(model, styles, alpha=alpha, style_weights=style_weights,
                             preserve_colors=preserve_colors, mask=mask, max_size=max_size, style_size=style_size,
                             border=border)
    return stylizer(content)


# --- folders and video ---------------------------------------------------------------------------------------------


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
    batch_size = _positive_int(batch_size, "batch_size")
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
    batch_size = _positive_int(batch_size, "batch_size")
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


_COMPILED = weakref.WeakKeyDictionary()


def _compiled_networks(model):
    """The encoder (to its output layer) and the decoder as `tf.function`s traced once for any image size.

    Called eagerly, the two Keras models run 1.4–1.5× slower at 512 px than compiled (benchmarks/adain_speed.py).
    Kept per model, so that every `transfer` call after the first reuses the traces.
    """
    if model in _COMPILED:
        return _COMPILED[model]
    import tensorflow as tf

    channels = model.decoder.input_shape[-1]

    @tf.function(input_signature=[tf.TensorSpec((None, None, None, 3), tf.float32)])
    def encode(images):
        return model.encoder(images, training=False)[model.encoder_layer]

    @tf.function(input_signature=[tf.TensorSpec((None, None, None, channels), tf.float32)])
    def decode(features):
        return model.decoder(features, training=False)

    _COMPILED[model] = encode, decode
    return encode, decode


def _region_adain(content, style, region, epsilon):
    """AdaIN with the content's statistics over one region (0/1 mask (1, h, w, 1)) and the whole style's."""
    content_mean, content_std = masked_mean_std(content, region, epsilon)
    style_mean, style_std = mean_std(style, epsilon)
    normalized = (content - content_mean[:, None, None, :]) / content_std[:, None, None, :]
    return style_std[:, None, None, :] * normalized + style_mean[:, None, None, :]


def _load_regions(mask, num_styles):
    """Image-level masks, one (H, W) float array in [0, 1] per style (see the module docstring)."""
    if isinstance(mask, (list, tuple)):
        if len(mask) == num_styles:
            return [load_mask(item) for item in mask]
        if len(mask) != 1:
            raise OptionError(f"got {len(mask)} masks for {num_styles} style images; give one mask per style image "
                              f"or a single mask (label image)")
        mask = mask[0]
    if num_styles >= 3:
        return list(split_labels(image_io.load_image(mask), num_styles))
    grey = load_mask(mask)
    return [grey] if num_styles == 1 else [grey, 1.0 - grey]


def _resize_nearest(mask, size):
    height, width = size
    if mask.shape == (height, width):
        return mask
    resized = Image.fromarray(np.asarray(mask, np.float32), mode="F").resize((width, height), Image.Resampling.NEAREST)
    return np.asarray(resized, dtype=np.float32)


def _check_aspect(shape, size):
    """Refuse a mask drawn for another image: aspect ratios differing by more than 2% plus one pixel's rounding."""
    (mask_height, mask_width), (height, width) = shape, size
    tolerance = _ASPECT_TOLERANCE + 1.0 / min(height, width, mask_height, mask_width)
    if abs((mask_width / mask_height) / (width / height) - 1.0) > tolerance:
        raise OptionError(f"the mask is {mask_width}x{mask_height} pixels but the content image is {width}x{height}: "
                          f"a mask must have the content image's aspect ratio")


def _normalised_weights(weights, count):
    if weights is None:
        return [1.0 / count] * count if count > 1 else [1.0]
    weights = list(weights) if isinstance(weights, (list, tuple, np.ndarray)) else [weights]
    if len(weights) != count:
        raise OptionError(f"got {len(weights)} style weights for {count} style images")
    if any(isinstance(w, bool) or not isinstance(w, numbers.Real) or not np.isfinite(w) or w < 0 for w in weights):
        raise OptionError(f"style weights must be finite numbers >= 0; Received: style_weights={weights!r}")
    total = float(sum(weights))
    if total == 0:
        raise OptionError("style weights must not all be 0")
    return [float(w) / total for w in weights]


def _positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise OptionError(f"{name} must be a positive integer; Received: {name}={value!r}")
    return int(value)


def _non_negative_int(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise OptionError(f"{name} must be an integer >= 0; Received: {name}={value!r}")
    return int(value)


def _optional_positive_int(value, name):
    return None if value is None else _positive_int(value, name)


def _as_list(items):
    if isinstance(items, (list, tuple)):
        return list(items)
    if (isinstance(items, np.ndarray) or hasattr(items, "numpy")) and np.ndim(items) == 4:
        return list(np.asarray(items))
    return [items]


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
                os.chmod(self._temporary, 0o666 & ~_umask())
                os.replace(self._temporary, self.path)
        except Exception as close_error:
            if kind is None:
                raise ImageError(f"cannot write video ({_reason(close_error)}): {self.path}") from None
        finally:
            self._temporary.unlink(missing_ok=True)
        return False


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask
