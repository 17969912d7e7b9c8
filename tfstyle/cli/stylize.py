"""`tfstyle stylize CONTENT STYLE [STYLE ...] -o OUT`: optimization-based style transfer."""

import os
import sys

from tfstyle.cli import parsing
from tfstyle.optimize.stylize import DEFAULTS, INITS, LOSS_DEFAULTS

# the style losses `tfstyle.losses.STYLE_LOSSES` registers (listed here so that --help needs no TensorFlow)
STYLE_LOSSES = ("gram", "mmd", "meanstd", "sw")

EXIT_INTERRUPTED = 130
EXIT_DIVERGED = 1


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "stylize", help="render a content image in the style of one or more style images (Gatys optimization)",
        description="Optimize an image so its deep features match CONTENT and their statistics match STYLE "
                    "(Gatys et al. 2016). Images: a path or sample:NAME (see `tfstyle samples`).")
    parser.add_argument("content", help="content image (path or sample:NAME)")
    parser.add_argument("style", nargs="+", help="style image(s)")
    parser.add_argument("-o", "--output", required=True, help="output image (.png, .jpg, ...)")
    _add_optimization_arguments(parser)
    _add_network_arguments(parser)
    _add_loss_arguments(parser)
    _add_output_arguments(parser)
    _add_checkpoint_arguments(parser)
    parser.set_defaults(run=run)
    return parser


def _add_optimization_arguments(parser):
    """Size, steps, pyramid, optimizer, tiling, init and seed."""
    group = parser.add_argument_group("size and optimization")
    group.add_argument("--size", type=parsing.positive_int, default=DEFAULTS["size"],
                       help="long side of the output in pixels (default %(default)s)")
    group.add_argument("--steps", type=parsing.steps_choice, default=DEFAULTS["steps"],
                       help="L-BFGS iterations or Adam steps. Default: the coarse-to-fine schedule (at 512 px: 200 "
                            "at 128 px, 100 at 256 px, 30 at 512 px). A number without --sizes runs that many at "
                            "--size alone, as neural-style; with --sizes, per level or one count per level such as "
                            "300,100")
    group.add_argument("--sizes", type=parsing.sizes_choice,
                       help="coarse-to-fine pyramid: increasing long sides ending at the output size, e.g. "
                            "256,512,1024 (then --size is ignored), or auto (halve --size down to 256); each level "
                            "starts from the previous result, upsampled. Default: --size halved down to 128 px "
                            "unless --steps is a single number")
    group.add_argument("--optimizer", choices=("lbfgs", "adam"), default=DEFAULTS["optimizer"],
                       help="default %(default)s")
    group.add_argument("--learning-rate", type=parsing.positive_float, default=DEFAULTS["learning_rate"],
                       help="Adam step size on the [0, 1] image (default %(default)s)")
    group.add_argument("--tile-size", type=parsing.tile_choice, default=DEFAULTS["tile_size"],
                       help="high resolution: optimize in overlapping tiles of this many pixels with global style "
                            "statistics; auto (default) tiles only when the untiled run would not fit in memory, "
                            "none never tiles")
    group.add_argument("--tile-overlap", type=parsing.non_negative_int, default=DEFAULTS["tile_overlap"],
                       help="context around each tile in pixels (default %(default)s)")
    group.add_argument("--init", default=DEFAULTS["init"],
                       help=f"initial image: {', '.join(INITS)} or an image path (default %(default)s: the content "
                            f"recoloured to the style's histograms)")
    group.add_argument("--seed", type=parsing.non_negative_int, default=DEFAULTS["seed"],
                       help="seed for the noise init and sampling (default %(default)s)")


def _add_network_arguments(parser):
    """Backbone, weights, pooling and layers."""
    group = parser.add_argument_group("network")
    group.add_argument("--backbone", type=parsing.backbone_choice, default=DEFAULTS["backbone"],
                       help="auto, vgg19, vgg16, vgg16_hed, inception_v3, resnet50, nasnet_mobile, or weighted "
                            "backbones such as vgg19:1,inception_v3:1000 (default %(default)s; see "
                            "`tfstyle backbones`)")
    group.add_argument("--weights", default=DEFAULTS["weights"],
                       help="default, imagenet, or a weights file for the backbone (default %(default)s)")
    group.add_argument("--pooling", choices=("max", "avg"), default=DEFAULTS["pooling"],
                       help="pooling in VGG backbones (default %(default)s)")
    group.add_argument("--content-layers", type=parsing.layer_choice,
                       help="comma-separated content layers, optionally weighted: block4_conv2 or a:1,b:2")
    group.add_argument("--style-layers", type=parsing.layer_choice,
                       help="comma-separated style layers, optionally weighted: block1_conv1:1,block2_conv1:2")


def _add_loss_arguments(parser):
    """Loss weights, style loss, blending, masks, colours and the structure term."""
    group = parser.add_argument_group("loss")
    group.add_argument("--content-weight", type=parsing.non_negative_float,
                       help=f"default per backbone: {_weights_help('content_weight')}; on vgg19 neural-style's 5 "
                            f"(its units: neural-style's own objective); lower is more abstract")
    group.add_argument("--style-weight", type=parsing.non_negative_float,
                       help=f"default per backbone: {_weights_help('style_weight')}; on vgg19 neural-style's 100")
    group.add_argument("--tv-weight", type=parsing.non_negative_float,
                       help=f"total-variation smoothing; default per backbone: {_weights_help('tv_weight')}; on "
                            f"vgg19 neural-style's 1e-3")
    group.add_argument("--style-loss", choices=tuple(STYLE_LOSSES), default=DEFAULTS["style_loss"],
                       help="style statistics to match: gram (Gatys), mmd, meanstd, sw (sliced Wasserstein, "
                            "Heitz et al. 2021; matches whole feature distributions, about 3x slower) "
                            "(default %(default)s)")
    group.add_argument("--mmd-kernel", choices=("gaussian", "linear", "poly"), default=DEFAULTS["mmd_kernel"],
                       help="kernel of --style-loss mmd (default %(default)s)")
    group.add_argument("--style-blend-weights", type=parsing.float_list,
                       help="one weight per style image, e.g. 3,7")
    group.add_argument("--style-scale", type=parsing.positive_float, default=DEFAULTS["style_scale"],
                       help="style images are resized to style-scale x size (default %(default)s)")
    group.add_argument("--style-masks", type=parsing.path_list, metavar="MASK[,MASK...]",
                       help="spatial control: one mask per style image (white = that style, black = none), or "
                            "one label image whose colours, darkest first, are the styles' regions (one extra, "
                            "darkest colour = no style); unmasked areas keep the content")
    group.add_argument("--preserve-colors", choices=("luminance", "histogram", "coral"),
                       help="keep the content's colours: luminance-only transfer, or recolour the style to the "
                            "content's colours by histogram matching or CORAL before the transfer")
    parsing.add_structure_arguments(parser, "structure (depth-aware style transfer, Liu et al. 2017)",
                                    weight_help="required with --structure; normalised like the other terms, so "
                                                "1 weighs it like one content layer")


def _add_output_arguments(parser):
    """Printing, saving, TensorBoard, report and metrics."""
    group = parser.add_argument_group("output")
    group.add_argument("--print-every", type=parsing.non_negative_int, default=0,
                       help="print the losses every N steps (0: never; the progress bar shows them live)")
    group.add_argument("--save-every", type=parsing.non_negative_int, default=0,
                       help="also write OUTPUT_NNNN.png every N steps (0: never)")
    group.add_argument("--logdir", help="write TensorBoard summaries (every loss term, images, options) to this folder")
    group.add_argument("--log-images-every", type=parsing.non_negative_int, default=50,
                       help="steps between images in TensorBoard (default %(default)s; 0: only the last)")
    group.add_argument("--report", metavar="PATH.json",
                       help="also write the run's report (options, time, steps, final loss terms, metrics) as JSON")
    group.add_argument("--no-metrics", action="store_true",
                       help="do not score the result at the end (colour and random-texture distances to the style, "
                            "SSIM to the content; style/content distances on vgg16_hed)")
    group.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _add_checkpoint_arguments(parser):
    """Checkpoints and resume."""
    group = parser.add_argument_group("checkpoints")
    group.add_argument("--checkpoint-dir",
                       help="folder for checkpoints (default: OUTPUT's name + .checkpoint); Ctrl-C always saves one")
    group.add_argument("--checkpoint-every", type=parsing.non_negative_int, default=0,
                       help="also save a checkpoint every N steps (default 0: only on Ctrl-C)")
    group.add_argument("--resume", action="store_true",
                       help="continue the run saved in the checkpoint folder (same options; --steps may be larger)")


def _weights_help(key):
    return ", ".join(f"{'others' if name == 'normalized' else name} {values[key]:g}"
                     for name, values in reversed(LOSS_DEFAULTS.items()))


def run(args):
    from tfstyle.cli.runtime import import_tensorflow_quietly
    from tfstyle.errors import OptionError
    from tfstyle.io import save_image
    from tfstyle.optimize.callbacks import PrintLosses, SaveEvery, numbered_path
    from tfstyle.optimize.stylize import stylize

    parsing.check_output_path(args.output)
    parsing.check_structure_arguments(args)
    import_tensorflow_quietly()
    if args.style_blend_weights is not None and len(args.style_blend_weights) != len(args.style):
        raise OptionError(f"--style-blend-weights has {len(args.style_blend_weights)} values for "
                          f"{len(args.style)} style images")
    if args.style_masks is not None and len(args.style_masks) not in (1, len(args.style)):
        raise OptionError(f"--style-masks has {len(args.style_masks)} images for {len(args.style)} style images; "
                          f"give one mask per style image or a single label image")
    checkpoint_dir = args.checkpoint_dir or default_checkpoint_dir(args.output)
    if args.report:
        parsing.check_output_path(args.report, formats=(".json",))
    callbacks = []
    if args.print_every:
        callbacks.append(PrintLosses(args.print_every))
    if args.save_every:
        callbacks.append(SaveEvery(numbered_path(args.output), args.save_every))
    result = stylize(
        args.content, args.style, size=args.size, steps=args.steps, optimizer=args.optimizer,
        learning_rate=args.learning_rate, backbone=args.backbone, weights=args.weights, pooling=args.pooling,
        content_weight=args.content_weight, style_weight=args.style_weight, tv_weight=args.tv_weight,
        content_layers=args.content_layers, style_layers=args.style_layers, style_loss=args.style_loss,
        mmd_kernel=args.mmd_kernel, init=args.init, seed=args.seed, style_blend_weights=args.style_blend_weights,
        style_scale=args.style_scale, preserve_colors=args.preserve_colors, style_masks=args.style_masks,
        sizes=args.sizes, tile_size=args.tile_size, tile_overlap=args.tile_overlap, structure=args.structure,
        structure_weight=args.structure_weight or 0.0, checkpoint_dir=checkpoint_dir,
        checkpoint_every=args.checkpoint_every, resume=args.resume,
        logdir=args.logdir, log_images_every=args.log_images_every, callbacks=callbacks,
        progress=not args.no_progress, report_metrics=not args.no_metrics)
    path = save_image(args.output, result.image)
    info = result.info
    history = result.history
    final = {key: history[key][-1] for key in ("total", "content", "style", "tv", "structure") if history.get(key)}
    summary = "  ".join(f"{key} {value:.4g}" for key, value in final.items())
    if args.report:
        write_report(args.report, args, result, path)
    if info["reason"] == "interrupted":
        if info.get("checkpoint_saved"):
            print(f"interrupted after {info['steps']} steps; wrote the current image to {path} and a checkpoint to "
                  f"{checkpoint_dir}; run the same command with --resume to continue", file=sys.stderr)
        else:  # a second Ctrl-C in the middle of a step: whatever checkpoint was there is left as it was
            print(f"stopped at once after {info['steps']} steps; wrote the current image to {path} but no new "
                  f"checkpoint (press Ctrl-C once to let the step finish and save)", file=sys.stderr)
        return EXIT_INTERRUPTED
    if info["reason"] == "diverged":
        print(f"the loss became NaN or infinite after {info['steps']} steps; wrote the last good image to {path} "
              f"(try a lower --learning-rate or --style-weight)", file=sys.stderr)
        return EXIT_DIVERGED
    resumed = f", resumed at step {info['resumed_from']}" if info.get("resumed_from") else ""
    print(f"wrote {os.fspath(path)}  ({info['steps']} steps, {info['seconds']:.1f} s{resumed}, backbone "
          f"{info['backbone']})  {summary}")
    if info.get("metrics"):
        for line in metrics_lines(info["metrics"], info["backbone"]):
            print(line)
    return 0


def metrics_lines(scores, backbone):
    """The final metrics as lines: the measures that use no trained network first, then the distances on the
    feature network, flagged when that is a network the run optimized (those values are what the optimizer drove
    down, no evidence of quality)."""
    from tfstyle.metrics import PIXEL_METRICS

    independent = "  ".join(f"{key} {value:.4g}" for key, value in scores.items() if key in PIXEL_METRICS)
    network = "  ".join(f"{key} {value:.4g}" for key, value in scores.items()
                        if key not in PIXEL_METRICS and key != "network")
    lines = [f"metrics without a trained network: {independent}"] if independent else []
    if network:
        optimized = scores.get("network") in (backbone if isinstance(backbone, dict) else (backbone,))
        caveat = " (the network this run optimized: no evidence of quality)" if optimized else ""
        lines.append(f"metrics on {scores.get('network')}{caveat}: {network}")
    return lines


def default_checkpoint_dir(output):
    """`out/astronaut.png` → `out/astronaut.checkpoint`: where Ctrl-C saves when no folder was given."""
    root, _ = os.path.splitext(os.fspath(output))
    return root + ".checkpoint"


def write_report(path, args, result, image_path):
    """The run's report as JSON: inputs, options, what ran, time, final loss terms and metrics."""
    from tfstyle.io import save_json

    options = {key: value for key, value in vars(args).items() if key not in ("run", "command")}
    report = {
        "output": os.fspath(image_path),
        "options": options,
        "info": result.info,
        "final_terms": {key: values[-1] for key, values in result.history.items() if values},
        "seconds_per_step": result.info["seconds"] / max(1, result.info["steps"] - result.info["resumed_from"]),
    }
    save_json(path, report)
