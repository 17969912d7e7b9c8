"""tfstyle's default `stylize` next to neural-style's published outputs of the same pairs, judged without home advantage.

For every reference pair of `../shared/reference/neural-style` (read its README) this runs `tfstyle.stylize` with
the defaults (plus any `--option`), saves the result, and scores it and neural-style's output of the same pair with
the measures that share nothing with either objective (`tfstyle.metrics`): the colour distance to the style (Lab
histograms), the texture distance to the style (a fixed random network) and the luminance SSIM to the content.
A pair passes when tfstyle's colour distance is at most neural-style's, its texture distance at most
`TEXTURE_RATIO`× neural-style's, and its SSIM at least neural-style's − `SSIM_MARGIN`.

It also runs the Brad Pitt × Picasso pair at several `--content-weights`, next to neural-style's content-weight
series, to show the range the option covers (SSIM from a near-photo to a near-abstract picture).

Writes a Markdown table and a grid of tfstyle's outputs only (the reference images are not ours to publish).

Usage:
    python scripts/neural_style_comparison.py --out /work/runs/ns_compare --markdown docs/neural_style_comparison.md \\
        --grid docs/images/neural_style_comparison.jpg
    python scripts/neural_style_comparison.py --quick       # 64 px, one pair, two steps: checks that it runs
"""

import argparse
import json
import os
import pathlib
import sys
import time

os.environ.setdefault("TFSTYLE_OFFLINE", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REFERENCE = pathlib.Path(os.environ.get("TFSTYLE_REFERENCE", pathlib.Path(__file__).resolve().parents[2] / "shared"
                                        / "reference")) / "neural-style"
# reference output → (content, style) inputs, as neural-style's README names them
PAIRS = {
    "golden_gate_escher": ("golden_gate", "escher_sphere"),
    "golden_gate_kahlo": ("golden_gate", "frida_kahlo"),
    "golden_gate_matisse": ("golden_gate", "woman-with-hat-matisse"),
    "golden_gate_seated": ("golden_gate", "seated-nude"),
    "golden_gate_starry": ("golden_gate", "starry_night"),
    "tubingen_scream": ("tubingen", "the_scream"),
    "tubingen_seated_nude": ("tubingen", "seated-nude"),
    "pitt_picasso_content_5_style_10": ("brad_pitt", "picasso_selfport1907"),
}
# neural-style's content-weight series of the Pitt pair (style weight 10): output name → content weight
PITT_SERIES = {"pitt_picasso_content_0025_style_10": 0.025, "pitt_picasso_content_01_style_10": 0.1,
               "pitt_picasso_content_1_style_10": 1.0, "pitt_picasso_content_5_style_10": 5.0}
TEXTURE_RATIO = 1.25
SSIM_MARGIN = 0.05


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reference", type=pathlib.Path, default=REFERENCE, help="neural-style reference folder")
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("/work/runs/ns_compare"),
                        help="folder for tfstyle's outputs and the JSON of every score")
    parser.add_argument("--pairs", nargs="+", choices=sorted(PAIRS), default=list(PAIRS))
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--option", action="append", default=[], metavar="KEY=JSON",
                        help="extra tfstyle.stylize option, e.g. --option 'content_weight=2' (repeatable)")
    parser.add_argument("--content-weights", type=lambda text: [float(v) for v in text.split(",")],
                        default=[0.1, 0.3, 1.0, 3.0, 10.0],
                        help="content weights of the Pitt series (empty to skip: --content-weights '')")
    parser.add_argument("--markdown", type=pathlib.Path, help="write the tables here")
    parser.add_argument("--grid", type=pathlib.Path, help="write a grid of tfstyle's outputs here (.jpg)")
    parser.add_argument("--quick", action="store_true", help="64 px, one pair, two steps, no series")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    import tfstyle
    from tfstyle import metrics
    from tfstyle.experiments import make_grid, markdown_table

    options = {key: json.loads(value) for key, value in (item.split("=", 1) for item in args.option)}
    if args.quick:
        args.pairs, args.size, args.content_weights = args.pairs[:1], 64, []
        options.setdefault("steps", 2)
        options.setdefault("sizes", None)
    args.out.mkdir(parents=True, exist_ok=True)
    inputs, outputs = args.reference / "inputs", args.reference / "outputs"

    def score(image, content, style):
        return {"colour": metrics.colour_distance(image, style), "texture": metrics.texture_distance(image, style),
                "ssim": metrics.ssim_luminance(image, content)}

    def run(name, content, style, **extra):
        start = time.perf_counter()
        result = tfstyle.stylize(content, style, size=args.size, progress=False, verbose=False,
                                 **(options | extra))
        seconds = time.perf_counter() - start
        tfstyle.save_image(args.out / f"{name}.png", result.image)
        return result.image, seconds

    rows, images, records = [], [], {}
    for reference in args.pairs:
        content_name, style_name = PAIRS[reference]
        content, style = inputs / f"{content_name}.jpg", inputs / f"{style_name}.jpg"
        image, seconds = run(reference, content, style)
        ours, theirs = score(image, content, style), score(outputs / f"{reference}.png", content, style)
        passed = {"colour": ours["colour"] <= theirs["colour"],
                  "texture": ours["texture"] <= TEXTURE_RATIO * theirs["texture"],
                  "ssim": ours["ssim"] >= theirs["ssim"] - SSIM_MARGIN}
        records[reference] = {"tfstyle": ours, "neural-style": theirs, "seconds": seconds, "passed": passed}
        rows.append({"pair": f"{content_name} × {style_name}",
                     "colour (tfstyle / ns)": _pair(ours["colour"], theirs["colour"], passed["colour"], 2),
                     "texture (tfstyle / ns)": _pair(ours["texture"], theirs["texture"], passed["texture"], 4),
                     "texture ratio": f"{ours['texture'] / theirs['texture']:.2f}×",
                     "SSIM (tfstyle / ns)": _pair(ours["ssim"], theirs["ssim"], passed["ssim"], 3),
                     "seconds": f"{seconds:.0f}"})
        images.append(image)
        print(json.dumps({reference: records[reference]}), file=sys.stderr, flush=True)

    series = []
    content, style = inputs / "brad_pitt.jpg", inputs / "picasso_selfport1907.jpg"
    for name, weight in PITT_SERIES.items() if args.content_weights else ():
        series.append({"run": f"neural-style, content weight {weight:g} (style 10)",
                       **_cells(score(outputs / f"{name}.png", content, style))})
    for weight in args.content_weights:
        image, seconds = run(f"pitt_picasso_content_weight_{weight:g}", content, style, content_weight=weight)
        cells = score(image, content, style)
        records[f"pitt_content_weight_{weight:g}"] = cells | {"seconds": seconds}
        series.append({"run": f"tfstyle, --content-weight {weight:g}", **_cells(cells), "seconds": f"{seconds:.0f}"})
        print(json.dumps({weight: cells}), file=sys.stderr, flush=True)

    (args.out / "scores.json").write_text(json.dumps({"options": options, "size": args.size, **records}, indent=1))
    passes = sum(all(record["passed"].values()) for key, record in records.items() if key in PAIRS)
    text = (f"{passes} of {len(args.pairs)} pairs pass all three checks (colour ≤ neural-style's, texture ≤ "
            f"{TEXTURE_RATIO}× neural-style's, SSIM ≥ neural-style's − {SSIM_MARGIN}; ✓ marks a pass).\n\n"
            + markdown_table(rows))
    if series:
        text += "\n\nBrad Pitt × Picasso, content-weight series:\n\n" + markdown_table(series)
    print(text)
    if args.markdown:
        args.markdown.write_text(text + "\n")
    if args.grid:
        columns = min(4, len(images))
        grid = make_grid([images[i:i + columns] for i in range(0, len(images), columns)])
        tfstyle.save_image(args.grid, grid, quality=88)
    return 0


def _pair(ours, theirs, passed, digits):
    return f"{ours:.{digits}f} / {theirs:.{digits}f} {'✓' if passed else '✗'}"


def _cells(scores):
    return {"colour": f"{scores['colour']:.2f}", "texture": f"{scores['texture']:.4f}", "SSIM": f"{scores['ssim']:.3f}"}


if __name__ == "__main__":
    sys.exit(main())
