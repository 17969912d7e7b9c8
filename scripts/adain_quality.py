"""How close is AdaIN to the optimization result? Style and content distances on styles the decoder never saw.

For every content × style pair, stylizes once with an AdaIN decoder (`tfstyle.adain.transfer`) and once with
`tfstyle.stylize` (the Gatys optimization, vgg16_hed, `--steps` L-BFGS iterations) at the same size, scores both
with `tfstyle.metrics` (Gram style distance, content distance, SSIM to the content, on the fixed metric network),
and writes a grid (content | style | AdaIN | optimization per row) and a Markdown table with the per-pair values,
their means and the time of each method.

The styles should be paintings the decoder was not trained on: by default the held-out folder that
`scripts/prepare_adain_data.py` writes.

Usage:
    python scripts/adain_quality.py --decoder runs/decoder/decoder.weights.h5 \\
        --styles /work/runs/adain_data/holdout_style --grid docs/images/adain_quality.jpg --markdown table.md
    python scripts/adain_quality.py --quick              # 96 px, 1 pair, 5 steps: checks that it runs
"""

import argparse
import os
import pathlib
import sys
import time

os.environ.setdefault("TFSTYLE_OFFLINE", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

DATA = pathlib.Path(os.environ.get("TFSTYLE_DATA", pathlib.Path(__file__).resolve().parents[2] / "shared" / "data"))
DEFAULT_CONTENT = [str(DATA / "content" / name) for name in ("tubingen.jpg", "hoovertowernight.jpg", "avril.jpg")]
DEFAULT_STYLES = "/work/runs/adain_data/holdout_style"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--decoder", nargs="+", default=["vgg16_hed"],
                        help="shipped names or decoder.weights.h5 paths (several: one column each, as NAME=PATH "
                             "to label them)")
    parser.add_argument("--content", nargs="+", default=DEFAULT_CONTENT)
    parser.add_argument("--styles", default=DEFAULT_STYLES, help="a folder of held-out style images, or one image")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=200,
                        help="L-BFGS iterations of the optimization reference (0: no optimization column, AdaIN only)")
    parser.add_argument("--reference-dir", help="keep the optimization results here and reuse them in later runs "
                                                 "(keyed by content, style, size and steps)")
    parser.add_argument("--grid", help="write the image grid here (.jpg/.png)")
    parser.add_argument("--markdown", help="write the table here")
    parser.add_argument("--quick", action="store_true", help="96 px, one pair, 5 steps")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    import numpy as np

    import tfstyle
    from tfstyle import metrics
    from tfstyle.adain import resolve_decoder, transfer
    from tfstyle.data import list_images
    from tfstyle.experiments import make_grid, markdown_table
    from tfstyle.io import resize_image

    styles = [pathlib.Path(args.styles)] if pathlib.Path(args.styles).is_file() else list_images(args.styles)
    contents = args.content
    size, steps = args.size, args.steps
    if args.quick:
        contents, styles, size, steps = contents[:1], styles[:1], 96, 5
    decoders = {}
    for spec in args.decoder:
        label, _, source = spec.rpartition("=") if "=" in spec else (None, None, spec)
        decoders[label or f"AdaIN {pathlib.Path(source).parent.name or source}"] = resolve_decoder(source)
    methods = [*decoders, "optimization"] if steps > 0 else [*decoders]
    reference_dir = pathlib.Path(args.reference_dir) if args.reference_dir else None
    rows, grid, totals = [], [], dict.fromkeys(methods, 0.0)
    for content_path in contents:
        content = resize_image(tfstyle.load_image(content_path), long_side=size)
        for style_path in styles:
            style = resize_image(tfstyle.load_image(style_path), long_side=size)
            outputs = {}
            for label, model in decoders.items():
                start = time.perf_counter()
                outputs[label] = transfer(model, content, style)
                totals[label] += time.perf_counter() - start
            if steps > 0:
                outputs["optimization"], seconds = _optimized(content, style, size, steps, reference_dir,
                                                              pathlib.Path(content_path).stem,
                                                              pathlib.Path(style_path).stem)
                totals["optimization"] += seconds
            pair = f"{pathlib.Path(content_path).stem} × {pathlib.Path(style_path).stem}"
            for method, image in outputs.items():
                scores = metrics.evaluate(image, content, style, metrics=("style_gram", "content", "ssim"))
                rows.append({"pair": pair, "method": method, **{key: scores[key] for key in
                                                                 ("style_gram", "content", "ssim")}})
            print(pair + ": " + ", ".join(f"{row['method']} {row['style_gram']:.4f} / {row['content']:.3f}"
                                          for row in rows[-len(outputs):]) + " (style / content distance)",
                  flush=True)
            grid.append([content, style, *outputs.values()])
    pairs = len(grid)
    means = [{"pair": "mean", "method": method,
              **{key: float(np.mean([row[key] for row in rows if row["method"] == method]))
                 for key in ("style_gram", "content", "ssim")},
              "seconds per image": totals[method] / pairs} for method in methods]
    table = markdown_table(rows + means, ["pair", "method", "style_gram", "content", "ssim", "seconds per image"])
    reference = f"optimization: vgg16_hed, L-BFGS, {steps} iterations" if steps > 0 else "no optimization reference"
    header = (f"`python scripts/adain_quality.py --decoder {' '.join(args.decoder)} --size {size} --steps {steps}` "
              f"({pairs} pairs; {reference}; lower distances are closer)")
    print(header + "\n\n" + table)
    if args.markdown:
        pathlib.Path(args.markdown).write_text(header + "\n\n" + table)
    if args.grid:
        labels = ["content", "style", *decoders] + ([f"optimization ({steps} steps)"] if steps > 0 else [])
        tfstyle.save_image(args.grid, make_grid(grid, columns=labels))
    return 0


def _optimized(content, style, size, steps, reference_dir, content_name, style_name):
    """The optimization result for the pair and its time: computed, or read back from `reference_dir`."""
    import json

    import tfstyle

    if reference_dir is not None:
        stem = reference_dir / f"{content_name}__{style_name}__{size}px_{steps}steps"
        image_path, info_path = stem.with_suffix(".png"), stem.with_suffix(".json")
        if image_path.is_file() and info_path.is_file():
            return tfstyle.load_image(image_path), json.loads(info_path.read_text())["seconds"]
    start = time.perf_counter()
    image = tfstyle.stylize(content, style, size=size, steps=steps, backbone="vgg16_hed", progress=False,
                            verbose=False).image
    seconds = time.perf_counter() - start
    if reference_dir is not None:
        reference_dir.mkdir(parents=True, exist_ok=True)
        tfstyle.save_image(image_path, image)
        info_path.write_text(json.dumps({"seconds": seconds}))
    return image, seconds


if __name__ == "__main__":
    sys.exit(main())
