"""Option presets that make `tfstyle.stylize` minimise another implementation's objective.

`neural_style_objective` gives the raw (`normalize=False`) weights under which tfstyle's VGG objective is
jcjohnson/neural-style's objective; `neural_style_init` its random starting image. The derivation, the numbers at
512 px and what is (and is not) checked are in docs/neural_style_weights.md. Nothing here imports TensorFlow.
"""

import numpy as np

from tfstyle.backbones.registry import get_spec
from tfstyle.errors import OptionError, check_integer, check_non_negative

# Channels of every layer of VGG16 / VGG19 (blockN_*): the same for both, and for vgg16_hed (a VGG16).
# tests/test_presets.py checks them against keras.applications.VGG16 / VGG19 (weights=None).
VGG_BLOCK_CHANNELS = {1: 64, 2: 128, 3: 256, 4: 512, 5: 512}
# tfstyle's Caffe preprocessing: Caffe input = 255 · RGB→BGR(x) − mean (`tfstyle.backbones.preprocessing`).
CAFFE_SCALE = 255.0
# neural-style's TVLoss works on the 3 colour channels of the image.
_COLOUR_CHANNELS = 3
# neural-style's -init random: torch.randn(...) · 0.001, in Caffe units.
NEURAL_STYLE_INIT_STD = 1e-3


def neural_style_objective(height, width, content_weight=5.0, style_weight=100.0, tv_weight=1e-3, backbone="vgg19",
                           content_layers=None, style_layers=None):
    """`tfstyle.stylize` options whose objective is jcjohnson/neural-style's, for an output of height × width.

    neural-style (Torch) minimises, over the image y in Caffe units (0–255, BGR, ImageNet mean subtracted),

        E = a Σ_{l∈content} MSE(F_l, P_l) + b Σ_{l∈style} MSE(F_l F_lᵀ/(C_l H_l W_l), A_l) + g · ½ Σ (Δ_x y² + Δ_y y²)

    (MSE = mean over all entries; F_l is C_l × H_l W_l; the TV sum runs over the (H−1)×(W−1) top-left block, and
    enters only through its gradient), with a = 5, b = 100, g = 1e-3. The returned options

        {"normalize": False, "content_weight": α, "style_weight": β, "content_layers": {l: 1/n_c},
         "style_layers": {l: w_l}, "tv_weight": γ}

    make tfstyle's objective `α Σ c_l L_content,l + β Σ w_l L_style,l + γ TV` equal to E (constant 1) for the
    content and style terms, exactly, and for TV up to the border pairs (below), with

        w_l = (1/C_l²) / Σ_k 1/C_k²          β = 4 b Σ_k 1/C_k²          α = a · n_c
        γ = g · ½ · 255² · 3 · (H−1)(W−1).

    Derivation in short (the image x in [0, 1] maps to y = 255·BGR(x) − mean, the input both programs feed VGG):
    - Style: tfstyle's Gram is G = FᵀF/(H W), neural-style's F Fᵀ/(C H W) = G/C, likewise the targets, so
      neural-style's per-layer term b·mean((G − A)²)/C² = (4b/C²) · ¼ mean((G − A)²) = (4b/C²) L_style,l. No
      per-layer weight there; tfstyle's layer weights are rescaled to sum to 1, hence w_l ∝ 1/C_l² and β = 4 b Σ 1/C².
      For the VGG style layers (64, 128, 256, 512, 512 channels) w = (64, 16, 4, 1, 1)/86, β = 400·86/2¹⁸ = 0.1312.
    - Content: both are a mean of squared differences; each of neural-style's n_c content layers has weight a, and
      tfstyle's layer weights are 1/n_c each, so α = a n_c (= 5 for the single relu4_2).
    - TV: Δy = 255 Δx (the mean cancels, the channel flip only reorders). tfstyle's TV is the mean over the
      H(W−1)·3 horizontal plus the mean over the (H−1)W·3 vertical pairs of x; neural-style sums ½ 255² Δx² over
      the 3(H−1)(W−1) pairs of each kind in the block. γ above gives each kind the same total weight, so the values
      agree when the squared differences are spread evenly. Exactly, with R_h the sum of squared horizontal
      differences of x in row h and K_w that of vertical differences in column w (both over channels),
      `γ TV − TV_ns = g·½·255² · [(H−1)/H · (R_{H−1} − mean_{h<H−1} R_h) + (W−1)/W · (K_{W−1} − mean_{w<W−1} K_w)]`:
      the horizontal part differs by the relative amount (R_last/R̄ − 1)/H, the vertical one by (K_last/K̄ − 1)/W,
      O(1/H + 1/W) times how far the last row / column departs from the average one (≈ 0 for noise; see the docs
      for photographs). Gradients: away from the last row and column tfstyle's horizontal / vertical TV gradient is
      neural-style's times (H−1)/H / (W−1)/W (the weight per pair); the last row and column also feel the pairs
      neural-style leaves out.

    Why `normalize=False`: tfstyle's normalised terms divide each layer by its target's energy (¼ mean(A²),
    mean(P²)), which depends on the content and style images. neural-style has no such factors, so no
    image-independent normalised weights reproduce it; the raw terms relate to it by the constants above.

    Not covered by these options (see docs/neural_style_weights.md): neural-style's preprocessing multiplies the
    input pictures by 256, not 255, so its content and style targets are those of the pictures scaled by 256/255;
    its optimiser is Torch's L-BFGS without line search on an unbounded y, tfstyle's SciPy's L-BFGS-B with [0, 1]
    bounds; several style images are blended as targets (Σ b_k A_k) there and as losses (Σ b_k L(A_k)) here, which
    differ by an image-independent constant (same gradients).

    Args:
        height, width: size of the output image in pixels (integers ≥ 2): the TV weight depends on it.
        content_weight: neural-style's -content_weight (a).
        style_weight: neural-style's -style_weight (b).
        tv_weight: neural-style's -tv_weight (g).
        backbone: a VGG of the registry ("vgg19" is neural-style's default model; "vgg16", "vgg16_hed" have the same
            layer channels).
        content_layers: tfstyle layer names (neural-style's -content_layers, relu4_2 = "block4_conv2"), a list or
            a comma-separated string; default the backbone's (block4_conv2).
        style_layers: same for -style_layers; default block1_conv1 … block5_conv1 (relu1_1 … relu5_1).

    Returns:
        A dict of `tfstyle.stylize` keyword arguments (the preset's style layer weights sum to 1).

    Raises:
        OptionError: a size that is not an integer ≥ 2, a negative or non-finite weight, an unknown or non-VGG
            backbone, unknown layers or layer weights (neural-style has none).

    Example:
        >>> options = neural_style_objective(384, 512)
        >>> options["style_weight"], round(options["tv_weight"])
        (0.1312255859375, 19089357)
        >>> result = tfstyle.stylize(content, style, backbone="vgg19", size=512, steps=1000, **options)

    Reference:
        Johnson, neural-style (github.com/jcjohnson/neural-style), neural_style.lua: ContentLoss, StyleLoss,
        GramMatrix, TVLoss; Gatys, Ecker & Bethge, "Image Style Transfer Using Convolutional Neural Networks",
        CVPR 2016.
    """
    height = check_integer("height", height, minimum=2)
    width = check_integer("width", width, minimum=2)
    content_weight = check_non_negative("content_weight", content_weight)
    style_weight = check_non_negative("style_weight", style_weight)
    tv_weight = check_non_negative("tv_weight", tv_weight)
    spec = get_spec(backbone)
    if spec.application not in ("VGG16", "VGG19"):
        raise OptionError(f"neural_style_objective needs a VGG backbone (vgg19, vgg16, vgg16_hed), not {backbone!r}: "
                          f"its style weights use the VGG layers' channel counts")
    content_layers = _layer_names(spec, "content_layers", content_layers, spec.content_layers)
    style_layers = _layer_names(spec, "style_layers", style_layers, spec.style_layers)

    inverse_squares = {name: 1.0 / vgg_channels(name) ** 2 for name in style_layers}
    total = sum(inverse_squares.values())
    pairs = _COLOUR_CHANNELS * (height - 1) * (width - 1)  # neural-style's pairs of each kind (block)
    return {
        "normalize": False,
        "content_weight": content_weight * len(content_layers),
        "style_weight": 4.0 * style_weight * total,
        "content_layers": {name: 1.0 / len(content_layers) for name in content_layers},
        "style_layers": {name: value / total for name, value in inverse_squares.items()},
        "tv_weight": tv_weight * 0.5 * CAFFE_SCALE ** 2 * pairs,
    }


def neural_style_init(height, width, seed=0):
    """neural-style's `-init random` start as a tfstyle image: Caffe input 0.001·N(0, 1), i.e. ≈ the mean colour.

    neural-style optimises the Caffe-unit image y directly and starts from `torch.randn(...) · 0.001`; the tfstyle
    image with that Caffe input is `x = (RGB(y) + mean_RGB) / 255`. Pass it as `stylize(..., init=...)`. The noise is
    NumPy's (seeded), not Torch's, so the two starts are equally distributed, not equal.

    Args:
        height, width: size of the output image (integers ≥ 1).
        seed: seed of the noise.

    Returns:
        float32 array (height, width, 3), RGB in [0, 1] (values ≈ 0.41–0.49).
    """
    from tfstyle.backbones.preprocessing import IMAGENET_BGR_MEAN  # imports Keras: only when called

    height = check_integer("height", height)
    width = check_integer("width", width)
    noise = np.random.default_rng(seed).standard_normal((height, width, 3)) * NEURAL_STYLE_INIT_STD
    mean_rgb = np.asarray(IMAGENET_BGR_MEAN[::-1], np.float64)
    return ((noise + mean_rgb) / CAFFE_SCALE).astype(np.float32)


def vgg_channels(layer):
    """Channel count of a VGG16 / VGG19 layer from its name (`block4_conv2` → 512), without building the network."""
    try:
        block = int(layer.split("_", 1)[0].removeprefix("block"))
        return VGG_BLOCK_CHANNELS[block]
    except (ValueError, KeyError):
        raise OptionError(f"{layer!r} is not a VGG layer name (blockN_convM or blockN_pool, N = 1…5)") from None


def _layer_names(spec, option, layers, default):
    if layers is None:
        return tuple(default)
    if isinstance(layers, dict):
        raise OptionError(f"{option} takes layer names: neural-style has no per-layer weights; received {layers}")
    if isinstance(layers, str):
        layers = [name.strip() for name in layers.split(",") if name.strip()]
    layers = tuple(dict.fromkeys(layers))
    if not layers:
        raise OptionError(f"{option} must name at least one layer")
    return spec.check_layers(layers)
