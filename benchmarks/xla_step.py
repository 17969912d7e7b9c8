"""Benchmark: what XLA (`jit_compile=True`) does to the cost of the image-optimization objective.

Measured at one size (256 px by default) on the offline backbone vgg16_hed with its real weights and stylize's
default layers (style block1_conv1 ... block5_conv1, content block4_conv2), interleaved in one process:
  bare           the pruned FeatureExtractor's forward + gradient of sum(outputs) w.r.t. the image, tf.function
  bare_xla       the same with jit_compile=True: the floor of an XLA-compiled step
  objective      the objective's value and gradient (PerceptualLoss with the Gram loss + TV, stylize's default
                 weights) as `tfstyle.optimize.loop.compile_objective` builds it with jit_compile=False
  objective_xla  the same with jit_compile=True
Printed: the median time per call (wall, and process CPU time over all threads), the ratios objective/bare,
objective_xla/bare_xla, objective_xla/objective and bare_xla/bare taken within each round (median over rounds,
min-max of the per-repetition medians), each contender's setup (tracing, XLA compilation, first calls; the
objectives' include optimize_step.py's loss-terms-alone function, traced alongside) as context, and how far the
XLA objective's value and gradient are from the plain graph's at the content image (max pooling's ties on the
photo's flat regions can send a window's gradient to another element under XLA).

The contenders come from optimize_step.py (`Context`, `build_bare`, `build_objective`), the timing from
cyclegan_step.py (`timed`, `interleave`, `ratio`); see those scripts for the method.

Usage:
    python benchmarks/xla_step.py                 # 256 px, 2 x 3 rounds (1-2 min on 2 shared cores)
    python benchmarks/xla_step.py --size 512 --rounds 2
TFSTYLE_OFFLINE=1 is set by default (the offline backbone vgg16_hed needs no download).
"""

import argparse
import os
import time

os.environ.setdefault("TFSTYLE_OFFLINE", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from cyclegan_step import interleave, ratio, timed  # noqa: E402
from optimize_step import Context, build_bare, build_objective, fmt_ratio, machine_lines  # noqa: E402

RATIOS = (("objective", "bare"), ("objective_xla", "bare_xla"), ("objective_xla", "objective"),
          ("bare_xla", "bare"))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=256, help="long side in pixels (default 256)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per repetition (default 3)")
    parser.add_argument("--repeats", type=int, default=2, help="repetitions (default 2)")
    parser.add_argument("--content", default="sample:astronaut")
    parser.add_argument("--style", default="sample:waves")
    parser.add_argument("--backbone", default="vgg16_hed")
    return parser.parse_args(argv)


def contenders(ctx, size):
    """{name: zero-argument call}, each traced and called once, and {name: setup seconds}."""
    builders = {
        "bare": lambda: build_bare(ctx, size),
        "bare_xla": lambda: build_bare(ctx, size, jit_compile=True),
        "objective": lambda: build_objective(ctx, size, jit_compile=False)[0],
        "objective_xla": lambda: build_objective(ctx, size, jit_compile=True)[0],
    }
    calls, setup = {}, {}
    for name, build in builders.items():
        start = time.perf_counter()
        calls[name] = build()
        setup[name] = time.perf_counter() - start
    return calls, setup


def agreement(ctx, size, plain, xla):
    """Relative differences of the XLA objective's total and gradient from the plain graph's at the content."""
    import tensorflow as tf

    image = tf.constant(ctx.images(size)[0])
    (terms, gradient), (xla_terms, xla_gradient) = plain(image), xla(image)
    total, xla_total = float(terms["total"]), float(xla_terms["total"])
    gradient, xla_gradient = gradient.numpy(), xla_gradient.numpy()
    return (abs(xla_total - total) / abs(total),
            float(np.abs(xla_gradient - gradient).max() / np.abs(gradient).max()),
            float(np.linalg.norm(xla_gradient - gradient) / np.linalg.norm(gradient)))


def main(argv=None):
    args = parse_args(argv)
    import tensorflow as tf  # noqa: F401  (import before timing anything)

    print("\n".join(machine_lines()), flush=True)
    ctx = Context(args)
    ctx.extractor()  # build the backbone and load its weights before any setup is timed
    calls, setup = contenders(ctx, args.size)
    if calls["objective_xla"].value_and_gradient.jit_compile is not True:
        raise SystemExit("compile_objective did not use XLA for the objective_xla contender")
    total, gradient_max, gradient_norm = agreement(ctx, args.size, calls["objective"].value_and_gradient,
                                                   calls["objective_xla"].value_and_gradient)
    print(f"{args.size} px, {args.repeats} x {args.rounds} rounds", flush=True)
    wall, cpu = interleave({name: timed(call) for name, call in calls.items()}, args.rounds * args.repeats,
                           args.rounds)
    print(f"\nxla_step at {args.size} px ({ctx.content} vs {ctx.style}, {args.backbone}, layers "
          f"{', '.join(ctx.layers)}):")
    for name in calls:
        print(f"  {name:14s} {1e3 * np.median(wall[name]):7.0f} ms wall {1e3 * np.median(cpu[name]):7.0f} ms CPU"
              f"   setup {setup[name]:5.1f} s")
    for name, reference in RATIOS:
        print(f"  {name}/{reference}: wall {fmt_ratio(ratio(wall, name, reference, args.rounds))}, "
              f"CPU {fmt_ratio(ratio(cpu, name, reference, args.rounds))}")
    print(f"  XLA vs plain objective at the content image: total rel. diff {total:.1e}, gradient max abs. diff "
          f"{gradient_max:.1e} of its max, L2 rel. diff {gradient_norm:.1e}")


if __name__ == "__main__":
    main()
