"""Style losses compared (Li et al. 2017; Xu et al. 2024): Gram, MMD with linear / polynomial / Gaussian kernel and
mean/std, on one backbone with the same weights; writes a grid JPEG and a Markdown table.

The default pairs use the generated ink-wash sample (sample:ink) and, for contrast, a real painting.

    TFSTYLE_OFFLINE=1 python scripts/compare_style_losses.py --size 256 --steps 200 \\
        -o docs/images/experiments/style_losses.jpg
"""

import argparse
import os
import pathlib
import shlex
import sys

from tfstyle import experiments
from tfstyle.errors import TfstyleError

DEFAULT_PAIRS = (("content/stata.jpg", "sample:ink"), ("content/tubingen.jpg", "style/starry_night.jpg"))
DEFAULT_DATA = os.environ.get("TFSTYLE_DATA") or pathlib.Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pair", nargs=2, action="append", metavar=("CONTENT", "STYLE"),
                        help="a content/style pair (path, path under --data, or sample:NAME); repeatable; "
                             f"default: {'; '.join(' '.join(p) for p in DEFAULT_PAIRS)}")
    parser.add_argument("--losses", default=",".join(experiments.STYLE_LOSSES),
                        help=f"comma-separated, from {', '.join(experiments.STYLE_LOSSES)}")
    parser.add_argument("--backbone", default="vgg16_hed", help="backbone of every run (default vgg16_hed)")
    parser.add_argument("--style-weight", type=float, default=None,
                        help="style weight of every run (default: tfstyle.stylize's default)")
    parser.add_argument("--size", type=int, default=256, help="long side of the outputs (default 256)")
    parser.add_argument("--steps", type=int, default=200, help="L-BFGS iterations per run (default 200)")
    parser.add_argument("--data", default=DEFAULT_DATA, help="folder with content/ and style/ "
                                                             "(default $TFSTYLE_DATA or ../shared/data)")
    parser.add_argument("-o", "--output", default="style_losses.jpg", help="grid JPEG (default style_losses.jpg)")
    parser.add_argument("--table", help="Markdown table (default: the output path with .md)")
    parser.add_argument("--allow-random-weights", action="store_true",
                        help="run with random backbone weights: checks the mechanics only")
    args = parser.parse_args(argv)
    command = shlex.join(["python", "scripts/compare_style_losses.py", *(sys.argv[1:] if argv is None else argv)])
    options = {} if args.style_weight is None else {"style_weight": args.style_weight}
    try:
        pairs = [tuple(experiments.resolve_source(s, args.data) for s in pair) for pair in args.pair or DEFAULT_PAIRS]
        result = experiments.compare_style_losses(pairs, [n.strip() for n in args.losses.split(",") if n.strip()],
                                                  backbone=args.backbone, size=args.size, steps=args.steps,
                                                  weights=None if args.allow_random_weights else "default",
                                                  **options)
        report = experiments.write_outputs(result, args.output, args.table or pathlib.Path(args.output)
                                           .with_suffix(".md"), "Style losses compared", command)
    except TfstyleError as error:
        parser.exit(2, f"error: {error}\n")
    print(report, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
