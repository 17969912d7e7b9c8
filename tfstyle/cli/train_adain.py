"""`tfstyle train-adain --content-dir DIR --style-dir DIR -o WORKDIR`: train an AdaIN decoder."""

import sys

from tfstyle.cli import parsing

EXIT_INTERRUPTED = 130
EXIT_DIVERGED = 1


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "train-adain", help="train an AdaIN decoder on a folder of photos and a folder of paintings",
        description="Train the decoder of AdaIN (Huang & Belongie 2017) for a frozen encoder. Checkpoints, "
                    "TensorBoard logs (WORKDIR/logs) and the decoder (WORKDIR/decoder.weights.h5, usable with "
                    "`tfstyle adain --decoder`) go to the work folder; Ctrl-C saves, --resume continues exactly.")
    parser.add_argument("--content-dir", required=True, help="folder of content photos (any image format)")
    parser.add_argument("--style-dir", required=True, help="folder of style images (any image format)")
    parser.add_argument("-o", "--workdir", required=True, help="the run's folder (created)")
    group = parser.add_argument_group("model")
    group.add_argument("--backbone", default="vgg16_hed",
                       help="encoder backbone: vgg16_hed (offline, default), vgg19 or vgg16 (ImageNet weights)")
    group.add_argument("--weights", default="default", help="default, imagenet, or a weights file for the encoder")
    group.add_argument("--encoder-layer", default="block4_conv1",
                       help="encoder output (default block4_conv1 = relu4_1; block3_conv1 is cheaper)")
    group.add_argument("--decoder-width", type=parsing.positive_float, default=1.0,
                       help="scale of the decoder's channels (default 1.0; 0.5 is a lighter decoder)")
    group.add_argument("--style-weight", type=parsing.non_negative_float, default=10.0,
                       help="λ of L_c + λ·L_s (default %(default)s)")
    group.add_argument("--init-decoder", metavar="NAME|PATH",
                       help="start from a trained decoder (a shipped name such as vgg16_hed, or a .weights.h5 with "
                            "its .json) instead of random weights: fine-tune it on your images")
    group.add_argument("--feature-scale", default="auto", metavar="auto|NUMBER",
                       help="the decoder divides its input features by this: auto (default) measures their std on "
                            "the first content photos; 1 is the paper's decoder (made for a normalised VGG19)")
    group.add_argument("--reconstruction-weight", type=parsing.non_negative_float, default=0.0, metavar="WEIGHT",
                       help="λ_r of a pixel reconstruction term MSE(g(f(c)), c) (not in the paper; as in WCT "
                            "decoders): keeps a decoder trained for few steps free of high-frequency noise "
                            "(default 0)")
    group.add_argument("--tv-weight", type=parsing.non_negative_float, default=0.0, metavar="WEIGHT",
                       help="λ_tv of a total-variation term on the stylized output (not in the paper): works "
                            "against a fine checkerboard grid in the output, and smooths brushwork too (default 0)")
    group.add_argument("--shallow-content-weight", type=parsing.non_negative_float, default=0.0, metavar="WEIGHT",
                       help="λ of a second content term one block above the encoder layer (relu3_1 for relu4_1), "
                            "towards that layer's AdaIN target (not in the paper): lowers the content distance of "
                            "a short relu4_1 run, though not enough to keep its layout (default 0)")
    parsing.add_structure_arguments(parser, "structure (depth-aware AdaIN, Wu & Song 2020)",
                                    weight_help="required with --structure; 0 only logs structure_loss")
    group = parser.add_argument_group("training")
    group.add_argument("--steps", type=parsing.positive_int, default=160000,
                       help="total steps of the run (default %(default)s, the paper's; may grow on --resume)")
    group.add_argument("--batch-size", type=parsing.positive_int, default=8, help="default %(default)s")
    group.add_argument("--crop-size", type=parsing.positive_int, default=256, help="default %(default)s")
    group.add_argument("--resize-to", type=parsing.positive_int, default=512,
                       help="short side images are resized to before cropping (default %(default)s)")
    group.add_argument("--scale-jitter", type=parsing.positive_float, nargs=2, metavar=("LOW", "HIGH"),
                       help="zoom each crop by a random factor in [LOW, HIGH] (e.g. 0.5 1.5; default: no zoom)")
    group.add_argument("--color-jitter", type=parsing.non_negative_float, default=0.0, metavar="AMOUNT",
                       help="scale each crop's brightness, contrast and saturation by random factors in "
                            "[1 - AMOUNT, 1 + AMOUNT] (e.g. 0.2; default 0)")
    group.add_argument("--hue-jitter", type=parsing.non_negative_float, default=0.0, metavar="AMOUNT",
                       help="turn each crop's hues by a random fraction of the colour wheel in [-AMOUNT, AMOUNT], "
                            "at most 0.5 (e.g. 0.1; default 0): new palettes from few paintings")
    group.add_argument("--learning-rate", type=parsing.positive_float, default=1e-4, help="default %(default)s")
    group.add_argument("--lr-decay", type=parsing.non_negative_float, default=5e-5,
                       help="learning rate / (1 + decay · step) (default %(default)s)")
    group.add_argument("--seed", type=parsing.non_negative_int, default=0, help="default %(default)s")
    group.add_argument("--no-cache", action="store_true",
                       help="decode images every epoch instead of keeping them in memory (for large folders)")
    group = parser.add_argument_group("checkpoints and logs")
    group.add_argument("--checkpoint-every", type=parsing.non_negative_int, default=500,
                       help="steps between checkpoints and decoder exports (default %(default)s)")
    group.add_argument("--log-every", type=parsing.positive_int, default=10,
                       help="steps between TensorBoard scalars (default %(default)s)")
    group.add_argument("--images-every", type=parsing.non_negative_int, default=200,
                       help="steps between TensorBoard image grids (default %(default)s; 0: none)")
    group.add_argument("--resume", action="store_true", help="continue the run saved in WORKDIR")
    group.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)
    return parser


def run(args):
    from tfstyle.cli.runtime import import_tensorflow_quietly

    parsing.check_structure_arguments(args)
    import_tensorflow_quietly()
    from tfstyle.adain.training import train_adain
    result = train_adain(
        args.content_dir, args.style_dir, args.workdir, backbone=args.backbone, weights=args.weights,
        encoder_layer=args.encoder_layer, decoder_width=args.decoder_width, style_weight=args.style_weight,
        steps=args.steps, batch_size=args.batch_size, crop_size=args.crop_size, resize_to=args.resize_to,
        jitter=_jitter(args),
        learning_rate=args.learning_rate, lr_decay=args.lr_decay, checkpoint_every=args.checkpoint_every,
        log_every=args.log_every, images_every=args.images_every, resume=args.resume, seed=args.seed,
        cache=not args.no_cache, progress=not args.no_progress, structure=args.structure,
        structure_weight=args.structure_weight or 0.0, reconstruction_weight=args.reconstruction_weight,
        tv_weight=args.tv_weight, shallow_content_weight=args.shallow_content_weight,
        feature_scale=_feature_scale(args.feature_scale), init_decoder=args.init_decoder)
    history = result.history
    keys = ("loss", "content_loss", "style_loss", "structure_loss", "reconstruction_loss", "total_variation_loss",
            "shallow_content_loss")
    last = "  ".join(f"{key} {history[key][-1]:.4g}" for key in keys if history.get(key))
    per_step = result.seconds / max(1, result.steps - result.resumed_from)
    if result.reason == "diverged":
        print(f"the loss became NaN or infinite at step {result.steps}; the last checkpoint in {args.workdir} is "
              f"kept (try a lower --learning-rate or --style-weight)", file=sys.stderr)
        return EXIT_DIVERGED
    if result.reason == "interrupted":
        print(f"interrupted at step {result.steps}; saved a checkpoint and {result.decoder_path}; run the same "
              f"command with --resume to continue", file=sys.stderr)
        return EXIT_INTERRUPTED
    resumed = f", resumed at step {result.resumed_from}" if result.resumed_from else ""
    print(f"wrote {result.decoder_path}  ({result.steps} steps, {per_step:.2f} s/step{resumed})  {last}")
    return 0


def _jitter(args):
    from tfstyle.augment import Jitter

    jitter = Jitter(scale=tuple(args.scale_jitter or (1.0, 1.0)), brightness=args.color_jitter,
                    contrast=args.color_jitter, saturation=args.color_jitter, hue=args.hue_jitter)
    return jitter or None


def _feature_scale(text):
    from tfstyle.errors import OptionError

    if text == "auto":
        return text
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not 0 < value < float("inf"):
        raise OptionError(f"--feature-scale must be auto or a positive number; Received: {text!r}")
    return value
