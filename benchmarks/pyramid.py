"""Benchmark: time for a coarse-to-fine pyramid to reach the single-scale result's quality, vs the single scale.

Claim measured (issue 3): `stylize(..., sizes=[256, 512])` reaches the style and content distances of a
single-scale 512 px run at least 3x sooner than that run does.

How: the single-scale run (`--single-steps` L-BFGS iterations at `--size`) and the pyramid run (`--sizes` with
`--pyramid-steps`) each record their image every `--capture-every` steps of the final level, with the wall time
since the `stylize` call began (setup, weights loading and every level included). After the runs, every captured
image is scored with `tfstyle.metrics` (Gram style distance and content distance on the fixed metric network;
scoring is not timed). The target is the single-scale run's final pair of distances; a run *reaches* it at the first
capture whose style and content distances are both within `--tolerance` (relative) of, or below, the target. The
single-scale run is held to the same rule, so it may reach its own final quality before its last step. The two runs
alternate `--repeats` times (single, pyramid, single, pyramid, ...) and the ratio is taken within each pair.

Usage:
    python benchmarks/pyramid.py                       # 512 px, ~15-25 min on 2 shared cores
    python benchmarks/pyramid.py --size 256 --sizes 128,256 --single-steps 120 --pyramid-steps 120,40   # quick
"""

import argparse
import os
import sys
import time

os.environ.setdefault("TFSTYLE_OFFLINE", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--content", default="sample:astronaut")
    parser.add_argument("--style", default="sample:waves")
    parser.add_argument("--backbone", default="vgg16_hed")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--single-steps", type=int, default=300)
    parser.add_argument("--sizes", default="256,512")
    parser.add_argument("--pyramid-steps", default="300,60")
    parser.add_argument("--capture-every", type=int, default=10)
    parser.add_argument("--tolerance", type=float, default=0.05)
    parser.add_argument("--repeats", type=int, default=1)
    return parser.parse_args(argv)


class Capture:
    """Callback keeping (seconds since the run began, image) every `every` steps of the final level."""

    def __init__(self, every, total_steps, final_steps, start):
        self.every = every
        self.first_final_step = total_steps - final_steps
        self.start = start
        self.points = []

    def on_begin(self, steps):
        pass

    def on_step(self, info):
        final_level_step = info.step - self.first_final_step
        if final_level_step > 0 and (final_level_step % self.every == 0 or info.step == info.steps):
            self.points.append((time.perf_counter() - self.start, info.step, info.image.copy()))

    def on_end(self, info, reason):
        pass


def run(args, sizes, steps):
    import tfstyle

    total = sum(steps) if isinstance(steps, list) else steps
    final = steps[-1] if isinstance(steps, list) else steps
    start = time.perf_counter()
    capture = Capture(args.capture_every, total, final, start)
    result = tfstyle.stylize(args.content, args.style, size=args.size, sizes=sizes, steps=steps,
                             backbone=args.backbone, callbacks=[capture], progress=False, verbose=False)
    return capture.points, time.perf_counter() - start, result


def scored(points, content, style):
    from tfstyle import metrics

    rows = []
    for seconds, step, image in points:
        scores = metrics.evaluate(image, content, style, metrics=("style_gram", "content"))
        rows.append((seconds, step, scores["style_gram"], scores["content"]))
    return rows


def first_reach(rows, target_style, target_content, tolerance):
    for seconds, step, style, content in rows:
        if style <= target_style * (1 + tolerance) and content <= target_content * (1 + tolerance):
            return seconds, step
    return None, None


def main(argv=None):
    args = parse_args(argv)
    import tfstyle

    sizes = [int(value) for value in args.sizes.split(",")]
    pyramid_steps = [int(value) for value in args.pyramid_steps.split(",")]
    content = tfstyle.io.resize_image(tfstyle.load_image(args.content), long_side=args.size)
    style = tfstyle.io.resize_image(tfstyle.load_image(args.style), long_side=args.size)
    print(f"content {args.content}, style {args.style}, backbone {args.backbone}, L-BFGS; single scale "
          f"{args.size} px x {args.single_steps} steps vs pyramid {sizes} x {pyramid_steps} steps; tolerance "
          f"{args.tolerance:.0%}", flush=True)
    ratios = []
    for repeat in range(args.repeats):
        single_points, single_seconds, _ = run(args, None, args.single_steps)
        pyramid_points, pyramid_seconds, _ = run(args, sizes, pyramid_steps)
        single_rows = scored(single_points, content, style)
        pyramid_rows = scored(pyramid_points, content, style)
        target_style, target_content = single_rows[-1][2], single_rows[-1][3]
        single_reach, single_step = first_reach(single_rows, target_style, target_content, args.tolerance)
        pyramid_reach, pyramid_step = first_reach(pyramid_rows, target_style, target_content, args.tolerance)
        print(f"repeat {repeat + 1}: target style {target_style:.4f} content {target_content:.4f}")
        print(f"  single  : {single_seconds:7.1f} s total, final style {single_rows[-1][2]:.4f} content "
              f"{single_rows[-1][3]:.4f}, reaches the target at {single_reach:.1f} s (step {single_step})")
        final = pyramid_rows[-1]
        if pyramid_reach is None:
            print(f"  pyramid : {pyramid_seconds:7.1f} s total, final style {final[2]:.4f} content {final[3]:.4f}, "
                  f"does not reach the target")
            continue
        print(f"  pyramid : {pyramid_seconds:7.1f} s total, final style {final[2]:.4f} content {final[3]:.4f}, "
              f"reaches the target at {pyramid_reach:.1f} s (step {pyramid_step})")
        ratios.append(single_reach / pyramid_reach)
        print(f"  ratio time-to-target single / pyramid: {ratios[-1]:.2f}x", flush=True)
    if ratios:
        print(f"median ratio over {len(ratios)} pair(s): {float(np.median(ratios)):.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
