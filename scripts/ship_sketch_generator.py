"""Score a trained photo → drawing CycleGAN generator on held-out photos and ship it under a name.

The generator is G_AB of a `tfstyle train-cyclegan` work folder trained on an unpaired benchmark
(`scripts/make_unpaired_benchmark.py`), where domain B is a known filter of photos. This script

1. translates the benchmark's held-out test crops and scores G(x) against filter(x) with the scores of
   `scripts/cyclegan_comparison.py` (PSNR, SSIM, KID on vgg16_hed features, content match, colour error), next to
   the identity baseline (the photo itself);
2. writes a grid of whole held-out photos at `--size` px: photo | filter(photo) | G(photo);
3. exports the generator as `tfstyle/weights/cyclegan_{name}_generator.keras` + `.json` (`export_generator`), the
   JSON holding the training settings, the data, the wall time and the scores, so that
   `tfstyle translate --generator NAME photo.jpg -o out.png` loads it.

Usage (the shipped `sketch` generator):
    python scripts/ship_sketch_generator.py --workdir runs/sketch_ship/unet --benchmark runs/sketch_ship/data \\
        --train-minutes 76 --grid docs/images/cyclegan_sketch_shipped.jpg
"""

import argparse
import json
import pathlib
import shlex
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import cyclegan_comparison as comparison  # noqa: E402  (the comparison's scores, so both pages agree)
import make_unpaired_benchmark  # noqa: E402


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=pathlib.Path, required=True, help="the train-cyclegan work folder")
    parser.add_argument("--benchmark", type=pathlib.Path, required=True,
                        help="the unpaired benchmark it was trained on (testA/testB are scored)")
    parser.add_argument("--name", default="sketch", help="the shipped name (default %(default)s)")
    parser.add_argument("--weights-dir", type=pathlib.Path, default=HERE.parent / "tfstyle" / "weights",
                        help="where shipped generators live (default: the package's weights folder)")
    parser.add_argument("--train-minutes", type=float, required=True,
                        help="the training's wall time in minutes, for the metadata")
    parser.add_argument("--photos-dir", type=pathlib.Path, default=None,
                        help="folder of the benchmark's photos (default $TFSTYLE_DATA/content or ../shared/data)")
    parser.add_argument("--grid", type=pathlib.Path, help="write the held-out photo grid here (.jpg)")
    parser.add_argument("--size", type=int, default=384, help="long side of the grid's photos (default 384)")
    parser.add_argument("--dry-run", action="store_true", help="score and draw, do not export")
    return parser.parse_args(argv)


def score(workdir, benchmark):
    """({"generator": scores, "identity": scores}, protocol) on the benchmark's test crops."""
    _, photos, _ = comparison.load_test_set(benchmark)
    outputs = {"generator": comparison.translate_test_set(workdir, photos), "identity": photos}
    scores, _, protocol = comparison.evaluate_filter(benchmark, outputs, comparison.Scorer())
    return scores, protocol


def photo_grid(path, generator, manifest, photos_dir, size):
    """Rows photo | filter(photo) | G(photo) for the whole held-out photos, saved as a JPEG."""
    import tfstyle
    from tfstyle import filters
    from tfstyle.cyclegan.translate import translate

    sketch = filters.get_filter(manifest["filter"]["name"], **manifest["filter"]["parameters"])
    sources = make_unpaired_benchmark.collect_photos([photos_dir], make_unpaired_benchmark.SKIMAGE_PHOTOS)
    rows = []
    for name in manifest["splits"]["test"]:
        photo = tfstyle.io.resize_image(make_unpaired_benchmark.load_photo(sources[name]), long_side=size)
        rows.append(np.concatenate([photo, sketch(photo), translate(generator, photo)], axis=1))
    width = min(row.shape[1] for row in rows)
    rows = [tfstyle.io.resize_image(row, long_side=width) if row.shape[1] != width else row for row in rows]
    comparison.save_small_image(path, np.concatenate(rows, axis=0))
    return len(rows)


def main(argv=None):
    args = parse_args(argv)
    from tfstyle.cyclegan.pretrained import export_generator, load_generator, shipped_files

    manifest = json.loads((args.benchmark / "manifest.json").read_text())
    generator = load_generator(args.workdir, direction="ab")
    settings = json.loads((args.workdir / "generators.json").read_text())
    scores, protocol = score(args.workdir, args.benchmark)
    for row, values in scores.items():
        print(f"{row:9s}  PSNR {values['psnr']:.2f} dB  SSIM {values['ssim']:.3f}  KID {values['kid']:.3f} ± "
              f"{values['kid_std']:.3f}  content match {values['content_match']:.3f}  colour ΔE "
              f"{values['colour_error']:.1f}")
    if args.grid:
        photos_dir = args.photos_dir or make_unpaired_benchmark.default_photo_dir()
        count = photo_grid(args.grid, generator, manifest, photos_dir, args.size)
        print(f"wrote {args.grid} ({count} held-out photos)")
    if args.dry_run:
        return 0
    metadata = {key: settings[key] for key in ("steps", "objective", "objective_options", "cycle_weight",
                                               "identity_weight", "pool_size", "batch_size", "crop_size",
                                               "resize_to", "seed", "discriminator_options") if key in settings}
    metadata.update({
        "direction": "photo -> " + manifest["filter"]["name"],
        "data": {"description": manifest["description"], "filter": manifest["filter"],
                 "photos": manifest["splits"], "crop_size": manifest["crop_size"],
                 "crops_per_photo": manifest["crops_per_photo"]},
        "train_minutes": args.train_minutes,
        "hardware": "2 CPU cores, no GPU (shared machine)",
        "test_scores": {"protocol": protocol, **scores},
        "tfstyle_version": settings.get("tfstyle_version"),
        "shipped_by": "python scripts/ship_sketch_generator.py " + shlex.join(argv or sys.argv[1:]),
    })
    model_path, _ = shipped_files(args.name, args.weights_dir)
    written = export_generator(generator.model, model_path, **metadata)
    print("wrote " + " and ".join(map(str, written)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
