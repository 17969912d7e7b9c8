"""Style masks for spatial control: one mask per style image, or one label image, as arrays at the output's size.

A mask says where a style applies: white (1) = this style, black (0) = not this style, grey = a soft weight. A
label image paints each region in its own grey level or colour; its regions, sorted by luminance, go to the style
images in order. Positions that no mask covers get no style at all (content and TV terms only).

This module imports neither TensorFlow nor Keras (like `tfstyle.io`), so the CLI can check masks before starting
them.

Example:
    >>> masks = load_style_masks(["person.png", "background.png"], num_styles=2, size=(512, 384))
    >>> masks.shape
    (2, 512, 384)

Reference:
    Gatys, Ecker, Bethge, Hertzmann & Shechtman, "Controlling Perceptual Factors in Neural Style Transfer",
    CVPR 2017 (sec. 4, spatial control).
"""

import numpy as np
from PIL import Image

from tfstyle.errors import OptionError
from tfstyle.io import load_image

# Rec. 601 luma, as the Y of YIQ in `tfstyle.ops.colour`.
_LUMA = np.array([0.299, 0.587, 0.114])
# A mask may differ from the output's aspect ratio by this much (relative), beyond rounding to whole pixels.
_ASPECT_TOLERANCE = 0.02


def load_mask(src, size=None):
    """Load one mask as a float32 H×W array in [0, 1]: the luminance of the image (white = 1).

    Args:
        src: anything `tfstyle.load_image` accepts: a path, `"sample:NAME"`, a PIL image or an array (H×W,
            H×W×1, H×W×3; floats in [0, 1], uint8 in 0–255, bool). Transparent pixels count as white.
        size: `(height, width)` to resize to (see `resize_mask_image`), or None.

    Returns:
        float32 array of shape (H, W) (or `size`).

    Raises:
        ImageError: the mask cannot be read. OptionError: its aspect ratio differs from `size`'s.

    Example:
        >>> mask = np.zeros((8, 6), bool); mask[:, :3] = True       # left half
        >>> load_mask(mask, size=(4, 3))[0]                         # soft border after shrinking
        array([1. , 0.5, 0. ], dtype=float32)
    """
    mask = _luminance(load_image(src))
    return mask if size is None else resize_mask_image(mask, size)


def resize_mask_image(mask, size):
    """Resize an image-level mask (H×W in [0, 1]) to `(height, width)` with antialiased bilinear filtering.

    Pillow's bilinear filter widens its triangle kernel with the reduction factor (antialiasing), so shrinking
    averages over a neighbourhood of each output pixel's footprint (thin regions fade instead of vanishing or
    aliasing, as with area averaging) and enlarging interpolates smoothly (area or nearest would keep the input's
    blocks). Its weights are non-negative and sum to 1,
    so values stay in [0, 1], constant masks stay constant and the pieces of a label image still sum to 1 (no
    ringing, unlike the Lanczos filter of `tfstyle.io.resize_image`).

    Args:
        mask: array of shape (H, W).
        size: target `(height, width)`.

    Returns:
        float32 array of shape `size` in [0, 1].

    Raises:
        OptionError: the mask's aspect ratio differs from the target's by more than 2% beyond pixel rounding (a mask
            drawn for another image, or rotated).
    """
    mask = np.asarray(mask, dtype=np.float32)
    height, width = (int(value) for value in size)
    _check_aspect(mask.shape, (height, width))
    if mask.shape == (height, width):
        return mask.copy()
    resized = Image.fromarray(mask).resize((width, height), Image.Resampling.BILINEAR)
    return np.clip(np.asarray(resized, dtype=np.float32), 0.0, 1.0)


def split_labels(label_image, num_styles):
    """Split a label image into one mask per style by its distinct colours, darkest first.

    The distinct colours (8-bit RGB) are sorted by luminance (Rec. 601 luma; ties by RGB value). With as many
    colours as styles, the k-th darkest region gets style k; with one more, the darkest region gets no style and
    the others styles 1…K in order.

    Args:
        label_image: float array (H, W, 3) in [0, 1] (as from `tfstyle.load_image`); save label images as PNG:
            JPEG compression adds colours.
        num_styles: the number of style images K.

    Returns:
        float32 array (K, H, W) of 0/1 masks.

    Raises:
        OptionError: the number of colours is neither K nor K + 1.

    Example:
        >>> labels = np.zeros((2, 3, 3)); labels[:, 1:] = 0.5; labels[:, 2:] = 1.0   # black, grey, white columns
        >>> split_labels(labels, 2)[:, 0]                  # black = no style, grey = style 1, white = style 2
        array([[0., 1., 0.],
               [0., 0., 1.]], dtype=float32)
    """
    rgb = np.round(np.asarray(label_image, dtype=np.float64) * 255.0).astype(np.int64)
    codes = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    colours, index = np.unique(codes, return_inverse=True)
    index = index.reshape(codes.shape)
    count = len(colours)
    if count not in (num_styles, num_styles + 1):
        hint = " (is it a JPEG? compression adds colours: save label images as PNG)" if count > num_styles + 1 else ""
        raise OptionError(f"the label image has {count} distinct colours for {num_styles} style images; it needs "
                          f"{num_styles} (one region per style) or {num_styles + 1} (the darkest region unstyled)"
                          f"{hint}")
    values = np.stack([(colours >> 16) & 255, (colours >> 8) & 255, colours & 255], axis=-1)
    order = sorted(range(count), key=lambda i: (float(values[i] @ _LUMA), int(colours[i])))
    if count == num_styles + 1:
        order = order[1:]
    return np.stack([(index == i).astype(np.float32) for i in order])


def load_style_masks(masks, num_styles, size, style_loss=None):
    """Load the `style_masks` option of `tfstyle.stylize` as one mask per style at the output's size.

    Args:
        masks: one mask per style image (a list of anything `load_mask` accepts), or a single label image (a list of
            one, or the image itself) when there are several styles (see `split_labels`). A single mask with a single
            style is a mask: the style inside, content only outside.
        num_styles: the number of style images K.
        size: the output's `(height, width)`; masks are resized to it (`resize_mask_image`); a label image is split
            first, then each region is resized, so region borders become soft and the regions still sum to 1.
        style_loss: the style loss name or object, to fail early on one that does not support masks.

    Returns:
        float32 array (K, height, width) in [0, 1].

    Raises:
        OptionError: wrong number of masks or label colours, an aspect ratio that does not match, a style loss
            without mask support. ImageError: a mask cannot be read.
    """
    _check_style_loss(style_loss)
    items = list(masks) if isinstance(masks, (list, tuple)) else [masks]
    if len(items) == num_styles:
        return np.stack([load_mask(item, size) for item in items])
    if len(items) == 1:
        labels = load_image(items[0])
        _check_aspect(labels.shape[:2], size)  # before splitting: a wrong label image fails on its shape first
        return np.stack([resize_mask_image(mask, size) for mask in split_labels(labels, num_styles)])
    raise OptionError(f"got {len(items)} style masks for {num_styles} style images; give one mask per style image "
                      f"or a single label image")


def _check_aspect(shape, size):
    """Refuse a mask whose aspect ratio is not the output's (beyond 2% plus the output's pixel rounding)."""
    (mask_height, mask_width), (height, width) = shape, size
    ratio, target_ratio = mask_width / mask_height, width / height
    # the output's size was rounded to whole pixels: allow one pixel of that on its short side
    tolerance = _ASPECT_TOLERANCE + 1.0 / min(height, width)
    if abs(ratio / target_ratio - 1.0) > tolerance:
        raise OptionError(f"a style mask is {mask_width}x{mask_height} pixels but the output is {width}x{height}: "
                          f"a mask must have the content image's aspect ratio")


def _luminance(image):
    return np.clip(np.asarray(image, dtype=np.float64) @ _LUMA, 0.0, 1.0).astype(np.float32)


def _check_style_loss(style_loss):
    if style_loss is None:
        return
    if isinstance(style_loss, str):
        supported = style_loss != "mmd"  # an unknown name is reported by the style-loss lookup itself
    else:
        supported = getattr(style_loss, "supports_masks", False)
    if not supported:
        from tfstyle.losses.style import MASKS_UNSUPPORTED

        raise OptionError(MASKS_UNSUPPORTED)
