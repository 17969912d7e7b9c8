"""Random changes to training crops beyond crop and flip: scale and colour jitter (`Jitter`).

A decoder trained on a few dozen images sees only their few scales and palettes. Jitter makes every crop a new
image: zoomed in or out (brushstrokes and photo details at other sizes) and with other brightness, contrast,
saturation and hue (a painting in new palettes). It is what "heavily augmented" means for tfstyle's training
pipelines (`tfstyle.data`, `train_adain`, `tfstyle train-adain --scale-jitter/--color-jitter/--hue-jitter`).

All draws are stateless and come from one int64 per crop, so a seeded stream stays reproducible.

Example:
    >>> jitter = Jitter(scale=(0.5, 2.0), brightness=0.3, contrast=0.3, saturation=0.3, hue=0.1)
    >>> ds = tfstyle.data.image_dataset("paintings", crop_size=256, resize_to=512, jitter=jitter)
"""

import dataclasses
import math

import tensorflow as tf

from tfstyle.errors import OptionError


@dataclasses.dataclass(frozen=True)
class Jitter:
    """How much each training crop is randomly zoomed and recoloured; the defaults change nothing.

    Args:
        scale: (low, high) range of the zoom factor s, drawn log-uniformly per crop: the crop covers a square of
            side `crop_size / s` of the resized image, resized to `crop_size` (s > 1 zooms in, s < 1 out). The
            square never exceeds the image's short side, so zooming out is limited by `resize_to`. (1, 1): no zoom.
        brightness: the crop is multiplied by a factor in [1 - brightness, 1 + brightness].
        contrast: distances to the crop's mean grey are scaled by a factor in [1 - contrast, 1 + contrast].
        saturation: distances to each pixel's grey are scaled by a factor in [1 - saturation, 1 + saturation].
        hue: hues turn by a fraction in [-hue, hue] of the colour wheel (at most 0.5).

    The colour changes apply in this order, to float RGB in [0, 1], and the result is clipped to [0, 1].
    """

    scale: tuple = (1.0, 1.0)
    brightness: float = 0.0
    contrast: float = 0.0
    saturation: float = 0.0
    hue: float = 0.0

    def __post_init__(self):
        scale = self.scale
        if (not isinstance(scale, (tuple, list)) or len(scale) != 2
                or not all(_is_number(s) and 0 < s < math.inf for s in scale) or scale[0] > scale[1]):
            raise OptionError(f"jitter scale must be a pair (low, high) of positive numbers with low <= high; "
                              f"Received: scale={scale!r}")
        object.__setattr__(self, "scale", (float(scale[0]), float(scale[1])))
        for name, limit in (("brightness", 1.0), ("contrast", 1.0), ("saturation", 1.0), ("hue", 0.5)):
            value = getattr(self, name)
            if not _is_number(value) or not 0 <= value <= limit:
                raise OptionError(f"jitter {name} must be a number from 0 to {limit}; Received: {name}={value!r}")
            object.__setattr__(self, name, float(value))

    @property
    def zooms(self):
        return self.scale != (1.0, 1.0)

    @property
    def recolours(self):
        return any((self.brightness, self.contrast, self.saturation, self.hue))

    def __bool__(self):
        return self.zooms or self.recolours

    def as_dict(self):
        """The settings as plain JSON values (for run fingerprints and `decoder.json`)."""
        return {"scale": list(self.scale), "brightness": self.brightness, "contrast": self.contrast,
                "saturation": self.saturation, "hue": self.hue}

    @classmethod
    def from_dict(cls, values):
        return cls(scale=tuple(values.get("scale", (1.0, 1.0))), brightness=values.get("brightness", 0.0),
                   contrast=values.get("contrast", 0.0), saturation=values.get("saturation", 0.0),
                   hue=values.get("hue", 0.0))


def as_jitter(value):
    """`value` checked as a `jitter=` argument: a `Jitter` that changes something, or None."""
    if value is None or isinstance(value, Jitter):
        return value if value else None
    raise OptionError(f"jitter must be a tfstyle.augment.Jitter or None; Received: jitter={value!r}")


def zoomed_crop(image, crop_size, scale, seed):
    """A random square of `image` (H x W x C), zoomed by a log-uniform factor in `scale`, resized to `crop_size`.

    Args:
        image: one image tensor, any dtype; its short side must be at least `crop_size`.
        crop_size: side of the result.
        scale: (low, high) zoom range (see `Jitter.scale`).
        seed: shape-[2] int64 seed of the stateless draws.

    Returns:
        float32 crop_size x crop_size x C, in the input's value range (bilinear, antialiased when shrinking).
    """
    seeds = tf.random.experimental.stateless_split(seed, 2)
    log_zoom = tf.random.stateless_uniform([], seeds[0], math.log(scale[0]), math.log(scale[1]), tf.float64)
    shape = tf.shape(image)
    short = tf.minimum(shape[0], shape[1])
    side = tf.cast(tf.round(crop_size / tf.exp(log_zoom)), tf.int32)
    side = tf.clip_by_value(side, 1, short)
    region = tf.image.stateless_random_crop(image, tf.stack([side, side, shape[2]]), seed=seeds[1])
    zoomed = tf.image.resize(tf.cast(region, tf.float32), [crop_size, crop_size], method="bilinear",
                             antialias=True)
    return tf.ensure_shape(zoomed, [crop_size, crop_size, None])


def recolour(image, jitter, seed):
    """`image` (float RGB in [0, 1], H x W x 3) with the random brightness, contrast, saturation and hue of `jitter`."""
    seeds = tf.random.experimental.stateless_split(seed, 4)

    def factor(amount, index):
        return tf.random.stateless_uniform([], seeds[index], 1.0 - amount, 1.0 + amount)

    if jitter.brightness:
        image = image * factor(jitter.brightness, 0)
    if jitter.contrast:
        image = tf.image.adjust_contrast(image, factor(jitter.contrast, 1))
    if jitter.saturation:
        image = tf.image.adjust_saturation(tf.clip_by_value(image, 0.0, 1.0), factor(jitter.saturation, 2))
    if jitter.hue:
        delta = tf.random.stateless_uniform([], seeds[3], -jitter.hue, jitter.hue)
        image = tf.image.adjust_hue(tf.clip_by_value(image, 0.0, 1.0), delta)
    return tf.clip_by_value(image, 0.0, 1.0)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)
