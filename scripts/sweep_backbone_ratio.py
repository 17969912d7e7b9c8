"""Jin & Zhou's weighted VGG19 + InceptionV3 loss, `backbone={"vgg19": 1, "inception_v3": r}`, swept over r at 500
iterations; writes a grid JPEG and a Markdown table.

Needs ImageNet weights for both networks (Keras downloads them on first use, e.g. on Colab). Without them it says so
in one line and exits with code 0, writing nothing.

    python scripts/sweep_backbone_ratio.py --size 256 --steps 500 -o docs/images/experiments/backbone_ratio.jpg
"""

import argparse
import os
import pathlib
import shlex
import sys

from tfstyle import experiments
from tfstyle.errors import TfstyleError, WeightsError

DEFAULT_PAIRS = (("content/tubingen.jpg", "style/starry_night.jpg"), ("content/stata.jpg", "sample:ink"))
DEFAULT_DATA = os.environ.get("TFSTYLE_DATA") or pathlib.Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pair", nargs=2, action="append", metavar=("CONTENT", "STYLE"),
                        help="a content/style pair (path, path under --data, or sample:NAME); repeatable; "
                             f"default: {'; '.join(' '.join(p) for p in DEFAULT_PAIRS)}")
    parser.add_argument("--ratios", default=",".join(f"{r:g}" for r in experiments.RATIOS),
                        help="comma-separated weights r of inception_v3 (vgg19 has weight 1)")
    parser.add_argument("--size", type=int, default=256, help="long side of the outputs (default 256, min 75)")
    parser.add_argument("--steps", type=int, default=500, help="L-BFGS iterations per run (default 500)")
    parser.add_argument("--data", default=DEFAULT_DATA, help="folder with content/ and style/ "
                                                             "(default $TFSTYLE_DATA or ../shared/data)")
    parser.add_argument("-o", "--output", default="backbone_ratio.jpg", help="grid JPEG (default backbone_ratio.jpg)")
    parser.add_argument("--table", help="Markdown table (default: the output path with .md)")
    parser.add_argument("--allow-random-weights", action="store_true",
                        help="run with random weights when ImageNet weights are absent: checks the mechanics only")
    args = parser.parse_args(argv)
    command = shlex.join(["python", "scripts/sweep_backbone_ratio.py", *(sys.argv[1:] if argv is None else argv)])
    weights = None if args.allow_random_weights else "default"
    missing = experiments.missing_weights(experiments.RATIO_BACKBONES, weights)
    if missing:
        print(f"sweep_backbone_ratio: not run, no ImageNet weights here for {', '.join(missing)} (run it where Keras "
              f"can download them, e.g. Colab; --allow-random-weights checks the mechanics only)")
        return 0
    try:
        ratios = [float(r) for r in args.ratios.split(",") if r.strip()]
    except ValueError:
        parser.exit(2, f"error: --ratios must be comma-separated numbers; received {args.ratios!r}\n")
    try:
        pairs = [tuple(experiments.resolve_source(s, args.data) for s in pair) for pair in args.pair or DEFAULT_PAIRS]
        result = experiments.sweep_backbone_ratio(pairs, ratios, size=args.size, steps=args.steps, weights=weights)
        report = experiments.write_outputs(result, args.output, args.table or pathlib.Path(args.output)
                                           .with_suffix(".md"), "VGG19 + InceptionV3 weight-ratio sweep "
                                           "(Jin & Zhou)", command)
    except WeightsError as error:  # not cached and the download failed: nothing was written
        print(f"sweep_backbone_ratio: not run, {error}")
        return 0
    except TfstyleError as error:
        parser.exit(2, f"error: {error}\n")
    print(report, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
