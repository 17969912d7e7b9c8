"""Sweep the style weight of `tfstyle.stylize` on photo/painting pairs and write a grid (rows: pairs, columns:
weights). The runs behind the default `style_weight` (docs/defaults.md).

    python scripts/sweep_style_weight.py --weights 3,10,30 -o docs/images/sweep_style_weight_3_10_30.jpg
"""

import argparse
import os
import pathlib

import numpy as np

import tfstyle

PAIRS = (("content/avril.jpg", "style/the_scream.jpg"), ("content/stata.jpg", "style/wave.jpg"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default="3,10,30", help="comma-separated style weights")
    parser.add_argument("--data", default=os.environ.get("TFSTYLE_DATA", "../shared/data"),
                        help="folder with content/ and style/ (default $TFSTYLE_DATA or ../shared/data)")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--backbone", default="auto")
    parser.add_argument("-o", "--output", default="sweep_style_weight.jpg")
    args = parser.parse_args()
    data = pathlib.Path(args.data)
    if not data.is_dir():
        parser.exit(2, f"data folder not found: {data} (set TFSTYLE_DATA or pass --data)\n")
    weights = [float(w) for w in args.weights.split(",")]
    rows = []
    print("| content | style | style weight | content term | style term / weight | seconds |")
    print("|---|---|---|---|---|---|")
    for content, style in PAIRS:
        row = []
        for weight in weights:
            result = tfstyle.stylize(data / content, data / style, size=args.size, steps=args.steps,
                                     style_weight=weight, backbone=args.backbone, progress=False)
            history = result.history
            print(f"| {content} | {style} | {weight:g} | {history['content'][-1]:.3f} | "
                  f"{history['style'][-1] / weight:.4f} | {result.info['seconds']:.0f} |", flush=True)
            row.append(tfstyle.io.resize_image(result.image, size=(192, 256)))
        rows.append(np.concatenate(row, axis=1))
    tfstyle.save_image(args.output, np.concatenate(rows, axis=0))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
