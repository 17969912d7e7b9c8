"""`tfstyle train-cyclegan --a-dir DIR --b-dir DIR -o WORKDIR`: train a CycleGAN on two unpaired image folders."""

import pathlib
import sys

from tfstyle.cli import parsing

EXIT_INTERRUPTED = 130
EXIT_DIVERGED = 1

GENERATOR_CHOICES = ("resnet", "unet", "unet_attention")  # tfstyle.cyclegan.GENERATORS, without importing Keras
OBJECTIVE_CHOICES = ("lsgan", "vanilla", "wgan-gp")


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "train-cyclegan", help="train a CycleGAN on two unpaired folders of images (A and B)",
        description="Train a CycleGAN (Zhu et al. 2017): G translates A to B, F translates B to A. Checkpoints, "
                    "TensorBoard logs (WORKDIR/logs) and both generators (WORKDIR/generator_ab.keras, "
                    "generator_ba.keras, with generators.json) go to the work folder; Ctrl-C saves, --resume "
                    "continues exactly.")
    parser.add_argument("--a-dir", required=True, help="folder of domain A images (any image format)")
    parser.add_argument("--b-dir", required=True, help="folder of domain B images (any image format)")
    parser.add_argument("-o", "--workdir", required=True, help="the run's folder (created)")
    group = parser.add_argument_group("generators")
    group.add_argument("--generator", choices=GENERATOR_CHOICES, default="resnet",
                       help="resnet (the reference), unet, or unet_attention (U-Net with self-attention, Li & Qi "
                            "2023) (default %(default)s)")
    group.add_argument("--blocks", type=parsing.non_negative_int, metavar="N",
                       help="resnet: residual blocks (default 6 below 256 px crops, 9 from 256 px)")
    group.add_argument("--depth", type=parsing.positive_int, metavar="N",
                       help="unet: downsamplings; the crop must be a multiple of 2^N (default: the largest N up "
                            "to 8 that divides the crop, 7 for 128 px)")
    group.add_argument("--filters", type=parsing.positive_int, metavar="N",
                       help="channels of the generators' first conv (default 64)")
    group.add_argument("--max-filters", type=parsing.positive_int, metavar="N",
                       help="unet: cap on the channels of any level (default 512, the reference's 8x64)")
    group.add_argument("--upsampling", choices=("transpose", "resize"),
                       help="transpose (the reference) or resize (nearest + conv: no checkerboard artifacts)")
    group.add_argument("--attention", type=parsing.positive_int_list, metavar="8,...",
                       help="unet: self-attention in the decoder at these fractions of the image side "
                            "(unet_attention default: 8)")
    group = parser.add_argument_group("discriminators")
    group.add_argument("--discriminator-layers", type=parsing.positive_int, metavar="N",
                       help="PatchGAN stride-2 layers (default 3: 70x70 patches)")
    group.add_argument("--discriminator-filters", type=parsing.positive_int, metavar="N",
                       help="channels of the discriminators' first conv (default 64)")
    group.add_argument("--spectral-norm", action="store_true", help="spectral normalisation in the discriminators")
    group.add_argument("--discriminator-attention", action="store_true",
                       help="a self-attention block in the discriminators")
    group = parser.add_argument_group("objective")
    group.add_argument("--objective", choices=OBJECTIVE_CHOICES, default="lsgan",
                       help="adversarial loss (default %(default)s)")
    group.add_argument("--critic-steps", type=parsing.positive_int, metavar="N",
                       help="wgan-gp: critic updates per generator update (default 5)")
    group.add_argument("--gp-weight", type=parsing.non_negative_float, metavar="W",
                       help="wgan-gp: weight of the gradient penalty (default 10)")
    group.add_argument("--cycle-weight", type=parsing.non_negative_float, default=10.0,
                       help="λ of the cycle-consistency loss (default %(default)s)")
    group.add_argument("--identity-weight", type=parsing.non_negative_float, default=0.5,
                       help="identity loss weight, relative to λ (default %(default)s; 0: none)")
    group.add_argument("--pool-size", type=parsing.non_negative_int, default=50,
                       help="generated images kept for the discriminators (default %(default)s; 0: none)")
    group = parser.add_argument_group("training")
    group.add_argument("--steps", type=parsing.positive_int, default=20000,
                       help="total training steps (default %(default)s)")
    group.add_argument("--decay-steps", type=parsing.non_negative_int,
                       help="the last N steps decay the learning rate linearly to 0 (default: half of --steps)")
    group.add_argument("--batch-size", type=parsing.positive_int, default=1, help="default %(default)s")
    group.add_argument("--crop-size", type=parsing.positive_int, default=128, help="default %(default)s")
    group.add_argument("--resize-to", type=parsing.positive_int,
                       help="short side images are resized to before cropping (default: crop size x 286/256)")
    group.add_argument("--learning-rate", type=parsing.positive_float,
                       help="Adam learning rate of both networks (default 2e-4; 1e-4 for wgan-gp)")
    group.add_argument("--beta1", type=parsing.unit_interval_float,
                       help="Adam beta_1 of both networks (default 0.5; 0 for wgan-gp, where 0.5 is a common choice)")
    group.add_argument("--beta2", type=parsing.unit_interval_float,
                       help="Adam beta_2 of both networks (default 0.999; 0.9 for wgan-gp)")
    group.add_argument("--seed", type=parsing.non_negative_int, default=0, help="default %(default)s")
    group.add_argument("--no-cache", action="store_true",
                       help="decode images every epoch instead of keeping them in memory (for large folders)")
    group = parser.add_argument_group("checkpoints and logs")
    group.add_argument("--checkpoint-every", type=parsing.non_negative_int, default=1000,
                       help="steps between checkpoints and generator exports (default %(default)s)")
    group.add_argument("--log-every", type=parsing.positive_int, default=50,
                       help="steps between TensorBoard scalars (default %(default)s)")
    group.add_argument("--images-every", type=parsing.non_negative_int, default=500,
                       help="steps between TensorBoard translation grids (default %(default)s; 0: none)")
    group.add_argument("--max-minutes", type=parsing.non_negative_float, metavar="M",
                       help="stop after M minutes of training and save (for comparisons at equal training time)")
    group.add_argument("--resume", action="store_true", help="continue the run saved in WORKDIR")
    group.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)
    return parser


def _model_options(args):
    """(generator_options, discriminator_options) from the flags, refusing flags of the other generator."""
    from tfstyle.errors import OptionError

    resnet = args.generator == "resnet"
    for flag, value, applies in (("--blocks", args.blocks, resnet), ("--depth", args.depth, not resnet),
                                 ("--max-filters", args.max_filters, not resnet),
                                 ("--attention", args.attention, not resnet)):
        if value is not None and not applies:
            kind = "the resnet generator" if flag == "--blocks" else "the unet and unet_attention generators"
            raise OptionError(f"{flag} applies to {kind}; Received: --generator {args.generator}")
    generator = {"blocks": args.blocks, "depth": args.depth, "filters": args.filters,
                 "max_filters": args.max_filters, "upsampling": args.upsampling,
                 "attention": args.attention}
    discriminator = {"n_layers": args.discriminator_layers, "filters": args.discriminator_filters,
                     "spectral_norm": args.spectral_norm or None, "attention": args.discriminator_attention or None}
    return ({key: value for key, value in generator.items() if value is not None},
            {key: value for key, value in discriminator.items() if value is not None})


def run(args):
    from tfstyle.errors import OptionError

    generator_options, discriminator_options = _model_options(args)
    for flag, value in (("--critic-steps", args.critic_steps), ("--gp-weight", args.gp_weight)):
        if value is not None and args.objective != "wgan-gp":
            raise OptionError(f"{flag} applies to --objective wgan-gp; Received: --objective {args.objective}")
    from tfstyle.cli.runtime import import_tensorflow_quietly

    import_tensorflow_quietly()
    from tfstyle.cyclegan.training import train_cyclegan

    result = train_cyclegan(
        args.a_dir, args.b_dir, args.workdir, generator=args.generator, generator_options=generator_options,
        discriminator_options=discriminator_options, objective=args.objective, critic_steps=args.critic_steps,
        gp_weight=args.gp_weight, cycle_weight=args.cycle_weight, identity_weight=args.identity_weight,
        pool_size=args.pool_size, steps=args.steps, decay_steps=args.decay_steps, batch_size=args.batch_size,
        crop_size=args.crop_size, resize_to=args.resize_to, learning_rate=args.learning_rate,
        beta_1=args.beta1, beta_2=args.beta2, checkpoint_every=args.checkpoint_every, log_every=args.log_every,
        images_every=args.images_every,
        resume=args.resume, seed=args.seed, cache=not args.no_cache, progress=not args.no_progress,
        max_seconds=None if args.max_minutes is None else 60.0 * args.max_minutes)
    checkpoints = pathlib.Path(args.workdir) / "checkpoints"
    if result.reason == "diverged":
        print(f"a loss became NaN or infinite at step {result.steps}; the last checkpoint in {checkpoints} is kept "
              f"(try a lower --learning-rate)", file=sys.stderr)
        return EXIT_DIVERGED
    if result.reason == "interrupted":
        print(f"interrupted at step {result.steps}; the checkpoint is in {checkpoints} and the generators in "
              f"{args.workdir}; run the same command with --resume to continue", file=sys.stderr)
        return EXIT_INTERRUPTED
    history = result.history
    last = "  ".join(f"{key} {history[key][-1]:.4g}" for key in ("generator", "discriminator") if history.get(key))
    per_step = result.seconds / max(1, result.steps - result.resumed_from)
    resumed = f", resumed at step {result.resumed_from}" if result.resumed_from else ""
    paths = result.generator_paths
    if result.steps == result.resumed_from:
        print(f"nothing to do: the run in {args.workdir} already has {result.steps} steps")
    else:
        steps = f"{result.steps} step{'s' if result.steps != 1 else ''}"
        print(f"wrote {paths['ab']} and {paths['ba'].name}  ({steps}, {per_step:.2f} s/step{resumed})  {last}".rstrip())
    if result.reason == "time_limit":
        print(f"stopped at the time limit ({args.max_minutes:g} min) at step {result.steps} of {args.steps}; run the "
              f"same command with --resume to continue", file=sys.stderr)
    return 0

