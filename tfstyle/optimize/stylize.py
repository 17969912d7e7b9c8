"""`tfstyle.stylize`: Gatys-style neural style transfer by image optimization, the library's main entry point."""

import dataclasses
import functools
import sys

import numpy as np

from tfstyle.errors import OptionError

# Defaults tuned on real photos and paintings with the normalised losses of `PerceptualLoss` (each term starts
# near 1): see docs/defaults.md for the runs behind them.
DEFAULTS = {
    "size": 512,
    "steps": 500,
    "optimizer": "lbfgs",
    "learning_rate": 0.02,
    "backbone": "auto",
    "weights": "default",
    "pooling": "max",
    "content_weight": 1.0,
    "style_weight": 10.0,
    "tv_weight": 1e-1,
    "style_loss": "gram",
    "mmd_kernel": "gaussian",
    "init": "content",
    "seed": 0,
    "style_scale": 1.0,
}
INITS = ("content", "noise", "style")
# Options recorded with a TensorBoard run (the images themselves are logged as images).
_LOGGED_OPTIONS = ("size", "steps", "optimizer", "learning_rate", "pooling", "content_weight", "style_weight",
                   "tv_weight", "content_layers", "style_layers", "style_loss", "mmd_kernel", "seed",
                   "style_blend_weights", "style_scale", "preserve_colors", "normalize")


@dataclasses.dataclass
class StylizeResult:
    """The outcome of `stylize`.

    Attributes:
        image: the stylized image (H, W, 3) float32 in [0, 1].
        history: `{term: [value per step]}` for `total`, `content`, `style`, `tv` and every layer.
        info: what ran: backbone(s), why (for `auto`), size, optimizer, steps done, stop reason, seconds.
    """

    image: np.ndarray
    history: dict
    info: dict


def stylize(content, style, *, size=DEFAULTS["size"], steps=DEFAULTS["steps"], optimizer=DEFAULTS["optimizer"],
            learning_rate=DEFAULTS["learning_rate"], backbone=DEFAULTS["backbone"], weights=DEFAULTS["weights"],
            pooling=DEFAULTS["pooling"], content_weight=DEFAULTS["content_weight"],
            style_weight=DEFAULTS["style_weight"], tv_weight=DEFAULTS["tv_weight"], content_layers=None,
            style_layers=None, style_loss=DEFAULTS["style_loss"], mmd_kernel=DEFAULTS["mmd_kernel"],
            init=DEFAULTS["init"], seed=DEFAULTS["seed"], style_blend_weights=None,
            style_scale=DEFAULTS["style_scale"], preserve_colors=None, normalize=True, style_masks=None,
            logdir=None, log_images_every=50, callbacks=(), progress=True, verbose=True):
    """Render `content` in the style of `style` by optimizing the image (Gatys et al. 2016).

    The output image is optimized so that its features on a frozen backbone match the content image's features
    (content layers) and their statistics match the style image's (style layers):
    `L = α L_content + β L_style + γ TV`, each layer term normalised by its target's energy (see
    `tfstyle.losses.PerceptualLoss`), minimised with L-BFGS or Adam.

    Args:
        content: content image: path, `"sample:NAME"`, PIL image or array (see `tfstyle.load_image`).
        style: one style image or a list of them.
        size: long side of the output in pixels (the content is resized to it).
        steps: L-BFGS iterations or Adam steps.
        optimizer: `"lbfgs"` or `"adam"`.
        learning_rate: Adam's step size on the [0, 1] image.
        backbone: registry name, `"auto"` (VGG19 if its ImageNet weights can be had, else `vgg16_hed`), or a
            mapping `{name: weight}` for a weighted multi-backbone loss (e.g. `{"vgg19": 1, "inception_v3": 1e3}`).
        weights: `"default"`, `"imagenet"`, None (random, for tests) or a weights file (single backbone).
        pooling: `"max"` or `"avg"` (VGGs; Gatys et al. used average pooling).
        content_weight: α.
        style_weight: β.
        tv_weight: γ, total-variation smoothing (mean squared neighbour difference of the [0, 1] image).
        content_layers: layer names or `{name: weight}`; default: the backbone's (VGG: block4_conv2 = relu4_2).
        style_layers: same; default VGG: block1_conv1 … block5_conv1 (relu1_1 … relu5_1).
        style_loss: `"gram"`, `"mmd"` or `"meanstd"`.
        mmd_kernel: kernel of the MMD loss: `"gaussian"`, `"linear"` or `"poly"`.
        init: `"content"`, `"noise"`, `"style"`, or an image (anything `load_image` accepts).
        seed: seed of the noise initialisation and of any sampling, for reproducible runs.
        style_blend_weights: one weight per style image (rescaled to sum to 1).
        style_scale: style images are resized to `style_scale × size` on their long side.
        preserve_colors: keep the content's colours (Gatys et al. 2017): `"luminance"` transfers style on the
            luminance only (content and styles turned grey, styles' luminance matched to the content's, the
            content's chroma put back afterwards); `"histogram"` or `"coral"` recolour the style images to the
            content's colour distribution before the transfer. None: the style's colours.
        normalize: normalise every layer term by its target's energy (False: the papers' raw values).
        style_masks: spatial control (Gatys et al. 2017): one mask per style image (anything `load_image`
            accepts; white = the style applies, grey = a soft weight, black = not there), or a single label image
            whose distinct colours, sorted by luminance, are the regions of styles 1…K (with K + 1 colours the
            darkest region gets no style). Positions no mask covers get only content and TV; each style's
            statistics are taken over its region only, the targets over the whole style image. Masks are resized
            to the output (see `tfstyle.masks.load_style_masks`); blend weights are then rescaled to a mean of 1,
            so each region gets a single style's strength. Gram and mean/std style losses only.
        logdir: write TensorBoard summaries there: every loss term and layer term each step, the image every
            `log_images_every` steps, the inputs and the run's options (see `tfstyle.logging.TensorBoardLogger`).
        log_images_every: steps between image summaries when `logdir` is set.
        callbacks: extra `tfstyle.optimize.callbacks.Callback` objects (e.g. `SaveEvery`).
        progress: show a progress bar with the live loss.
        verbose: print one line saying which backbone was used and why.

    Returns:
        A `StylizeResult` with `.image`, `.history` and `.info`.

    Example:
        >>> result = tfstyle.stylize("sample:astronaut", "sample:mosaic", size=256, steps=100)
        >>> tfstyle.save_image("astronaut_mosaic.png", result.image)

    Reference:
        Gatys, Ecker & Bethge, "Image Style Transfer Using Convolutional Neural Networks", CVPR 2016.
    """
    logged_options = {key: value for key, value in locals().items() if key in _LOGGED_OPTIONS}
    from tfstyle import ops
    from tfstyle.io import load_image, resize_image
    from tfstyle.ops import colour
    from tfstyle.losses.perceptual import MultiBackboneLoss, PerceptualLoss
    from tfstyle.optimize.callbacks import ProgressBar
    from tfstyle.optimize.loop import optimize_image

    _check_positive(size=size, steps=steps, style_scale=style_scale, learning_rate=learning_rate)
    _check_non_negative(content_weight=content_weight, style_weight=style_weight, tv_weight=tv_weight)
    styles = list(style) if isinstance(style, (list, tuple)) else [style]
    if not styles:
        raise OptionError("need at least one style image")
    if style_blend_weights is not None and len(style_blend_weights) != len(styles):
        raise OptionError(f"got {len(style_blend_weights)} style blend weights for {len(styles)} style images")
    if style_blend_weights is not None and (min(style_blend_weights) < 0 or sum(style_blend_weights) <= 0):
        raise OptionError(f"style blend weights must be non-negative with a positive sum; "
                          f"received {list(style_blend_weights)}")

    if preserve_colors is not None and preserve_colors not in colour.COLOR_MODES:
        raise OptionError(f"unknown preserve_colors {preserve_colors!r}; choose one of: "
                          f"{', '.join(colour.COLOR_MODES)}")
    backbone_weights, reason = _resolve_backbones(backbone)
    if len(backbone_weights) > 1 and (content_layers is not None or style_layers is not None
                                      or weights not in ("default", "imagenet", None)):
        raise OptionError("content_layers, style_layers and a weights file apply to a single backbone; "
                          "with several backbones each uses its default layers and weights")

    content_image = resize_image(load_image(content), long_side=int(size))
    min_side = max(_spec(name).min_size for name in backbone_weights)
    if min(content_image.shape[:2]) < min_side:
        raise OptionError(f"the output is {content_image.shape[1]}x{content_image.shape[0]} pixels but "
                          f"{', '.join(backbone_weights)} needs at least {min_side} on each side; increase size")
    style_images = [resize_image(load_image(path), long_side=max(1, round(size * style_scale))) for path in styles]
    for image in style_images:
        if min(image.shape[:2]) < min_side:
            raise OptionError(f"a style image is {image.shape[1]}x{image.shape[0]} pixels after scaling but the "
                              f"backbone needs at least {min_side}; increase size or style_scale")

    masks = None
    if style_masks is not None:
        from tfstyle.masks import load_style_masks

        masks = load_style_masks(style_masks, len(styles), content_image.shape[:2], style_loss)

    original_content = content_image
    content_image, style_images = _prepare_colours(preserve_colors, content_image, style_images)

    if verbose and reason:  # only once the inputs are known to be good: an error stays a single line
        print(reason, file=sys.stderr)

    style_loss_fn = _style_loss(style_loss, mmd_kernel, seed)
    perceptual = {}
    for name in backbone_weights:
        extractor_layers = _layers(name, content_layers, style_layers)
        extractor = _extractor(name, weights, pooling, extractor_layers)
        perceptual[name] = PerceptualLoss(extractor, content_layers, style_layers, style_loss=style_loss_fn,
                                          content_weight=content_weight, style_weight=style_weight,
                                          normalize=normalize)
    criterion = (perceptual[name] if len(perceptual) == 1
                 else MultiBackboneLoss(perceptual, backbone_weights))
    criterion.set_content(content_image[None])
    criterion.set_styles([image[None] for image in style_images], style_blend_weights, masks=masks)

    def objective(image):
        terms = criterion(image)
        terms["tv"] = tv_weight * ops.total_variation(image)[0]
        terms["total"] = terms["content"] + terms["style"] + terms["tv"]
        return terms

    init_image = _initial_image(init, content_image, style_images[0], seed)
    all_callbacks = [*([ProgressBar()] if progress else []), *callbacks]
    if logdir is not None:
        from tfstyle.logging import TensorBoardLogger

        options = dict(logged_options)
        options["backbone"] = backbone if isinstance(backbone, str) else ",".join(f"{k}:{v:g}" for k, v in
                                                                                  backbone.items())
        options["resolved_backbone"] = ",".join(backbone_weights)
        options["init"] = init if isinstance(init, str) else "an image"
        all_callbacks.append(TensorBoardLogger(logdir, images_every=log_images_every, options=options,
                                               content=original_content, style=style_images[0]))
    result = optimize_image(objective, init_image, optimizer=optimizer, steps=int(steps),
                            learning_rate=learning_rate, callbacks=all_callbacks)
    image = result.image
    if preserve_colors == "luminance":
        image = colour.transfer_luminance(image, original_content)
    info = {
        "backbone": dict(backbone_weights) if len(backbone_weights) > 1 else next(iter(backbone_weights)),
        "backbone_reason": reason,
        "size": list(content_image.shape[:2]),
        "optimizer": optimizer,
        "steps": result.steps,
        "reason": result.reason,
        "seconds": result.seconds,
        "style_loss": style_loss,
        "preserve_colors": preserve_colors,
    }
    return StylizeResult(image, result.history, info)


def _prepare_colours(mode, content_image, style_images):
    """Content and style images as the optimization should see them for a colour-preservation mode."""
    from tfstyle.ops import colour

    if mode == "luminance":
        return colour.luminance(content_image), [colour.match_luminance(s, content_image) for s in style_images]
    if mode == "histogram":
        return content_image, [colour.match_histograms(s, content_image) for s in style_images]
    if mode == "coral":
        return content_image, [colour.coral(s, content_image) for s in style_images]
    return content_image, style_images


def _spec(name):
    from tfstyle.backbones import get_spec

    return get_spec(name)


def _check_positive(**values):
    for key, value in values.items():
        if not value > 0:
            raise OptionError(f"{key} must be positive; received {value}")


def _check_non_negative(**values):
    for key, value in values.items():
        if not value >= 0:
            raise OptionError(f"{key} must be zero or positive; received {value}")


def _resolve_backbones(backbone):
    """`backbone` option → (`{name: weight}`, reason line for `auto` or None)."""
    from tfstyle.backbones import resolve_backbone

    if isinstance(backbone, str):
        name, reason = resolve_backbone(backbone)
        return {name: 1.0}, reason
    weights = dict(backbone)
    if not weights:
        raise OptionError("backbone mapping is empty")
    for name, weight in weights.items():
        _spec(name)
        if not weight >= 0:
            raise OptionError(f"backbone weights must be zero or positive; received {name}={weight}")
    return {name: float(weight) for name, weight in weights.items()}, None


def _layers(name, content_layers, style_layers):
    """Every layer the extractor must return for these selections, validated, in network order."""
    from tfstyle.losses.perceptual import layer_weights

    spec = _spec(name)
    chosen = [*layer_weights(content_layers, spec.content_layers), *layer_weights(style_layers, spec.style_layers)]
    spec.check_layers(chosen)
    return tuple(layer for layer in spec.layers if layer in chosen)


@functools.lru_cache(maxsize=4)
def _extractor(name, weights, pooling, layers):
    """Feature extractors are cached: building one and loading its weights takes seconds."""
    from tfstyle.backbones import FeatureExtractor

    return FeatureExtractor(name, layers, weights=weights, pooling=pooling)


def _style_loss(name, mmd_kernel, seed):
    from tfstyle import losses

    if name == "mmd":
        return losses.get("mmd", kernel=mmd_kernel, seed=seed)
    return losses.get(name)


def _initial_image(init, content_image, style_image, seed):
    from tfstyle.io import load_image, resize_image

    height, width = content_image.shape[:2]
    if isinstance(init, str) and init == "content":
        return content_image
    if isinstance(init, str) and init == "noise":
        return np.random.default_rng(seed).uniform(0.0, 1.0, content_image.shape).astype(np.float32)
    if isinstance(init, str) and init == "style":
        return resize_image(style_image, size=(height, width))
    if isinstance(init, str) and not init.startswith("sample:") and "." not in init and "/" not in init:
        raise OptionError(f"unknown init {init!r}; choose one of: {', '.join(INITS)}, or an image path")
    return resize_image(load_image(init), size=(height, width))
