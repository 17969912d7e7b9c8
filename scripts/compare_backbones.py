"""Survey Fig. 3: the same content/style pairs through each backbone; writes a grid JPEG and a Markdown table.

Backbones without weights on this machine are skipped with one line (their table row says "no weights here").
Every result is scored on one fixed metric network (tfstyle.metrics' default, vgg16_hed).

    TFSTYLE_OFFLINE=1 python scripts/compare_backbones.py --size 256 --steps 300 \\
        -o docs/images/experiments/backbones.jpg
"""

import argparse
import os
import pathlib
import shlex
import sys

from tfstyle import experiments
from tfstyle.errors import TfstyleError

DEFAULT_PAIRS = (("content/tubingen.jpg", "style/starry_night.jpg"), ("content/stata.jpg", "sample:ink"))
DEFAULT_DATA = os.environ.get("TFSTYLE_DATA") or pathlib.Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pair", nargs=2, action="append", metavar=("CONTENT", "STYLE"),
                        help="a content/style pair (path, path under --data, or sample:NAME); repeatable; "
                             f"default: {'; '.join(' '.join(p) for p in DEFAULT_PAIRS)}")
    parser.add_argument("--backbones", default=",".join(experiments.BACKBONES), help="comma-separated names")
    parser.add_argument("--size", type=int, default=256, help="long side of the outputs (default 256)")
    parser.add_argument("--steps", type=int, default=300, help="L-BFGS iterations per run (default 300)")
    parser.add_argument("--data", default=DEFAULT_DATA, help="folder with content/ and style/ "
                                                             "(default $TFSTYLE_DATA or ../shared/data)")
    parser.add_argument("-o", "--output", default="backbones.jpg", help="grid JPEG (default backbones.jpg)")
    parser.add_argument("--table", help="Markdown table (default: the output path with .md)")
    parser.add_argument("--allow-random-weights", action="store_true",
                        help="run every backbone with random weights: checks the mechanics only")
    args = parser.parse_args(argv)
    command = shlex.join(["python", "scripts/compare_backbones.py", *(sys.argv[1:] if argv is None else argv)])
    try:
        pairs = [tuple(experiments.resolve_source(s, args.data) for s in pair) for pair in args.pair or DEFAULT_PAIRS]
        result = experiments.compare_backbones(pairs, [b.strip() for b in args.backbones.split(",") if b.strip()],
                                               size=args.size, steps=args.steps,
                                               weights=None if args.allow_random_weights else "default")
        report = experiments.write_outputs(result, args.output, args.table or pathlib.Path(args.output)
                                           .with_suffix(".md"), "Backbone comparison (survey Fig. 3)", command)
    except TfstyleError as error:
        parser.exit(2, f"error: {error}\n")
    print(report, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
