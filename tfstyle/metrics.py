"""Distances for comparing style-transfer results: style and content distances on a fixed feature network, a colour
and a texture distance that use no trained network, SSIM, MS-SSIM and PSNR.

Which to trust: a distance measured on the network an optimization minimised its loss on (the Gram distance on
`vgg16_hed` for a `stylize` run on `vgg16_hed`) is driven down by that optimization and is **not evidence of
quality**: a run can reach a low value while looking nothing like the painting. The colour distance (Lab histograms)
and the texture distance (a fixed random network, see `RandomTextureNetwork`) share nothing with any loss term of
tfstyle, so they can judge results of different objectives, backbones and tools against each other.

Style and content distances are *relative* errors, each divided by the energy of the target's representation, so
that layers (and networks) are commensurate: 0 means identical statistics / features, 1 means as far as all-zero
features are. They are computed on one feature network (by default the offline `vgg16_hed`) and are only comparable
between runs on the same network, weights and layers, which is why `evaluate` records the network.

- Gram style distance, averaged over the style layers l (`GramStyleLoss` normalisation, `G = FᵀF / (H·W)`):
  `d_l = ¼·mean((G − A)²) / (¼·mean(A²))`, with G the image's and A the style's normalised Gram matrix.
- Mean/std style distance, averaged over the style layers (`MeanStdStyleLoss` terms, ε = 0):
  `d_l = [mean_c (μ − μ')² + mean_c (σ − σ')²] / [mean_c μ'² + mean_c σ'²]`.
- Content distance, averaged over the content layers: `d_l = mean((F − P)²) / mean(P²)`.
- Colour distance (`colour_distance`): the per-channel 1-D Wasserstein distance between the CIE Lab histograms of
  image and style, averaged over L, a and b; in Lab units (L spans 0–100).
- Texture distance (`texture_distance`): the relative Gram distance on `RandomTextureNetwork`, a single layer of
  fixed random filters of several sizes up to 37 px, at a fixed long side of 256 px.
- Luminance SSIM (`ssim_luminance`): SSIM of the luminance (Y of YIQ) to the content: is the content still there.

Importing this module builds no network; `StyleMetrics` builds one `FeatureExtractor` (or shares one it is given),
and the module-level functions use one cached per (backbone, weights).

Example:
    >>> from tfstyle import metrics
    >>> scores = metrics.evaluate("out.png", "sample:astronaut", "sample:waves")
    >>> sorted(scores)
    ['colour', 'content', 'network', 'psnr', 'ssim', 'ssim_luminance', 'style_gram', 'style_meanstd', 'texture']
    >>> metrics.psnr(image, image + 0.1)          # MSE = 0.01 (where not clipped)
    20.0
"""

import functools

import numpy as np

from tfstyle.backbones.registry import get_spec
from tfstyle.errors import ImageError, OptionError
from tfstyle.io import load_image, resize_image

DEFAULT_BACKBONE = "vgg16_hed"
DEFAULT_WEIGHTS = "default"
STYLE_KINDS = ("gram", "meanstd")
# every metric `evaluate` can compute; the default set leaves out ms_ssim, which needs images ≥ 161 px
METRICS = ("style_gram", "style_meanstd", "content", "colour", "texture", "ssim", "ssim_luminance", "psnr", "ms_ssim")
DEFAULT_METRICS = ("style_gram", "style_meanstd", "content", "colour", "texture", "ssim", "ssim_luminance", "psnr")
PIXEL_METRICS = ("colour", "texture", "ssim", "ssim_luminance", "psnr", "ms_ssim")  # need no feature network
STYLE_METRICS = ("style_gram", "style_meanstd", "colour", "texture")  # compare with the style image
# The texture network: filter sizes (px), filters per size, its seed, and the long side images are scored at.
# The seed and sizes are the metric's own: no loss term may build a network from them.
TEXTURE_FILTER_SIZES = (3, 5, 7, 11, 15, 23, 37)
TEXTURE_FILTERS = 64
TEXTURE_SEED = 20170519
TEXTURE_SIZE = 256
COLOUR_QUANTILES = 256  # points at which the Lab histograms' quantile functions are compared
COLOUR_SIZE = 256  # long side images are reduced to before their histograms are taken
SSIM_FILTER_SIZE = 11  # tf.image.ssim's default Gaussian window
MS_SSIM_SCALES = 5  # tf.image.ssim_multiscale's default power factors
# the coarsest of the 5 scales (halved 4 times) must still be larger than the filter
MS_SSIM_MIN_SIZE = (SSIM_FILTER_SIZE - 1) * 2 ** (MS_SSIM_SCALES - 1) + 1


# --- distances on feature dicts ---------------------------------------------------------------------------------


def style_distance_from_features(features, style_features, layers=None, kind="gram"):
    """Relative style distance between two feature dicts, averaged over layers with equal weights.

    For each layer, with F the image's and S the style's features (B, H, W, C) and (1 or B, H', W', C):

    - `kind="gram"`: `d_l = gram_style_loss(F, A) / (¼·mean(A²)) = mean((G − A)²) / mean(A²)`, where
      `G = FᵀF/(H·W)` and `A = SᵀS/(H'·W')` are normalised Gram matrices (`GramStyleLoss`).
    - `kind="meanstd"`: `d_l = [mean_c(μ − μ')² + mean_c(σ − σ')²] / [mean_c(μ'²) + mean_c(σ'²)]`, the
      `MeanStdStyleLoss` terms with biased σ and ε = 0.

    All-zero image features give exactly 1 for both kinds; identical statistics give 0. The sizes of F and S may
    differ. A layer whose style energy is 0 counts 0 if the image's statistics are also 0, else infinity.

    Args:
        features: `{layer: (B, H, W, C)}` of the images.
        style_features: `{layer: (1 or B, H', W', C)}` of the style image.
        layers: layers to average over; default all layers of `style_features`.
        kind: "gram" or "meanstd".

    Returns:
        float64 array of shape (B,).

    Raises:
        OptionError: unknown `kind`, no layers, or a layer missing from either dict.

    Example:
        >>> import numpy as np
        >>> style = {"l": np.random.rand(1, 8, 8, 4)}
        >>> style_distance_from_features({"l": np.zeros((1, 8, 8, 4))}, style)
        array([1.])
    """
    from keras import ops  # lazy: keeps `import tfstyle.metrics` light

    from tfstyle.losses import GramStyleLoss, MeanStdStyleLoss

    kind = _check_kind(kind)
    layers = _check_layers(features, style_features, layers, "style")
    loss = GramStyleLoss() if kind == "gram" else MeanStdStyleLoss(epsilon=0.0)
    ratios = []
    for layer in layers:
        target = loss.representation(style_features[layer])
        # the energy is the loss of all-zero features (¼·mean(A²), or mean_c μ'² + mean_c σ'²), computed by the
        # same code as the numerator so that zero features give exactly 1
        zeros = ops.zeros_like(style_features[layer][:1, :1, :1])
        ratios.append(_relative(loss.compare(features[layer], target), loss.compare(zeros, target)))
    return np.mean(ratios, axis=0)


def content_distance_from_features(features, content_features, layers=None):
    """Relative content distance between two feature dicts, averaged over layers with equal weights.

    `d_l = mean((F − P)²) / mean(P²)` per sample (`content_loss` divided by the target's energy), with F the image's
    and P the content's features of the same shape. All-zero image features give exactly 1, identical ones 0.

    Args:
        features: `{layer: (B, H, W, C)}` of the images.
        content_features: `{layer: (1 or B, H, W, C)}` of the content image.
        layers: layers to average over; default all layers of `content_features`.

    Returns:
        float64 array of shape (B,).

    Raises:
        OptionError: no layers, a layer missing from either dict, or feature shapes that differ.

    Example:
        >>> import numpy as np
        >>> content = {"l": np.ones((1, 4, 4, 2))}
        >>> content_distance_from_features({"l": 1.5 * np.ones((1, 4, 4, 2))}, content)
        array([0.25])
    """
    layers = _check_layers(features, content_features, layers, "content")
    ratios = []
    for layer in layers:
        image = np.asarray(features[layer], np.float64)
        target = np.asarray(content_features[layer], np.float64)
        if image.shape[1:] != target.shape[1:]:
            raise OptionError(f"content features of layer {layer} have shape {target.shape[1:]} but the image's "
                              f"have {image.shape[1:]}; resize the content image to the image's size")
        ratios.append(_relative(np.mean(np.square(image - target), axis=(1, 2, 3)),
                                np.mean(np.square(target), axis=(1, 2, 3))))
    return np.mean(ratios, axis=0)


# --- the feature-network metrics --------------------------------------------------------------------------------


class StyleMetrics:
    """Style and content distances of images on one feature network, built once.

    Args:
        backbone: registry name of the feature network, or a `FeatureExtractor` to share (it must contain the
            style and content layers; `weights` and `pooling` then come from it and must be left at their defaults).
        weights: weights of the network (see `tfstyle.backbones.build_backbone`); None = random, for tests.
        style_layers: layers of the style distances; default the backbone's default style layers.
        content_layers: layers of the content distance; default the backbone's default content layers.
        pooling: "max" or "avg" (VGGs).

    Example:
        >>> metrics = StyleMetrics()                                  # vgg16_hed, relu1_1…relu5_1, relu4_2
        >>> metrics.style_distance(result, "sample:waves", kind="meanstd")
        0.031...
        >>> metrics.evaluate(result, "sample:astronaut", "sample:waves")["network"]
        'vgg16_hed'
    """

    def __init__(self, backbone=DEFAULT_BACKBONE, weights=DEFAULT_WEIGHTS, style_layers=None, content_layers=None,
                 pooling="max"):
        shared = not isinstance(backbone, str)
        if shared and (weights != DEFAULT_WEIGHTS or pooling != "max"):
            raise OptionError("weights and pooling come from the shared FeatureExtractor; "
                              f"Received: weights={weights!r}, pooling={pooling!r}")
        spec = backbone.spec if shared else get_spec(backbone)
        self.style_layers = spec.check_layers(spec.style_layers if style_layers is None else style_layers)
        self.content_layers = spec.check_layers(spec.content_layers if content_layers is None else content_layers)
        if not self.style_layers or not self.content_layers:
            raise OptionError(f"StyleMetrics needs at least one style and one content layer; Received: "
                              f"style_layers={style_layers!r}, content_layers={content_layers!r}")
        if shared:
            missing = [name for name in (*self.style_layers, *self.content_layers) if name not in backbone.layers]
            if missing:
                raise OptionError(f"the shared FeatureExtractor lacks layers {', '.join(dict.fromkeys(missing))}; "
                                  f"it has {', '.join(backbone.layers)}")
            self.extractor = backbone
        else:
            from tfstyle.backbones.feature_extractor import FeatureExtractor  # lazy: starts TensorFlow

            self.extractor = FeatureExtractor(backbone, dict.fromkeys((*self.style_layers, *self.content_layers)),
                                              weights=weights, pooling=pooling)
        self.spec = spec

    @property
    def network(self):
        """Label of the feature network: the backbone name, plus whatever differs from its defaults.

        Distances are only comparable between runs with the same label.
        """
        extras = []
        if self.extractor.weights not in (DEFAULT_WEIGHTS, self.spec.default_weights):
            extras.append(f"weights={self.extractor.weights}")
        if self.extractor.pooling != "max":
            extras.append(f"pooling={self.extractor.pooling}")
        if self.style_layers != self.spec.style_layers:
            extras.append(f"style_layers={','.join(self.style_layers)}")
        if self.content_layers != self.spec.content_layers:
            extras.append(f"content_layers={','.join(self.content_layers)}")
        return f"{self.spec.name}[{'; '.join(extras)}]" if extras else self.spec.name

    def features(self, image):
        """`{layer: (1, H, W, C)}` for one image (anything `load_image` accepts)."""
        image = _load(image)
        height, width = image.shape[:2]
        if min(height, width) < self.spec.min_size:
            raise ImageError(f"image of {height}x{width} pixels is too small for the {self.spec.name} metrics: "
                             f"both sides must be at least {self.spec.min_size} pixels")
        return self.extractor(image[None])

    def style_distance(self, image, style, kind="gram"):
        """Relative style distance of `image` to `style` (see `style_distance_from_features`).

        Args:
            image: the image to score; any size.
            style: the style image, at the scale the transfer used; any size.
            kind: "gram" or "meanstd".

        Returns:
            A float ≥ 0: 0 for identical statistics, 1 as far as all-zero features.
        """
        kind = _check_kind(kind)
        return float(style_distance_from_features(self.features(image), self.features(style),
                                                  self.style_layers, kind)[0])

    def content_distance(self, image, content):
        """Relative content distance of `image` to `content` (see `content_distance_from_features`).

        `content` is resized (Lanczos) to the image's size when the sizes differ.

        Returns:
            A float ≥ 0: 0 for identical features, 1 as far as all-zero features.
        """
        image = _load(image)
        return float(content_distance_from_features(self.features(image), self.features(_fit(content, image)),
                                                    self.content_layers)[0])

    def evaluate(self, image, content, style, metrics=None):
        """Several metrics of one result in one dict, computing each image's features once.

        Args:
            image: the result.
            content: the content image (resized to the image's size if needed); None if no metric needs it.
            style: the style image; None if no metric needs it.
            metrics: names from `METRICS`; default `DEFAULT_METRICS` (all but "ms_ssim").

        Returns:
            `{name: float}` for the requested metrics (keys `style_gram`, `style_meanstd`, `content`, `ssim`, `psnr`,
            `ms_ssim`), plus `network`: the label of the feature network when a style or content distance is in it.

        Raises:
            OptionError: unknown metric names, or no content / style image for a metric that needs it.
        """
        names = _check_inputs(metrics, content, style)
        image = _load(image)
        if any(name not in STYLE_METRICS for name in names):
            content = _fit(content, image)
        results = {}
        if any(name not in PIXEL_METRICS for name in names):
            results["network"] = self.network
            features = self.features(image)
        needs_style = [name for name in names if name.startswith("style_")]
        if needs_style:
            style_features = self.features(style)
            for name in needs_style:
                distance = style_distance_from_features(features, style_features, self.style_layers,
                                                        kind=name[len("style_"):])
                results[name] = float(distance[0])
        if "content" in names:
            results["content"] = float(content_distance_from_features(features, self.features(content),
                                                                      self.content_layers)[0])
        return results | _pixel_metrics(image, content, style, names)

    def __repr__(self):
        return f"StyleMetrics(network={self.network!r})"


@functools.lru_cache(maxsize=None)
def _cached_metrics(backbone, weights):
    return StyleMetrics(backbone, weights)


def default_metrics(backbone=DEFAULT_BACKBONE, weights=DEFAULT_WEIGHTS):
    """The `StyleMetrics` of `backbone` with its default layers, built on first use and cached.

    Example:
        >>> default_metrics() is default_metrics("vgg16_hed")
        True
    """
    return _cached_metrics(backbone, weights)


def style_distance(image, style, kind="gram", backbone=DEFAULT_BACKBONE, weights=DEFAULT_WEIGHTS):
    """`StyleMetrics.style_distance` on the cached network of `backbone` (see `default_metrics`)."""
    return default_metrics(backbone, weights).style_distance(image, style, kind)


def content_distance(image, content, backbone=DEFAULT_BACKBONE, weights=DEFAULT_WEIGHTS):
    """`StyleMetrics.content_distance` on the cached network of `backbone` (see `default_metrics`)."""
    return default_metrics(backbone, weights).content_distance(image, content)


def evaluate(image, content, style, metrics=None, backbone=DEFAULT_BACKBONE, weights=DEFAULT_WEIGHTS):
    """`StyleMetrics.evaluate` on the cached network of `backbone` (see `default_metrics`).

    No trained network is built when only pixel metrics (`PIXEL_METRICS`: colour, texture, SSIMs, PSNR) are asked
    for.

    Example:
        >>> evaluate(result, "sample:astronaut", "sample:waves")
        {'network': 'vgg16_hed', 'style_gram': 0.21, 'style_meanstd': 0.05, 'content': 0.62, 'ssim': 0.41, ...}
    """
    names = _check_inputs(metrics, content, style)
    if all(name in PIXEL_METRICS for name in names):
        image = _load(image)
        if any(name not in STYLE_METRICS for name in names):
            content = _fit(content, image)
        return _pixel_metrics(image, content, style, names)
    return default_metrics(backbone, weights).evaluate(image, content, style, names)


# --- pixel metrics ----------------------------------------------------------------------------------------------


def ssim(image, reference):
    """Structural similarity of two RGB images in [0, 1] (`tf.image.ssim`, max_val=1, 11×11 Gaussian window).

    The SSIM of each channel is averaged; `reference` is resized to the image's size if needed.

    Returns:
        A float in [−1, 1]; 1 for identical images.

    Raises:
        ImageError: an image side shorter than 11 pixels.
    """
    import tensorflow as tf

    image, reference = _pair(image, reference, SSIM_FILTER_SIZE, "SSIM")
    return float(tf.image.ssim(image, reference, max_val=1.0)[0])


def ms_ssim(image, reference):
    """Multi-scale SSIM (`tf.image.ssim_multiscale`, max_val=1, 5 scales, 11×11 window) of two RGB images.

    Returns:
        A float in [0, 1]; 1 for identical images.

    Raises:
        ImageError: an image side shorter than 161 pixels (the coarsest scale, 1/16 of the size, must be larger
            than the window).
    """
    import tensorflow as tf

    image, reference = _pair(image, reference, MS_SSIM_MIN_SIZE, "MS-SSIM")
    return float(tf.image.ssim_multiscale(image, reference, max_val=1.0)[0])


def psnr(image, reference):
    """Peak signal-to-noise ratio in dB, `10·log10(1 / MSE)` over all pixels and channels (`tf.image.psnr`, max_val=1).

    Returns:
        A float; `math.inf` for identical images (MSE = 0). An MSE of 0.01 gives 20 dB.
    """
    import tensorflow as tf

    image, reference = _pair(image, reference, 1, "PSNR")
    return float(tf.image.psnr(image, reference, max_val=1.0)[0])


def ssim_luminance(image, reference):
    """SSIM of the luminance (Y of YIQ, `tfstyle.ops.colour.luminance`) of two RGB images in [0, 1].

    Measures whether the content's structure survived a transfer that is meant to change its colours: unlike the
    RGB `ssim`, a recoloured but otherwise intact photo scores near 1.

    Returns:
        A float in [−1, 1]; 1 for identical luminance.
    """
    import tensorflow as tf

    from tfstyle.ops.colour import luminance

    image, reference = _pair(image, reference, SSIM_FILTER_SIZE, "SSIM")
    grey = [luminance(array[0])[..., :1][None] for array in (image, reference)]
    return float(tf.image.ssim(grey[0], grey[1], max_val=1.0)[0])


# --- metrics that use no trained network ------------------------------------------------------------------------


def colour_distance(image, style, quantiles=COLOUR_QUANTILES):
    """Colour distance of an image to a style: the mean over L, a, b of the 1-D Wasserstein distances between the
    two images' CIE Lab histograms.

    `d = (1/3) Σ_ch ∫₀¹ |Q_image,ch(p) − Q_style,ch(p)| dp`, with Q a channel's quantile function, evaluated at
    `quantiles` evenly spaced points p = (k + ½)/K. Both images are reduced to a long side of `COLOUR_SIZE` first
    (histograms barely change; it keeps the cost fixed). Images of any sizes can be compared. In Lab units: 0 for
    the same colour distribution; a uniform shift of the lightness by 10 gives 10/3.

    Args:
        image: the image to score (anything `load_image` accepts).
        style: the style image.
        quantiles: number of points of the quantile functions.

    Returns:
        A float ≥ 0.

    Example:
        >>> colour_distance("sample:waves", "sample:waves")
        0.0
    """
    from skimage.color import rgb2lab

    points = (np.arange(int(quantiles)) + 0.5) / int(quantiles)
    labs = [rgb2lab(resize_image(_load(array), long_side=min(COLOUR_SIZE, max(_load(array).shape[:2]))))
            for array in (image, style)]
    distances = [np.mean(np.abs(np.quantile(labs[0][..., channel], points)
                                - np.quantile(labs[1][..., channel], points))) for channel in range(3)]
    return float(np.mean(distances))


class RandomTextureNetwork:
    """A fixed, untrained texture descriptor: one convolution layer of random filters at several sizes, ReLU, and
    the normalised Gram matrix of each size's responses (Ustyuzhaninov, Brendel, Gatys & Bethge 2017 showed that
    such a single random layer captures enough statistics to synthesise natural textures).

    Filters: `filters` per size in `sizes` (px), drawn from N(0, 1) with a fixed `seed`, each made zero-mean on
    every input channel and of unit norm, so that the responses see structure (edges, strokes, their colours and
    scales) and not the overall colour of a region: a constant added to any channel cancels. Palette is the colour
    distance's job. Input: the RGB image in [0, 1]. Valid convolutions (no padding: borders add no statistics);
    filters of 16 px and more are applied with a stride of size // 8 to keep the cost down (the Gram statistics are
    averages over positions, which a stride subsamples). Gram of size s: `G_s = FᵀF / M` over the M positions.

    The network is the metric's own: no tfstyle loss term uses these filters or this seed.

    Args:
        sizes: filter sizes in pixels.
        filters: filters per size.
        seed: seed of the filters.

    Example:
        >>> network = RandomTextureNetwork()
        >>> network.distance(image, style)      # averaged over the sizes
        0.12...

    Reference:
        Ustyuzhaninov, Brendel, Gatys & Bethge, "What does it take to generate natural textures?", ICLR 2017.
    """

    def __init__(self, sizes=TEXTURE_FILTER_SIZES, filters=TEXTURE_FILTERS, seed=TEXTURE_SEED):
        sizes = tuple(int(size) for size in sizes)
        if not sizes or min(sizes) < 2 or int(filters) < 1:  # a 1 px filter that is zero-mean per channel is 0
            raise OptionError(f"RandomTextureNetwork needs filter sizes ≥ 2 and filters ≥ 1; "
                              f"Received: sizes={sizes}, filters={filters}")
        self.sizes, self.filters, self.seed = sizes, int(filters), int(seed)
        rng = np.random.default_rng(self.seed)
        self.kernels = []
        for size in sizes:
            kernel = rng.standard_normal((size, size, 3, self.filters))
            kernel -= kernel.mean(axis=(0, 1), keepdims=True)
            kernel /= np.sqrt(np.sum(np.square(kernel), axis=(0, 1, 2), keepdims=True))
            self.kernels.append(kernel.astype(np.float32))

    def scaled(self, image):
        """An image as the distance sees it: resized to a long side of `TEXTURE_SIZE`, or larger if its short side
        would then be below the largest filter (very elongated images)."""
        image = _load(image)
        short, long = sorted(image.shape[:2])
        return resize_image(image, long_side=max(TEXTURE_SIZE, -(-max(self.sizes) * long // short)))

    @staticmethod
    def stride(size):
        """The stride a filter of this size is applied with."""
        return max(1, size // 8)

    def grams(self, image):
        """The normalised Gram matrix (filters × filters, float64) of each filter size for one image (H, W, 3)."""
        import tensorflow as tf

        image = np.asarray(image, np.float32)
        if min(image.shape[:2]) < max(self.sizes):
            raise ImageError(f"image of {image.shape[0]}x{image.shape[1]} pixels is too small for the texture "
                             f"distance: both sides must be at least {max(self.sizes)} pixels")
        batch = tf.constant(image[None])
        grams = []
        for size, kernel in zip(self.sizes, self.kernels):
            stride = self.stride(size)
            responses = tf.nn.relu(tf.nn.conv2d(batch, kernel, strides=stride, padding="VALID"))
            flat = tf.reshape(responses, (-1, self.filters)).numpy().astype(np.float64)
            grams.append(flat.T @ flat / len(flat))
        return grams

    def distance(self, image, style):
        """Relative Gram distance, averaged over the filter sizes with equal weights.

        `d = (1/S) Σ_s ‖G_s − A_s‖²_F / ‖A_s‖²_F` with G of the image and A of the style, each image first resized
        to a long side of `TEXTURE_SIZE` (so scores of results of any size compare, and a style is judged at the
        scale a 256 px view shows; see `scaled`). 0 for the same statistics, 1 as far as all-zero responses.
        """
        grams = [self.grams(self.scaled(array)) for array in (image, style)]
        return float(np.mean([_relative(np.sum(np.square(g - a)), np.sum(np.square(a)))
                              for g, a in zip(*grams)]))


@functools.lru_cache(maxsize=1)
def texture_network():
    """The `RandomTextureNetwork` of `texture_distance`, built once."""
    return RandomTextureNetwork()


def texture_distance(image, style):
    """Texture distance of an image to a style on the fixed random network (`RandomTextureNetwork.distance`).

    Example:
        >>> texture_distance("sample:waves", "sample:waves")
        0.0
    """
    return texture_network().distance(image, style)


# --- helpers ----------------------------------------------------------------------------------------------------


def _load(image):
    return load_image(image)  # arrays come back as new float32 (H, W, 3) arrays in [0, 1]


def _fit(reference, image):
    """`reference` loaded and resized to `image`'s size (Lanczos) if it differs."""
    reference = _load(reference)
    if reference.shape[:2] != image.shape[:2]:
        reference = resize_image(reference, size=image.shape[:2])
    return reference


def _pair(image, reference, min_size, what):
    image = _load(image)
    reference = _fit(reference, image)
    if min(image.shape[:2]) < min_size:
        raise ImageError(f"{what} needs images of at least {min_size} pixels on each side; "
                         f"Received: {image.shape[0]}x{image.shape[1]}")
    return image[None], reference[None]


def _relative(loss, energy):
    """loss / energy per sample; 0/0 counts 0 and x/0 infinity."""
    loss, energy = np.asarray(loss, np.float64), np.asarray(energy, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = loss / energy
    return np.where(energy > 0, ratio, np.where(loss > 0, np.inf, 0.0))


def _check_kind(kind):
    if kind not in STYLE_KINDS:
        raise OptionError(f"unknown style distance kind {kind!r}; choose one of: {', '.join(STYLE_KINDS)}")
    return kind


def _check_layers(features, targets, layers, what):
    layers = tuple(targets if layers is None else layers)
    if not layers:
        raise OptionError(f"no {what} layers to compare")
    missing = [layer for layer in layers if layer not in features or layer not in targets]
    if missing:
        raise OptionError(f"{what} layers {', '.join(missing)} missing from the features; "
                          f"image features have {', '.join(features)}, {what} features have {', '.join(targets)}")
    return layers


def _check_inputs(metrics, content, style):
    """The metric names asked for (default `DEFAULT_METRICS`), checked, with the images they need present."""
    names = DEFAULT_METRICS if metrics is None else ((metrics,) if isinstance(metrics, str) else tuple(metrics))
    unknown = [name for name in names if name not in METRICS]
    if unknown or not names:
        raise OptionError(f"unknown metrics {', '.join(map(repr, unknown)) or '(none given)'}; "
                          f"choose from: {', '.join(METRICS)}")
    names = tuple(dict.fromkeys(names))
    needs_style = [name for name in names if name in STYLE_METRICS]
    needs_content = [name for name in names if name not in needs_style]
    for needed, given, what in ((needs_style, style, "style"), (needs_content, content, "content")):
        if needed and given is None:
            raise OptionError(f"metrics {', '.join(needed)} need a {what} image; Received: {what}=None")
    return names


def _pixel_metrics(image, content, style, names):
    """`{name: value}` of the metrics among `names` that need no trained network: against `style` for the colour
    and texture distances, against `content` for the others."""
    functions = {"ssim": ssim, "ssim_luminance": ssim_luminance, "ms_ssim": ms_ssim, "psnr": psnr,
                 "colour": colour_distance, "texture": texture_distance}
    return {name: functions[name](image, style if name in STYLE_METRICS else content)
            for name in names if name in PIXEL_METRICS}


__all__ = [
    "DEFAULT_METRICS",
    "METRICS",
    "RandomTextureNetwork",
    "StyleMetrics",
    "colour_distance",
    "content_distance",
    "content_distance_from_features",
    "default_metrics",
    "evaluate",
    "ms_ssim",
    "psnr",
    "ssim",
    "ssim_luminance",
    "style_distance",
    "style_distance_from_features",
    "texture_distance",
]
