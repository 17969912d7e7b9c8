"""`tfstyle.stylize`: Gatys-style neural style transfer by image optimization, the library's main entry point."""

import contextlib
import dataclasses
import functools
import os
import pathlib
import sys

import numpy as np

from tfstyle.errors import OptionError

# Options whose default does not depend on the backbone. `steps` and `sizes` default to the coarse-to-fine schedule
# of `tfstyle.optimize.pyramid.default_schedule`; the loss weights default per backbone (`LOSS_DEFAULTS`).
DEFAULTS = {
    "size": 512,
    "steps": None,
    "optimizer": "lbfgs",
    "learning_rate": 0.02,
    "backbone": "auto",
    "weights": "default",
    "pooling": "max",
    "style_loss": "gram",
    "mmd_kernel": "gaussian",
    "init": "palette",
    "seed": 0,
    "style_scale": 1.0,
    "tile_size": "auto",
    "tile_overlap": 64,
}
# Loss weights per backbone, on the normalised terms of `PerceptualLoss` (each term starts near 1). `vgg16_hed`'s
# were judged against neural-style's published outputs with measures that use no trained network
# (docs/neural_style_comparison.md); the other single backbones and weighted mixes share the normalised weights of
# docs/defaults.md. `vgg19` instead reproduces neural-style's own objective (`NEURAL_STYLE_BACKBONES`).
LOSS_DEFAULTS = {
    "normalized": {"content_weight": 1.0, "style_weight": 10.0, "tv_weight": 0.1, "content_layers": None},
    # a second, shallower content layer keeps the layout that the 128 px start of the default schedule abstracts
    "vgg16_hed": {"content_weight": 3.0, "style_weight": 10.0, "tv_weight": 0.1,
                  "content_layers": ("block3_conv2", "block4_conv2")},
}
# Backbones whose default objective is jcjohnson/neural-style's (`tfstyle.optimize.presets.neural_style_objective`:
# raw terms, content 5, style 100, TV 1e-3 in its units, which these backbones' weights then also use), because
# their ImageNet weights are the Caffe model neural-style runs.
NEURAL_STYLE_BACKBONES = ("vgg19",)
# Share of the machine's memory a run may plan to use before `tile_size="auto"` tiles it or L-BFGS keeps fewer
# corrections.
MEMORY_BUDGET = 0.7
LBFGS_MEMORY = 20  # correction pairs L-BFGS keeps, unless memory is short
MIN_LBFGS_MEMORY = 3
INITS = ("content", "palette", "noise", "style")
# The final report's metrics are computed on copies of at most this long side (see `_metrics`).
REPORT_SIZE = 512
# Options recorded with a TensorBoard run (the images themselves are logged as images).
_LOGGED_OPTIONS = ("size", "steps", "optimizer", "learning_rate", "pooling", "content_weight", "style_weight",
                   "tv_weight", "content_layers", "style_layers", "style_loss", "mmd_kernel", "seed",
                   "style_blend_weights", "style_scale", "preserve_colors", "normalize", "sizes")


@dataclasses.dataclass
class StylizeResult:
    """The outcome of `stylize`.

    Attributes:
        image: the stylized image (H, W, 3) float32 in [0, 1].
        history: `{term: [value per step]}` for `total`, `content`, `style`, `tv` and every layer.
        info: what ran: backbone(s), why (for `auto`), size, pyramid sizes and steps, optimizer, steps done, stop
            reason, seconds, the step a checkpoint resumed at, and with `report_metrics` the result's metrics.
    """

    image: np.ndarray
    history: dict
    info: dict


def stylize(content, style, *, size=DEFAULTS["size"], steps=DEFAULTS["steps"], optimizer=DEFAULTS["optimizer"],
            learning_rate=DEFAULTS["learning_rate"], backbone=DEFAULTS["backbone"], weights=DEFAULTS["weights"],
            pooling=DEFAULTS["pooling"], content_weight=None, style_weight=None, tv_weight=None, content_layers=None,
            style_layers=None, style_loss=DEFAULTS["style_loss"], mmd_kernel=DEFAULTS["mmd_kernel"],
            init=DEFAULTS["init"], seed=DEFAULTS["seed"], style_blend_weights=None,
            style_scale=DEFAULTS["style_scale"], preserve_colors=None, normalize=None, style_masks=None,
            sizes=None, tile_size=DEFAULTS["tile_size"], tile_overlap=DEFAULTS["tile_overlap"],
            structure=None, structure_weight=0.0, checkpoint_dir=None, checkpoint_every=0, resume=False,
            logdir=None, log_images_every=50, callbacks=(), progress=True, verbose=True, report_metrics=False):
    """Render `content` in the style of `style` by optimizing the image (Gatys et al. 2016).

    The output image is optimized so that its features on a frozen backbone match the content image's features
    (content layers) and their statistics match the style image's (style layers):
    `L = α L_content + β L_style + γ TV (+ λ_d L_structure)`, each layer term normalised by its target's energy
    (see `tfstyle.losses.PerceptualLoss`), minimised with L-BFGS or Adam. On `vgg19` the default objective is
    neural-style's instead (raw terms; see `normalize`).

    The default run is coarse to fine (`tfstyle.optimize.pyramid.default_schedule`: at 512 px, 200 L-BFGS
    iterations at 128 px, 100 at 256 px and 30 at 512 px) from the content recoloured to the style's palette: the
    coarse level lays strokes and colour fields at the painting's scale, the finer levels add the detail.

    Args:
        content: content image: path, `"sample:NAME"`, PIL image or array (see `tfstyle.load_image`).
        style: one style image or a list of them.
        size: long side of the output in pixels (the content is resized to it).
        steps: L-BFGS iterations or Adam steps; with `sizes`, at every level, or a list with one count per level.
            None: the default schedule's (with `sizes` None too, its sizes as well). A number without `sizes` runs
            that many steps at `size` alone, as neural-style's `-num_iterations` does.
        optimizer: `"lbfgs"` or `"adam"`.
        learning_rate: Adam's step size on the [0, 1] image.
        backbone: registry name, `"auto"` (VGG19 if its ImageNet weights can be had, else `vgg16_hed`), or a
            mapping `{name: weight}` for a weighted multi-backbone loss (e.g. `{"vgg19": 1, "inception_v3": 1e3}`).
        weights: `"default"`, `"imagenet"`, None (random, for tests) or a weights file (single backbone).
        pooling: `"max"` or `"avg"` (VGGs; Gatys et al. used average pooling).
        content_weight: α; None: the backbone's default (`LOSS_DEFAULTS`; on `vgg19` neural-style's 5).
        style_weight: β; None: the backbone's default (on `vgg19`, neural-style's 100, in neural-style's units).
        tv_weight: γ, total-variation smoothing (mean squared neighbour difference of the [0, 1] image); None: the
            backbone's default (on `vgg19`, neural-style's 1e-3 on its 0–255 sum, converted per level size).
        content_layers: layer names or `{name: weight}`; default: the backbone's `LOSS_DEFAULTS` entry, else its
            registry default (VGG: block4_conv2 = relu4_2; vgg16_hed: block3_conv2 and block4_conv2).
        style_layers: same; default VGG: block1_conv1 … block5_conv1 (relu1_1 … relu5_1).
        style_loss: `"gram"`, `"mmd"` or `"meanstd"`.
        mmd_kernel: kernel of the MMD loss: `"gaussian"`, `"linear"` or `"poly"`.
        init: `"palette"` (the content recoloured to the style's per-channel histograms, the default: the run then
            starts in the painting's colours; with several styles the first one's, with style masks each region's
            own and the content outside every mask), `"content"`, `"noise"`, `"style"`, or an image (anything
            `load_image` accepts).
        seed: seed of the noise initialisation and of any sampling, for reproducible runs.
        style_blend_weights: one weight per style image (rescaled to sum to 1).
        style_scale: style images are resized to `style_scale × size` on their long side.
        preserve_colors: keep the content's colours (Gatys et al. 2017): `"luminance"` transfers style on the
            luminance only (content and styles turned grey, styles' luminance matched to the content's, the
            content's chroma put back afterwards); `"histogram"` or `"coral"` recolour the style images to the
            content's colour distribution before the transfer. None: the style's colours.
        normalize: normalise every layer term by its target's energy (False: the papers' raw values). None: True,
            except on the `NEURAL_STYLE_BACKBONES` (`vgg19`), whose default is neural-style's objective: raw terms
            with the weights of `tfstyle.optimize.presets.neural_style_objective`, so that `content_weight`,
            `style_weight` and `tv_weight` are read in neural-style's units there. `normalize=True` on `vgg19` uses
            the normalised terms and weights of the other backbones.
        style_masks: spatial control (Gatys et al. 2017): one mask per style image (anything `load_image`
            accepts; white = the style applies, grey = a soft weight, black = not there), or a single label image
            whose distinct colours, sorted by luminance, are the regions of styles 1…K (with K + 1 colours the
            darkest region gets no style). Positions no mask covers get only content and TV; each style's
            statistics are taken over its region only, the targets over the whole style image. Masks are resized
            to the output (see `tfstyle.masks.load_style_masks`); blend weights are then rescaled to a mean of 1,
            so each region gets a single style's strength. Gram and mean/std style losses only.
        sizes: coarse-to-fine pyramid: increasing long sides ending at the output size (e.g. `[256, 512, 1024]`;
            `size` is then ignored) or `"auto"` (halve `size` down to 256). None: the default schedule when
            `steps` is None too, else the single level `size`. Each level starts from the previous
            level's result, upsampled; the normalised losses need no reweighting between levels (see
            `tfstyle.optimize.pyramid`).
        tile_size: high resolution: optimize the image in overlapping tiles of this side, with global style
            statistics (`tfstyle.optimize.tiling.TiledObjective`), so peak memory grows with the pixel count only
            through a few full-size arrays; `"auto"` tiles with 512 px tiles only when the untiled run would need
            more than 70% of this machine's memory; None never tiles. Tiling supports one backbone, the Gram and
            mean/std losses, and no masks.
        tile_overlap: context in pixels around each tile's own region (64 makes tiled and untiled agree to ~1e-7
            on VGG layers up to block5_conv1 — measured in tests/test_tiling.py and benchmarks/tiled_memory.py).
        structure: a structure network D for a depth / structure term (Liu et al. 2017; Wu & Song 2020):
            anything `tfstyle.losses.structure.get_structure` accepts: `"laplacian"` / `"laplacian:POOL"` and
            `"hed"` are structure proxies, not depth; a `.keras` path or `keras.Model` RGB → depth is real depth.
        structure_weight: λ_d. The term is `mean((D(x) − D(c))²)`, with `normalize` divided by `mean(D(c)²)` like
            every other term here, so λ_d = 1 weighs it like one content layer whatever D's scale. c is the
            content as the optimization sees it (grey with `preserve_colors="luminance"`). Not with tiling.
        checkpoint_dir: save checkpoints of the run there (image, step, history, the optimizer's state; a
            subfolder per pyramid level) when it is interrupted, and every `checkpoint_every` steps.
        checkpoint_every: steps between checkpoints (0: only on Ctrl-C); with it, a finished run also saves, so it
            can be extended with more `steps` and `resume=True`.
        resume: continue the run saved in `checkpoint_dir` (the same options are required; `steps` may grow).
            Both optimizers resume exactly (see `tfstyle.optimize.checkpoint`). Without it, a `checkpoint_dir`
            that holds a checkpoint is refused.
        logdir: write TensorBoard summaries there: every loss term and layer term each step, the image every
            `log_images_every` steps, the inputs and the run's options (see `tfstyle.logging.TensorBoardLogger`).
        log_images_every: steps between image summaries when `logdir` is set.
        callbacks: extra `tfstyle.optimize.callbacks.Callback` objects (e.g. `SaveEvery`).
        progress: show a progress bar with the live loss.
        verbose: print one line saying which backbone was used and why.
        report_metrics: add `info["metrics"]`: style and content distances, SSIM and PSNR of the result to its
            inputs on the fixed metric network (`tfstyle.metrics.evaluate`, computed at most at 512 px).

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
    from tfstyle.losses.perceptual import MultiBackboneLoss
    from tfstyle.optimize.loop import optimize_image
    from tfstyle.optimize.pyramid import LevelCallback

    _check_positive(size=size, style_scale=style_scale, learning_rate=learning_rate)
    _check_non_negative(**{key: value for key, value in dict(content_weight=content_weight, style_weight=style_weight,
                                                             tv_weight=tv_weight).items() if value is not None},
                        structure_weight=structure_weight)
    structure_network = _structure_network(structure, structure_weight)
    if structure_network is not None:  # runs without the term keep the fingerprint of earlier versions
        logged_options.update(structure=structure_network.spec or structure_network.name,
                              structure_weight=float(structure_weight))
    styles = _style_list(style, style_blend_weights)

    if preserve_colors is not None and preserve_colors not in colour.COLOR_MODES:
        raise OptionError(f"unknown preserve_colors {preserve_colors!r}; choose one of: "
                          f"{', '.join(colour.COLOR_MODES)}")
    backbone_weights, reason = _resolve_backbones(backbone)
    if len(backbone_weights) > 1 and (content_layers is not None or style_layers is not None
                                      or weights not in ("default", "imagenet", None)):
        raise OptionError("content_layers, style_layers and a weights file apply to a single backbone; "
                          "with several backbones each uses its default layers and weights")

    loss_options = _loss_options(backbone_weights, content_weight, style_weight, tv_weight, normalize,
                                 content_layers, style_layers)
    content_weight, style_weight, normalize = (loss_options.content_weight, loss_options.style_weight,
                                               loss_options.normalize)
    content_layers, style_layers = loss_options.content_layers, loss_options.style_layers
    levels, counts = _schedule(size, sizes, steps)
    content_source = load_image(content)
    style_sources = [load_image(path) for path in styles]
    min_side = max(_spec(name).min_size for name in backbone_weights)
    def level_inputs(level_size):
        """The content, style images and masks as the optimization sees them at one pyramid level."""
        content_image = resize_image(content_source, long_side=int(level_size))
        style_images = [resize_image(source, long_side=max(1, round(level_size * style_scale)))
                        for source in style_sources]
        masks = None
        if style_masks is not None:
            from tfstyle.masks import load_style_masks

            masks = load_style_masks(style_masks, len(styles), content_image.shape[:2], style_loss)
        original = content_image
        content_image, style_images = _prepare_colours(preserve_colors, content_image, style_images)
        return original, content_image, style_images, masks

    # Every level's inputs, once; this also checks the masks at every size before any network is built.
    inputs = [level_inputs(level) for level in levels]
    # The coarsest level is where the images are smallest: check it before any network is built.
    at_level = f" at pyramid size {levels[0]}" if len(levels) > 1 else ""
    coarse_content, _, coarse_styles, _ = inputs[0]
    if min(coarse_content.shape[:2]) < min_side:
        raise OptionError(f"the output is {coarse_content.shape[1]}x{coarse_content.shape[0]} pixels{at_level} but "
                          f"{', '.join(backbone_weights)} needs at least {min_side} on each side; increase size")
    for image in coarse_styles:
        if min(image.shape[:2]) < min_side:
            raise OptionError(f"a style image is {image.shape[1]}x{image.shape[0]} pixels after scaling{at_level} "
                              f"but the backbone needs at least {min_side}; increase size or style_scale")
    final_original, _, final_styles, _ = inputs[-1]
    tv_weights = [loss_options.tv_weight(*original.shape[:2]) for original, *_ in inputs]
    # what ran, not what was asked: defaults resolved (per backbone), so a checkpoint of other defaults is refused
    logged_options.update(content_weight=content_weight, style_weight=style_weight, tv_weight=tv_weights[-1],
                          normalize=normalize, content_layers=content_layers, style_layers=style_layers)
    init_source = _init_source(init)
    checkpoints = _Checkpoints(checkpoint_dir, checkpoint_every, resume, levels,
                               _fingerprint(logged_options, content, styles, style_masks, backbone, init, levels))

    if verbose and reason:  # only once the inputs are known to be good: an error stays a single line
        print(reason, file=sys.stderr)

    perceptual = _perceptual_losses(backbone_weights, weights, pooling, content_layers, style_layers,
                                    _style_loss(style_loss, mmd_kernel, seed), content_weight, style_weight, normalize)
    criterion = (next(iter(perceptual.values())) if len(perceptual) == 1
                 else MultiBackboneLoss(perceptual, backbone_weights))

    structure_term = None if structure_network is None else _StructureTerm(structure_network, normalize)

    level_tv = {"weight": tv_weights[0]}  # the TV weight of the level being optimized (it may depend on its size)

    def objective(image):
        terms = criterion(image)
        terms["tv"] = level_tv["weight"] * ops.total_variation(image)[0]
        terms["total"] = terms["content"] + terms["style"] + terms["tv"]
        if structure_term is not None:
            terms["structure"] = structure_weight * structure_term(image)
            terms["total"] = terms["total"] + terms["structure"]
        return terms

    plans = [_plan_memory(perceptual, original.shape[:2], tile_size, tile_overlap, optimizer, style_loss,
                          style_masks, level_tv_weight, structure_network)
             for (original, *_), level_tv_weight in zip(inputs, tv_weights)]
    if verbose:
        print(plans[-1].describe(), file=sys.stderr)

    user_callbacks = [*([_progress_bar(inputs, counts)] if progress else []), *callbacks]
    if logdir is not None:
        user_callbacks.append(_tensorboard_logger(logdir, log_images_every, logged_options, backbone,
                                                  backbone_weights, init, final_original, final_styles[0]))
    level_callbacks = [LevelCallback(callback, sum(counts)) for callback in user_callbacks]

    image, history, steps_done, seconds, resumed_from = None, {}, 0, 0.0, 0
    for index, count in enumerate(counts):
        original, content_image, style_images, masks = inputs[index]
        plan = plans[index]
        level_tv["weight"] = tv_weights[index]
        if plan.tiled is not None:
            level_objective = plan.tiled
            level_objective.set_content(content_image[None])
            level_objective.set_styles([style[None] for style in style_images], style_blend_weights)
        else:
            criterion.set_content(content_image[None])
            criterion.set_styles([style[None] for style in style_images], style_blend_weights, masks=masks)
            if structure_term is not None:
                structure_term.set_content(content_image[None])
            level_objective = objective
        if image is None:
            init_image = _initial_image(init_source, content_image, style_images, seed, masks)
        else:  # the previous level's result, upsampled
            init_image = resize_image(image, size=content_image.shape[:2])
        last = index == len(levels) - 1
        for callback in level_callbacks:
            callback.start_level(steps_done, last)
        result = optimize_image(level_objective, init_image, optimizer=optimizer, steps=count,
                                learning_rate=learning_rate, callbacks=level_callbacks,
                                lbfgs_memory=plan.lbfgs_memory,
                                checkpoint=checkpoints.level(index, last))
        for key, values in result.history.items():
            history.setdefault(key, []).extend(values)
        image, seconds = result.image, seconds + result.seconds
        steps_done += result.steps
        if result.resumed_from:  # the latest point a checkpoint brought the run back to
            resumed_from = steps_done - result.steps + result.resumed_from
        if result.reason not in ("done", "converged"):
            break
    if result.reason in ("done", "converged"):
        checkpoints.finished()
    if preserve_colors == "luminance":
        image = colour.transfer_luminance(image, original)
    info = {
        "backbone": dict(backbone_weights) if len(backbone_weights) > 1 else next(iter(backbone_weights)),
        "backbone_reason": reason,
        "size": list(image.shape[:2]),
        "sizes": levels,
        "level_steps": counts,
        "optimizer": optimizer,
        "steps": steps_done,
        "reason": result.reason,
        "seconds": seconds,
        "resumed_from": resumed_from,
        "checkpoint_dir": None if checkpoint_dir is None else os.fspath(checkpoint_dir),
        "checkpoint_saved": result.checkpoint_saved,
        "style_loss": style_loss,
        "preserve_colors": preserve_colors,
    }
    if structure_network is not None:
        info.update(structure=structure_network.name, structure_is_proxy=bool(structure_network.is_proxy),
                    structure_weight=float(structure_weight))
    if report_metrics and result.reason in ("done", "converged"):  # not after Ctrl-C: the user wants out
        info["metrics"] = _metrics(image, content_source, style_sources, style_scale)
    return StylizeResult(image, history, info)


def _style_list(style, blend_weights):
    """`style` as a list of style images, checked against the blend weights."""
    styles = list(style) if isinstance(style, (list, tuple)) else [style]
    if not styles:
        raise OptionError("need at least one style image")
    if blend_weights is not None and len(blend_weights) != len(styles):
        raise OptionError(f"got {len(blend_weights)} style blend weights for {len(styles)} style images")
    if blend_weights is not None and (min(blend_weights) < 0 or sum(blend_weights) <= 0):
        raise OptionError(f"style blend weights must be non-negative with a positive sum; "
                          f"received {list(blend_weights)}")
    return styles


def _perceptual_losses(backbones, weights, pooling, content_layers, style_layers, style_loss, content_weight,
                       style_weight, normalize):
    """`{backbone: PerceptualLoss}`, each on a cached extractor pruned to the layers it reads."""
    from tfstyle.losses.perceptual import PerceptualLoss

    losses = {}
    for name in backbones:
        extractor = _extractor(name, weights, pooling, _layers(name, content_layers, style_layers))
        losses[name] = PerceptualLoss(extractor, content_layers, style_layers, style_loss=style_loss,
                                      content_weight=content_weight, style_weight=style_weight, normalize=normalize)
    return losses


def _progress_bar(inputs, counts):
    """The progress bar of a run; it advances by pixels so that its ETA holds across levels whose steps cost 4×
    more each."""
    from tfstyle.optimize.callbacks import ProgressBar

    return ProgressBar(step_costs=[float(original.shape[0] * original.shape[1])
                                   for (original, *_), count in zip(inputs, counts) for _ in range(count)])


def _tensorboard_logger(logdir, images_every, logged_options, backbone, backbones, init, content, style):
    """The TensorBoard callback of a run, with its options as they were asked for and resolved."""
    from tfstyle.logging import TensorBoardLogger

    options = dict(logged_options)
    options["backbone"] = backbone if isinstance(backbone, str) else ",".join(f"{k}:{v:g}" for k, v in
                                                                              backbone.items())
    options["resolved_backbone"] = ",".join(backbones)
    options["init"] = init if isinstance(init, str) else "an image"
    return TensorBoardLogger(logdir, images_every=images_every, options=options, content=content, style=style)


def _schedule(size, sizes, steps):
    """The levels and steps of a run: the default schedule when neither is given (see `stylize`)."""
    from tfstyle.optimize.pyramid import default_schedule, level_steps, pyramid_sizes, schedule_steps

    if sizes is None and steps is None:
        return default_schedule(size)
    levels = pyramid_sizes(size, sizes)
    return levels, (schedule_steps(len(levels)) if steps is None else level_steps(steps, levels))


@dataclasses.dataclass
class _LossOptions:
    """The loss weights and layers of a run, defaults resolved for its backbone(s); `tv_weight(height, width)`."""

    content_weight: float
    style_weight: float
    normalize: bool
    content_layers: object
    style_layers: object
    tv_weight: object


def _loss_options(backbones, content_weight, style_weight, tv_weight, normalize, content_layers, style_layers):
    """Resolve the loss options left at None: neural-style's objective on `NEURAL_STYLE_BACKBONES` (unless
    `normalize=True`), else the normalised terms with the backbone's `LOSS_DEFAULTS`."""
    (name,) = backbones if len(backbones) == 1 else (None,)
    if name in NEURAL_STYLE_BACKBONES and normalize is None:
        from tfstyle.optimize.presets import neural_style_objective

        chosen = {key: value for key, value in dict(content_weight=content_weight, style_weight=style_weight,
                                                    tv_weight=tv_weight).items() if value is not None}

        def preset(height, width):
            return neural_style_objective(max(2, height), max(2, width), backbone=name,
                                          content_layers=content_layers, style_layers=style_layers, **chosen)

        options = preset(2, 2)  # everything but the TV weight is independent of the size; checks the options
        return _LossOptions(options["content_weight"], options["style_weight"], False, options["content_layers"],
                            options["style_layers"], lambda height, width: preset(height, width)["tv_weight"])
    defaults = LOSS_DEFAULTS.get(name, LOSS_DEFAULTS["normalized"])
    tv = defaults["tv_weight"] if tv_weight is None else float(tv_weight)
    return _LossOptions(defaults["content_weight"] if content_weight is None else float(content_weight),
                        defaults["style_weight"] if style_weight is None else float(style_weight),
                        True if normalize is None else bool(normalize),
                        defaults["content_layers"] if content_layers is None else content_layers, style_layers,
                        lambda height, width: tv)


def _structure_network(structure, weight):
    """The structure network of the structure term, or None; a weight without a network is refused."""
    from tfstyle.losses.structure import get_structure, require_structure

    require_structure(structure, weight)
    return get_structure(structure) if structure is not None else None


class _StructureTerm:
    """`mean((D(x) − D(c))²)`, divided by `mean(D(c)²)` when `normalize`: D(c) is computed once per content."""

    def __init__(self, network, normalize):
        self.network = network
        self.normalize = bool(normalize)
        self.target = self.scale = None

    def set_content(self, content):
        from keras import ops

        self.target = ops.convert_to_tensor(self.network(content))
        energy = float(ops.mean(ops.square(self.target)))
        self.scale = 1.0 / max(energy, 1e-12) if self.normalize else 1.0

    def __call__(self, image):
        from keras import ops

        difference = self.network(image) - ops.cast(self.target, "float32")
        return self.scale * ops.mean(ops.square(difference))


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


@dataclasses.dataclass
class _MemoryPlan:
    """How one level runs: tiled or not, how many L-BFGS corrections, and the estimated peak memory."""

    height: int
    width: int
    tile_size: int | None
    lbfgs_memory: int
    estimate: int
    optimizer: str
    tiled: object = None  # the level's `TiledObjective` when it is tiled

    def describe(self):
        from tfstyle.optimize.memory import format_bytes

        how = f"tiles of {self.tile_size} px" if self.tile_size else "untiled"
        optimizer = (f"L-BFGS with {self.lbfgs_memory} corrections" if self.optimizer == "lbfgs" else "Adam")
        return (f"memory estimate: {format_bytes(self.estimate)} at peak for {self.width}x{self.height} ({how}, "
                f"{optimizer})")


def _memory_budget():
    """Bytes a run may plan to use: `MEMORY_BUDGET` of the machine's physical memory."""
    try:
        return int(MEMORY_BUDGET * os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # not a POSIX system: assume 16 GB
        return int(MEMORY_BUDGET * 16 * 2 ** 30)


def _plan_memory(perceptual, shape, tile_size, overlap, optimizer, style_loss, style_masks, tv_weight,
                 structure=None):
    """Decide tiling and the L-BFGS memory of a level from the memory estimate (before any step runs)."""
    from tfstyle.optimize.memory import estimate_memory, format_bytes

    height, width = (int(value) for value in shape)
    extractors = [loss.extractor for loss in perceptual.values()]
    budget = _memory_budget()

    def estimate(tile, corrections):
        return sum(estimate_memory(extractor, height, width, tile_size=tile, optimizer=optimizer,
                                   lbfgs_memory=corrections, overlap=overlap) for extractor in extractors)

    if tile_size is not None and tile_size != "auto" and (isinstance(tile_size, bool) or int(tile_size) < 1):
        raise OptionError(f"tile_size must be a positive number of pixels, 'auto' or None; received {tile_size!r}")
    if int(overlap) < 0:
        raise OptionError(f"tile_overlap must be zero or positive; received {overlap}")
    untiled = estimate(None, LBFGS_MEMORY)
    if tile_size == "auto":
        tile = 512 if untiled > budget else None
    elif tile_size is None or max(height, width) <= int(tile_size):
        tile = None
    else:
        tile = int(tile_size)
    if tile is not None:
        why = None
        if len(extractors) > 1:
            why = "several backbones"
        elif style_masks is not None:
            why = "style masks"
        elif style_loss == "mmd":
            why = "the MMD style loss"
        elif structure is not None:
            why = "the structure term"
        if why:
            raise OptionError(f"a {width}x{height} output needs tiling (about {format_bytes(untiled)} "
                              f"untiled), which does not support {why}; use a smaller size or tile_size=None")
        from tfstyle.optimize.tiling import TiledObjective

        loss = next(iter(perceptual.values()))
        try:  # checks the tile geometry against the network's feature strides before anything runs
            tiled = TiledObjective(loss, tv_weight, tile, overlap)
            tiled.layout(height, width)
        except ValueError as error:
            raise OptionError(str(error)) from None
    corrections = LBFGS_MEMORY
    if optimizer == "lbfgs":
        while corrections > MIN_LBFGS_MEMORY and estimate(tile, corrections) > budget:
            corrections -= 1
    needed = estimate(tile, corrections)
    if needed > budget:
        raise OptionError(f"a {width}x{height} output needs about {format_bytes(needed)}, more than this machine "
                          f"can give ({format_bytes(budget)}); use optimizer='adam', tiles or a smaller size")
    return _MemoryPlan(height, width, tile, corrections, needed, optimizer, tiled if tile is not None else None)


class _Checkpoints:
    """A run's checkpoint folders: `checkpoint_dir` itself for one size, a subfolder per level of a pyramid.

    Levels before the last also save when they finish, so that a resumed pyramid skips the levels already done.
    """

    def __init__(self, directory, every, resume, levels, fingerprint):
        from tfstyle.optimize.checkpoint import RunCheckpoint

        if resume and directory is None:
            raise OptionError("resume needs checkpoint_dir: the folder the interrupted run saved to")
        self.directory = None if directory is None else pathlib.Path(directory)
        self.every = int(every)
        self.levels = levels
        self.fingerprint = fingerprint
        self._make = RunCheckpoint
        if self.directory is None:
            return
        found = [index for index in range(len(levels)) if self.level(index, last=True).exists()]
        if found and not resume:
            raise OptionError(f"{self.directory} already holds a checkpoint; resume it (resume=True, --resume) or "
                              f"choose another checkpoint folder")
        for index in found:  # refuse a folder of another run now, before any network is built
            self.level(index, last=True).check_fingerprint()

    def _folder(self, index):
        return self.directory if len(self.levels) == 1 else self.directory / f"level{index + 1}_{self.levels[index]}px"

    def finished(self):
        """The whole run finished: without periodic checkpoints, drop what only served to skip done levels."""
        if self.directory is None or self.every > 0 or len(self.levels) == 1:
            return
        import shutil

        for index in range(len(self.levels)):
            shutil.rmtree(self._folder(index), ignore_errors=True)
        with contextlib.suppress(OSError):
            self.directory.rmdir()  # only if nothing else is in it

    def level(self, index, last):
        if self.directory is None:
            return None
        folder = self._folder(index)
        return self._make(folder, every=self.every, fingerprint=self.fingerprint,
                          save_when_done=self.every > 0 or not last)


def _fingerprint(options, content, styles, style_masks, backbone, init, levels):
    """What makes a run this run, for refusing to resume a checkpoint of another (steps may change: a run can be
    extended)."""
    values = {key: _describe(value) for key, value in options.items() if key != "steps"}
    values.update(content=_describe(content), styles=_describe(styles), style_masks=_describe(style_masks),
                  backbone=_describe(backbone), init=_describe(init), sizes=list(levels))
    return values


def _describe(value):
    """A JSON-able description of an option value; arrays and PIL images by shape and content hash."""
    import hashlib

    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, dict):
        return {str(key): _describe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_describe(item) for item in value]
    array = np.ascontiguousarray(np.asarray(value))
    return f"array{list(array.shape)}:{hashlib.sha1(array.tobytes()).hexdigest()[:16]}"


def _metrics(image, content, styles, style_scale):
    """The result's distances to its inputs on the fixed metric network (`tfstyle.metrics`), computed on copies
    no larger than `REPORT_SIZE` so that a high-resolution result costs no more to score than a 512 px one."""
    from tfstyle import metrics
    from tfstyle.io import resize_image

    long_side = min(max(image.shape[:2]), REPORT_SIZE)
    small = resize_image(image, long_side=long_side)
    content = resize_image(content, size=small.shape[:2])
    scaled = [resize_image(style, long_side=max(1, round(long_side * style_scale))) for style in styles]
    report = metrics.evaluate(small, content, scaled[0])
    for number, style in enumerate(scaled[1:], start=2):
        report[f"style_gram_{number}"] = float(metrics.style_distance(small, style))
    return report


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


def _init_source(init):
    """`init` checked before the run: one of `INITS`, or the image it names, loaded."""
    from tfstyle.io import load_image

    if isinstance(init, str) and init in INITS:
        return init
    if isinstance(init, str) and not init.startswith("sample:") and "." not in init and "/" not in init:
        raise OptionError(f"unknown init {init!r}; choose one of: {', '.join(INITS)}, or an image path")
    return load_image(init)


def _initial_image(init, content_image, style_images, seed, masks=None):
    """The first level's starting image from an `_init_source` value.

    `"palette"` recolours the content to the first style's histograms, or with style masks (K, H, W) each style's
    region to that style's histograms (`Σ_k m_k · palette_k + (1 − Σ_k m_k) · content`), so that areas no mask
    covers start, and stay, as the content.
    """
    from tfstyle.io import resize_image

    height, width = content_image.shape[:2]
    style_image = style_images[0]
    if isinstance(init, str) and init == "content":
        return content_image
    if isinstance(init, str) and init == "palette":
        from tfstyle.ops.colour import match_histograms

        if masks is None:
            return match_histograms(content_image, style_image)
        weights = np.clip(np.asarray(masks, np.float32), 0.0, 1.0)[..., None]
        recoloured = sum(weight * match_histograms(content_image, style)
                         for weight, style in zip(weights, style_images))
        return (recoloured + np.clip(1.0 - weights.sum(axis=0), 0.0, 1.0) * content_image).astype(np.float32)
    if isinstance(init, str) and init == "noise":
        return np.random.default_rng(seed).uniform(0.0, 1.0, content_image.shape).astype(np.float32)
    if isinstance(init, str) and init == "style":
        return resize_image(style_image, size=(height, width))
    return resize_image(init, size=(height, width))
