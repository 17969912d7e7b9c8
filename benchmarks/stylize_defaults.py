"""Benchmark: the time and the quality of `tfstyle stylize`'s default run, old defaults against new, in one process.

The claim: the default `tfstyle stylize photo.jpg painting.jpg -o out.png` (512 px) finishes in at most 3 minutes on
2 CPU cores, and looks at least as much like the painting as the old default did (500 L-BFGS iterations at 512 px
from the content, content 1 / style 10 / TV 0.1).

For every pair, whole runs alternate, new then old (then new again with `--repeats 2`), so that both see the same
machine within minutes; each run is timed from the call to its result (backbone building and tracing included,
as a user waits for them). Quality is measured with what shares nothing with either objective
(`tfstyle.metrics`): the colour and random-texture distances to the style and the luminance SSIM to the content.
For context, the bare forward + backward pass of the pruned backbone at 512 px is timed in the same process, so
each run is also given in such passes.

Usage:
    python benchmarks/stylize_defaults.py                        # neural-style's Tübingen × The Scream, 512 px
    python benchmarks/stylize_defaults.py --old-steps 100         # a shorter old run (then said so)
    python benchmarks/stylize_defaults.py --quick                 # 128 px, few steps: checks that it runs
TFSTYLE_OFFLINE=1 is set by default (the offline backbone vgg16_hed needs no download).
"""

import argparse
import os
import pathlib
import sys
import time

os.environ.setdefault("TFSTYLE_OFFLINE", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from optimize_step import machine_lines  # noqa: E402

REFERENCE = pathlib.Path(__file__).resolve().parents[2] / "shared" / "reference" / "neural-style" / "inputs"
OLD_DEFAULTS = {"steps": 500, "init": "content", "content_weight": 1.0, "style_weight": 10.0, "tv_weight": 0.1}
BUDGET_SECONDS = 180


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--content", default=str(REFERENCE / "tubingen.jpg"))
    parser.add_argument("--style", default=str(REFERENCE / "the_scream.jpg"))
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--old-steps", type=int, default=OLD_DEFAULTS["steps"])
    parser.add_argument("--repeats", type=int, default=1, help="new-default runs before and after the old one")
    parser.add_argument("--out", type=pathlib.Path, help="save the outputs in this folder")
    parser.add_argument("--quick", action="store_true", help="128 px, 10 old steps")
    return parser.parse_args(argv)


def bare_pass_seconds(size, content, rounds=5):
    """Median seconds of the bare forward + backward pass of stylize's pruned vgg16_hed at `size`."""
    import tensorflow as tf

    from tfstyle.backbones import FeatureExtractor, get_spec
    from tfstyle.io import load_image, resize_image

    spec = get_spec("vgg16_hed")
    extractor = FeatureExtractor("vgg16_hed", (*spec.style_layers, *spec.content_layers))
    image = tf.constant(resize_image(load_image(content), long_side=size)[None])

    @tf.function
    def bare(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            total = tf.add_n([tf.reduce_sum(value) for value in extractor(x).values()])
        return tape.gradient(total, x)

    bare(image).numpy()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        bare(image).numpy()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main(argv=None):
    args = parse_args(argv)
    import tfstyle
    from tfstyle import metrics

    old = dict(OLD_DEFAULTS, steps=args.old_steps)
    size = 128 if args.quick else args.size
    if args.quick:
        old["steps"] = 10
    runs = [("new", {})] * args.repeats + [("old", old)] + [("new", {})] * (args.repeats - 1)
    print("\n".join(machine_lines()))
    print(f"- pair: {pathlib.Path(args.content).name} × {pathlib.Path(args.style).name}, {size} px, backbone "
          f"vgg16_hed")
    bare = bare_pass_seconds(size, args.content)
    results = {"new": [], "old": []}
    for index, (name, options) in enumerate(runs):
        start = time.perf_counter()
        result = tfstyle.stylize(args.content, args.style, size=size, backbone="vgg16_hed", progress=False,
                                 verbose=False, **options)
        seconds = time.perf_counter() - start
        scores = {"colour": metrics.colour_distance(result.image, args.style),
                  "texture": metrics.texture_distance(result.image, args.style),
                  "ssim": metrics.ssim_luminance(result.image, args.content)}
        results[name].append((seconds, scores, result.info))
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            tfstyle.save_image(args.out / f"{name}_{index}.png", result.image)
        print(f"{name:3s}: {seconds:6.1f} s ({seconds / bare:5.0f} bare passes), sizes {result.info['sizes']} "
              f"steps {result.info['level_steps']} ({result.info['reason']}); colour {scores['colour']:.2f}, "
              f"texture {scores['texture']:.4f}, SSIM {scores['ssim']:.3f}", flush=True)
    new_seconds = [seconds for seconds, *_ in results["new"]]
    old_seconds, old_scores, _ = results["old"][0]
    _, new_scores, _ = results["new"][0]
    print(f"bare forward+backward pass at {size} px: {bare * 1000:.0f} ms")
    print(f"new default: {max(new_seconds):.1f} s at most (budget {BUDGET_SECONDS} s: "
          f"{'met' if max(new_seconds) <= BUDGET_SECONDS else 'missed'}); old default ({old['steps']} steps): "
          f"{old_seconds:.1f} s; old / new time: **{old_seconds / float(np.median(new_seconds)):.1f}×**")
    print("quality new vs old: " + ", ".join(f"{key} {new_scores[key]:.4g} vs {old_scores[key]:.4g}"
                                             for key in ("colour", "texture", "ssim")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
