"""Deterministic artistic filters: a known photo → painting mapping for benchmarks whose ground truth is known.

CycleGAN-family models are normally judged on horse2zebra or monet2photo, which cannot be downloaded here. A filter
with a fixed formula gives a benchmark with an answer: domain A is photos, domain B is *other* photos passed
through the filter, and a model trained on the unpaired A/B sets is scored on held-out photos x by comparing G(x)
with filter(x) (see `scripts/make_unpaired_benchmark.py`).

Every filter takes float RGB images in [0, 1], one (H, W, 3) or a batch (B, H, W, 3), and returns float32 RGB in
[0, 1] of the same shape. They use only NumPy, SciPy and scikit-image (no TensorFlow), have no randomness, and
treat the images of a batch one by one, so a batch gives exactly the per-image results.

Size. Spatial parameters (blur sigmas, stroke widths) are given in pixels *of an image whose short side is
`reference_size`* (default 128, the benchmark's crop size), and are multiplied by `short side / reference_size`
for other sizes, so a 128 px crop and a 512 px photo look alike. With `reference_size=None` they are used as
plain pixels, whatever the size. The benchmark filters each crop at its final size, so what a model must learn
is always a fixed function of the pixels it sees; at the default crop size (128 px) both conventions coincide, and
at other crop sizes the relative one keeps the look (lines as thick relative to the crop).

- `pencil_sketch`: colour-dodge pencil drawing, gray on white.
- `ink_wash`: Chinese ink-wash painting: a few ink tones, dark strokes along edges, eroded and bled, on warm paper.

Example:
    >>> from tfstyle import filters
    >>> sketch = filters.pencil_sketch(photo)                 # (H, W, 3) float32 in [0, 1]
    >>> ink = filters.get_filter("ink")(photos)               # a (B, H, W, 3) batch
    >>> filters.FILTERS
    ('sketch', 'ink')
"""

import functools
import inspect
import numbers

import numpy as np

from tfstyle.errors import ImageError, OptionError

FILTERS = ("sketch", "ink")
REFERENCE_SIZE = 128
# warm rice-paper tone of `ink_wash` (sRGB, [0, 1])
PAPER = (0.96, 0.93, 0.86)
# the ink: a neutral, slightly warm near-black (fresh sumi ink is never pure 0)
INK = (0.09, 0.085, 0.08)
# gray / (1 − blurred inverse) divides by nearly 0 where the image is black; clamping the divisor keeps black black
_DODGE_EPSILON = 1e-3


def pencil_sketch(image, sigma=3.0, gamma=2.0, shading=0.35, lift=0.1, reference_size=REFERENCE_SIZE):
    """Pencil drawing by colour dodge: dark lines where the image has edges, white paper where it is flat.

    With y the luminance (Rec. 709, `skimage.color.rgb2gray`), g = lift + (1 − lift)·y and G_σ a Gaussian blur
    (σ = `sigma` · short side / `reference_size`, reflected at the borders):

        dodge = min(g / max(1 − G_σ(1 − g), 10⁻³), 1)
        out   = dodge^γ · (1 − shading · G_σ(1 − g))

    In a flat region G_σ(1 − g) = 1 − g, so the dodge is exactly 1: blank paper. Near an edge the blurred inverse
    leaks over from the dark side, which turns into a gray line whose width grows with σ. γ > 1 darkens the faint
    lines of the bare dodge; `shading` lays a light graphite tone over the dark parts of the image (0 = outlines
    only). The lift keeps g away from 0: without it, the dodge of near-black areas divides noise by noise and
    fills them with black speckle. The gray result is replicated into three channels.

    Args:
        image: RGB in [0, 1], (H, W, 3) or (B, H, W, 3); float (clipped to [0, 1]) or uint8 (divided by 255).
        sigma: blur in pixels at a short side of `reference_size` (see the module notes), > 0; the line width
            grows with it. 3 px at 128 px draws lines about 2–4 px wide.
        gamma: tone exponent of the dodge, ≥ 1 (1 = the bare, faint dodge).
        shading: strength of the graphite tone in dark areas, in [0, 1].
        lift: luminance given to black before the dodge, in [0, 1); larger values give fainter lines.
        reference_size: short side (pixels) at which `sigma` holds; None = `sigma` in plain pixels at any size.

    Returns:
        float32 array of the input's shape, gray (all three channels equal), in [0, 1].

    Raises:
        ImageError: not an (H, W, 3) or (B, H, W, 3) array of finite numbers.
        OptionError: a parameter out of range.

    Example:
        >>> flat = np.full((64, 64, 3), 0.4, np.float32)
        >>> float(pencil_sketch(flat, shading=0).min())        # no edges: blank paper
        1.0

    Reference:
        The "invert, blur, colour dodge" sketch of photo editors; colour dodge is the blend `min(1, b / (1 − s))`
        of the W3C Compositing and Blending Level 1 specification.
    """
    sigma = _positive(sigma, "sigma")
    gamma = _number(gamma, "gamma", minimum=1.0)
    shading = _number(shading, "shading", minimum=0.0, maximum=1.0)
    lift = _number(lift, "lift", minimum=0.0, maximum=1.0, open_maximum=True)
    reference_size = _reference_size(reference_size)
    batch, single = _as_batch(image)

    def sketch(rgb):
        from scipy import ndimage
        from skimage.color import rgb2gray

        gray = lift + (1.0 - lift) * rgb2gray(rgb)
        blurred_inverse = ndimage.gaussian_filter(1.0 - gray, sigma * _scale(gray.shape, reference_size),
                                                  mode="reflect")
        dodge = np.minimum(gray / np.maximum(1.0 - blurred_inverse, _DODGE_EPSILON), 1.0)
        return _gray_to_rgb(dodge**gamma * (1.0 - shading * blurred_inverse))

    return _per_image(sketch, batch, single)


def ink_wash(image, smoothing=0.03, levels=3, white_point=0.45, wash_density=0.75, stroke_sigma=1.0,
             stroke_strength=40.0, stroke_threshold=0.01, erosion=1.5, bleed=0.8, paper=PAPER, ink=INK,
             reference_size=REFERENCE_SIZE):
    """Chinese ink-wash painting: a few flat ink tones, bold strokes along edges, bled into warm paper.

    With y the luminance (Rec. 709) and s = short side / `reference_size` (s = 1 when `reference_size` is None):

    1. Edge-preserving smoothing: u = TV-denoise(y, weight = smoothing · s) (Chambolle), which flattens texture
       into patches and keeps their outlines. The weight scales with s because total-variation smoothing erases
       details smaller than about 2·weight / contrast pixels.
    2. Washes: the ink density t = clip((1 − u − w) / (1 − w), 0, 1), w = `white_point` (tones lighter than
       1 − w stay blank paper, as in ink paintings), is quantised into `levels` tones:
       wash = wash_density · ⌊t · (levels − 1) + ½⌋ / (levels − 1).
    3. Strokes: the difference of Gaussians d = G_{1.6σ}(u) − G_σ(u), σ = stroke_sigma · s, is positive on the
       dark side of an edge and along thin dark lines; stroke = tanh(stroke_strength · max(d − stroke_threshold, 0))
       keeps the clear edges and drops faint texture. Grey erosion of 1 − stroke with a disk of radius
       round(erosion · s) thickens the strokes as a loaded brush would.
    4. Paper brightness p = (1 − wash) · eroded(1 − stroke) (layers of ink multiply), blurred with a Gaussian of
       σ = bleed · s so that the ink bleeds into the paper. (ChipGAN's ink-wash terms, METHODS §3, compare images
       after this same erosion + blur.)
    5. Colour: out = ink + (paper − ink) · p: blank areas take the paper tone, full ink the ink colour.

    Args:
        image: RGB in [0, 1], (H, W, 3) or (B, H, W, 3); float (clipped to [0, 1]) or uint8 (divided by 255).
        smoothing: total-variation weight at `reference_size`, ≥ 0 (0 = no smoothing).
        levels: number of tones including blank paper, ≥ 2.
        white_point: ink density below which the paper stays blank, in [0, 1).
        wash_density: density of the darkest wash, in [0, 1].
        stroke_sigma: scale (pixels at `reference_size`) of the edges that become strokes, > 0.
        stroke_strength: gain of the stroke response, ≥ 0 (0 = washes only).
        stroke_threshold: edge response (in luminance units) below which no stroke is drawn, ≥ 0.
        erosion: radius (pixels at `reference_size`) of the grey erosion, ≥ 0 (below 0.5 px: none).
        bleed: blur (pixels at `reference_size`) of the ink bleeding into the paper, ≥ 0 (0 = none).
        paper: paper colour, an RGB triple or one gray value in [0, 1]. The default is a warm rice-paper tone, so
            the output is not gray: a model must also learn the tint.
        ink: colour of full ink, an RGB triple or one gray value in [0, 1].
        reference_size: short side (pixels) at which the spatial parameters hold; None = plain pixels at any size.

    Returns:
        float32 array of the input's shape, in [0, 1], between the ink and the paper colour.

    Raises:
        ImageError: not an (H, W, 3) or (B, H, W, 3) array of finite numbers.
        OptionError: a parameter out of range.

    Example:
        >>> step = np.ones((64, 64, 3), np.float32); step[:, 32:] = 0.7
        >>> out = ink_wash(step)
        >>> bool(out[32, 33, 0] < 0.5 < out[32, 8, 0])             # a dark stroke on the edge, paper away from it
        True

    Reference:
        He et al. 2018, "ChipGAN: A Generative Adversarial Network for Chinese Ink Wash Painting Style Transfer"
        (ink-wash terms on eroded and blurred images); Chambolle 2004 (TV denoising); Winnemöller et al. 2012,
        "XDoG" (thresholded differences of Gaussians as strokes).
    """
    smoothing = _number(smoothing, "smoothing", minimum=0.0)
    levels = _integer(levels, "levels", minimum=2)
    white_point = _number(white_point, "white_point", minimum=0.0, maximum=1.0, open_maximum=True)
    wash_density = _number(wash_density, "wash_density", minimum=0.0, maximum=1.0)
    stroke_sigma = _positive(stroke_sigma, "stroke_sigma")
    stroke_strength = _number(stroke_strength, "stroke_strength", minimum=0.0)
    stroke_threshold = _number(stroke_threshold, "stroke_threshold", minimum=0.0)
    erosion = _number(erosion, "erosion", minimum=0.0)
    bleed = _number(bleed, "bleed", minimum=0.0)
    paper = _colour(paper, "paper")
    ink = _colour(ink, "ink")
    reference_size = _reference_size(reference_size)
    batch, single = _as_batch(image)

    def paint(rgb):
        from scipy import ndimage
        from skimage.color import rgb2gray
        from skimage.restoration import denoise_tv_chambolle

        luminance = rgb2gray(rgb)
        scale = _scale(luminance.shape, reference_size)
        smooth = denoise_tv_chambolle(luminance, weight=smoothing * scale) if smoothing > 0 else luminance
        density = np.clip((1.0 - smooth - white_point) / (1.0 - white_point), 0.0, 1.0)
        wash = wash_density * np.floor(density * (levels - 1) + 0.5) / (levels - 1)
        sigma = stroke_sigma * scale
        dog = (ndimage.gaussian_filter(smooth, 1.6 * sigma, mode="reflect")
               - ndimage.gaussian_filter(smooth, sigma, mode="reflect"))
        unstroked = 1.0 - np.tanh(stroke_strength * np.maximum(dog - stroke_threshold, 0.0))
        radius = int(round(erosion * scale))
        if radius > 0:
            unstroked = ndimage.grey_erosion(unstroked, footprint=_disk(radius), mode="reflect")
        brightness = (1.0 - wash) * unstroked
        if bleed > 0:
            brightness = ndimage.gaussian_filter(brightness, bleed * scale, mode="reflect")
        return ink + (paper - ink) * np.clip(brightness, 0.0, 1.0)[..., None]

    return _per_image(paint, batch, single)


_FUNCTIONS = {"sketch": pencil_sketch, "ink": ink_wash}


def get_filter(name, **options):
    """The filter called `name`, with `options` bound to it.

    Args:
        name: one of `FILTERS`: "sketch" (`pencil_sketch`) or "ink" (`ink_wash`).
        **options: keyword parameters of that filter; their names are checked here, their values when it runs.

    Returns:
        A callable `image -> image`; `functools.partial` of the filter when options are given.

    Raises:
        OptionError: unknown name (the message lists the names) or an option the filter does not have.

    Example:
        >>> thick = get_filter("sketch", sigma=5.0)
        >>> thick(photo).shape == photo.shape
        True
    """
    function = _function(name)
    if not options:
        return function
    filter_parameters(name, **options)
    return functools.partial(function, **options)


def filter_parameters(name, **options):
    """Every parameter of the filter `name` with its value: the defaults, overridden by `options`.

    For manifests and logs: the dict says exactly which filter was applied.

    Raises:
        OptionError: unknown name or option.

    Example:
        >>> filter_parameters("sketch", sigma=4.0)
        {'sigma': 4.0, 'gamma': 2.0, 'shading': 0.35, 'lift': 0.1, 'reference_size': 128}
    """
    function = _function(name)
    parameters = dict(list(inspect.signature(function).parameters.items())[1:])
    unknown = [key for key in options if key not in parameters]
    if unknown:
        raise OptionError(f"filter {name!r} has no option {', '.join(unknown)}; "
                          f"its options: {', '.join(parameters)}")
    return {key: options.get(key, parameter.default) for key, parameter in parameters.items()}


# --- helpers ----------------------------------------------------------------------------------------------------


def _function(name):
    if name not in _FUNCTIONS:
        raise OptionError(f"unknown filter {name!r}; choose one of: {', '.join(FILTERS)}")
    return _FUNCTIONS[name]


def _as_batch(image):
    """`image` as a new (B, H, W, 3) float64 array in [0, 1], and whether it was a single image."""
    array = np.asarray(image)
    if array.ndim not in (3, 4) or array.shape[-1] != 3 or 0 in array.shape:
        raise ImageError(f"filters take RGB images of shape (H, W, 3) or (B, H, W, 3); Received: shape {array.shape}")
    if array.dtype == np.uint8:
        array = array / 255.0
    elif array.dtype.kind not in "fb":
        raise ImageError(f"filters take float (in [0, 1]) or uint8 images; Received: dtype {array.dtype}")
    array = np.asarray(array, np.float64)
    if not np.isfinite(array).all():
        raise ImageError("filters take images of finite values; Received: an image containing NaN or infinity")
    single = array.ndim == 3
    return np.clip(array[None] if single else array, 0.0, 1.0), single


def _per_image(function, batch, single):
    out = np.stack([function(rgb) for rgb in batch]).astype(np.float32)
    np.clip(out, 0.0, 1.0, out=out)
    return out[0] if single else out


def _scale(shape, reference_size):
    return 1.0 if reference_size is None else min(shape[:2]) / reference_size


def _gray_to_rgb(gray):
    return np.repeat(gray[..., None], 3, axis=-1)


def _disk(radius):
    """Round footprint of `radius` pixels: erosion with a square would draw square stroke ends."""
    yy, xx = np.mgrid[-radius:radius + 1, -radius:radius + 1]
    return xx**2 + yy**2 <= radius**2 + radius / 2  # radius 1: a plus sign, 2: a 5x5 disk without corners


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and np.isfinite(value)


def _number(value, name, minimum=None, maximum=None, open_maximum=False):
    """`value` as a float, or OptionError naming the allowed range and the received value."""
    fits = _is_number(value) and (minimum is None or value >= minimum) and (
        maximum is None or (value < maximum if open_maximum else value <= maximum))
    if not fits:
        bounds = [f"≥ {minimum:g}"] if minimum is not None else []
        if maximum is not None:
            bounds.append(f"{'<' if open_maximum else '≤'} {maximum:g}")
        raise OptionError(f"{name} must be a number {' and '.join(bounds)}; Received: {name}={value!r}")
    return float(value)


def _positive(value, name):
    if not _is_number(value) or value <= 0:
        raise OptionError(f"{name} must be a number > 0; Received: {name}={value!r}")
    return float(value)


def _integer(value, name, minimum):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < minimum:
        raise OptionError(f"{name} must be an integer ≥ {minimum}; Received: {name}={value!r}")
    return int(value)


def _reference_size(value):
    if value is None:
        return None
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise OptionError(f"reference_size must be a positive integer or None; Received: reference_size={value!r}")
    return int(value)


def _colour(value, name):
    try:
        array = np.asarray(value, np.float64)
    except (TypeError, ValueError):
        array = np.asarray(np.nan)
    if array.ndim == 0:
        array = np.repeat(array, 3)
    if array.shape != (3,) or not np.isfinite(array).all() or (array < 0).any() or (array > 1).any():
        raise OptionError(f"{name} must be one gray value or an RGB triple in [0, 1]; Received: {name}={value!r}")
    return array


__all__ = ["FILTERS", "filter_parameters", "get_filter", "ink_wash", "pencil_sketch"]
