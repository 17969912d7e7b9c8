"""AdaIN inference controls: α, style interpolation, colour preservation, masks, any size.

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
at least twice the factor; plus `border`, 16 px by default, on every side) and the output is cropped back, so a
37 × 45 image comes back 37 × 45. The border keeps the encoder's zero padding away from the image: without it the
decoder paints a thin light frame along the edges (visible with the shipped `vgg16_hed` decoder at `border=0`).
`max_size` caps the long side (downscaling only); it is None (no cap) in the library, because an array the caller
passes is taken at its size, and 1024 in the CLI. Style images are used as given unless `style_size` caps them (512
in the CLI, the reference code's default: AdaIN's statistics depend on the scale of the brush strokes).

Many images: `AdaINStylizer` encodes the style images once and is then applied to any number of content images or
frames. Pre-processing colour modes depend on the content, so the styles are recoloured and re-encoded per content
image unless a `color_reference` fixes the colours they are matched to. Folders and videos are streamed through a
stylizer by `tfstyle.adain.batch` (`transfer_folder`, `transfer_video`).

Example:
    >>> from tfstyle.adain import resolve_decoder, transfer
    >>> model = resolve_decoder("vgg16_hed")
    >>> image = transfer(model, "photo.jpg", ["monet.jpg", "hokusai.jpg"], style_weights=[3, 1], alpha=0.8)
    >>> image = transfer(model, "photo.jpg", ["sky.jpg", "ground.jpg"], mask="sky_mask.png")

Reference:
    Huang & Belongie, "Arbitrary Style Transfer in Real-time with Adaptive Instance Normalization", ICCV 2017
    (sec. 7.3, runtime controls); Gatys et al., "Controlling Perceptual Factors in Neural Style Transfer", CVPR 2017.
"""

import numbers
import os
import weakref

import numpy as np
from keras import ops
from PIL import Image

from tfstyle import io as image_io
from tfstyle.adain.model import check_alpha
from tfstyle.errors import OptionError, check_integer
from tfstyle.masks import load_mask, split_labels
from tfstyle.ops import colour
from tfstyle.ops.masks import masked_mean_std
from tfstyle.ops.moments import mean_std

COLOR_MODES = colour.COLOR_MODES
MASK_THRESHOLD = 0.5
DEFAULT_BORDER = 16
"""Reflection padding (px) around the content while encoding: enough to keep the shipped decoder's edge frame out."""
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
            afterwards); keeps the encoder's zero-padding border effects out of the image. Default
            `DEFAULT_BORDER` (16); 0 encodes the content as it is (the fastest).
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
                 max_size=None, style_size=None, border=DEFAULT_BORDER, color_reference=None):
        if isinstance(model, (str, os.PathLike)):
            from tfstyle.adain.pretrained import resolve_decoder  # a name or file: the decoder it names

            model = resolve_decoder(model)
        self.model = model
        self.alpha = check_alpha(alpha)
        self.max_size = None if max_size is None else check_integer("max_size", max_size)
        style_size = None if style_size is None else check_integer("style_size", style_size)
        self.border = check_integer("border", border, minimum=0)
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
             max_size=None, style_size=None, border=DEFAULT_BORDER):
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

# --- helpers -------------------------------------------------------------------------------------------------------


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




def _as_list(items):
    if isinstance(items, (list, tuple)):
        return list(items)
    if (isinstance(items, np.ndarray) or hasattr(items, "numpy")) and np.ndim(items) == 4:
        return list(np.asarray(items))
    return [items]
