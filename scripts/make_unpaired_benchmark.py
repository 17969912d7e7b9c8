"""Build an unpaired A/B benchmark whose answer is known: photo crops, and other photos' crops through a fixed filter.

horse2zebra and monet2photo cannot be downloaded here, so CycleGAN-family models are compared on a benchmark made
from local photos, where the translation A → B is a deterministic artistic filter (`tfstyle.filters`):

- the photos are split (whole photos, never crops of one photo in two splits) into three disjoint groups;
- `trainA/`: crops of the first group, unchanged (domain A: photos);
- `trainB/`: crops of the second group passed through the filter (domain B: drawings of *other* photos, so the
  training pairs are truly unpaired);
- `testA/`: crops of the held-out third group, and `testB/`: the same crops through the filter, under the same file
  names: the ground truth. A model G is scored by comparing G(testA/x) with testB/x (PSNR, SSIM) and the set
  G(testA) with trainB or testB (KID on a local network, `tfstyle.distribution_metrics`).

Crops are square windows of `--crop-size` × (one of `--scales`) pixels of each photo (first resized so that its
short side is `--photo-size`), resized to `--crop-size`, and flipped left-right with probability ½; the filter
runs on the final crop, so its pixel parameters mean the same in every crop. Everything follows from `--seed`:
the split, and each photo's crops (seeded by the photo's name, so adding a photo does not change the others'). The
run is written to `manifest.json` (photos per split, filter name and every parameter, sizes, counts, seed, and the
window of every crop). Never commit the images.

Usage:
    python scripts/make_unpaired_benchmark.py --out /tmp/unpaired_sketch --filter sketch
    python scripts/make_unpaired_benchmark.py --out /tmp/unpaired_ink --filter ink --baselines
"""

import argparse
import ast
import math
import os
import pathlib
import shutil
import sys
import zlib

import numpy as np

FOLDERS = ("trainA", "trainB", "testA", "testB")
# the colour photographs that ship with scikit-image, plus the gray cameraman (converted to RGB); chelsea is also
# skimage's `cat`, so it appears once
SKIMAGE_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "motorcycle", "camera")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")


def default_photo_dir():
    """`$TFSTYLE_DATA/content`, or the shared data next to the repository."""
    root = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data"
    return pathlib.Path(os.environ.get("TFSTYLE_DATA", root)) / "content"


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=pathlib.Path, required=True, help="output folder (created if needed)")
    parser.add_argument("--photos", type=pathlib.Path, action="append", metavar="DIR",
                        help="folder of photos, repeatable (default: $TFSTYLE_DATA/content or ../shared/data/content)")
    parser.add_argument("--skimage", default=",".join(SKIMAGE_PHOTOS), metavar="NAMES",
                        help=f"scikit-image photos to add, comma-separated, or 'none' (default: all of "
                             f"{','.join(SKIMAGE_PHOTOS)})")
    parser.add_argument("--filter", default="sketch", help="filter of domain B: sketch (default) or ink")
    parser.add_argument("--filter-option", action="append", default=[], metavar="KEY=VALUE",
                        help="a filter parameter, repeatable (e.g. sigma=4.0); the rest keep their defaults")
    parser.add_argument("--crop-size", type=int, default=128, help="side of the written crops in pixels (128)")
    parser.add_argument("--crops-per-photo", type=int, default=40, help="crops of every photo (40)")
    parser.add_argument("--scales", default="1,1.5,2",
                        help="crop windows as multiples of --crop-size, comma-separated, drawn equally often "
                             "(1,1.5,2)")
    parser.add_argument("--photo-size", type=int, default=384,
                        help="short side every photo is first resized to (384)")
    parser.add_argument("--test-photos", type=int, default=3, help="photos held out for testA/testB (3)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split and the crops (0)")
    parser.add_argument("--overwrite", action="store_true", help="replace the folders of an earlier run in --out")
    parser.add_argument("--baselines", action="store_true",
                        help="also score the identity (G(x) = x) and the oracle (G = filter) on the test crops: "
                             "PSNR, SSIM, and KID/FID on vgg16_hed features (loads TensorFlow)")
    parser.add_argument("--layers", default=None,
                        help="with --baselines: vgg16_hed layers, comma-separated (default block4_conv3)")
    return parser.parse_args(argv)


def filter_options(pairs):
    """`["sigma=4", "paper=0.9"]` → `{"sigma": 4, "paper": 0.9}` (values parsed as Python literals)."""
    from tfstyle.errors import OptionError

    options = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip():
            raise OptionError(f"--filter-option must be KEY=VALUE; Received: {pair!r}")
        try:
            options[key.strip()] = ast.literal_eval(text.strip())
        except (ValueError, SyntaxError):
            raise OptionError(f"--filter-option {key.strip()}: not a number, tuple or None; Received: {text!r}") \
                from None
    return options


def parse_scales(text):
    from tfstyle.errors import OptionError

    try:
        scales = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        scales = ()
    if not scales or not all(math.isfinite(s) and s >= 1.0 for s in scales):
        raise OptionError(f"--scales must be numbers ≥ 1, comma-separated; Received: {text!r}")
    return scales


def collect_photos(folders, skimage_names):
    """`{name: source}` of every photo: file paths by stem, and `skimage:NAME` entries, sorted by name."""
    from tfstyle.errors import OptionError

    photos = {}
    for folder in folders:
        if not folder.is_dir():
            raise OptionError(f"photo folder not found: {folder}")
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith("."):
                if path.stem in photos:
                    raise OptionError(f"two photos are called {path.stem}: {photos[path.stem]} and {path}")
                photos[path.stem] = str(path)
    for name in skimage_names:
        if name not in SKIMAGE_PHOTOS:
            raise OptionError(f"unknown scikit-image photo {name!r}; choose from: {', '.join(SKIMAGE_PHOTOS)}")
        photos[f"skimage_{name}"] = f"skimage:{name}"
    return dict(sorted(photos.items()))


def load_photo(source):
    """float32 (H, W, 3) RGB in [0, 1] of a path or a `skimage:NAME` source."""
    import tfstyle

    if source.startswith("skimage:"):
        import skimage.data

        name = source.split(":", 1)[1]
        array = skimage.data.stereo_motorcycle()[0] if name == "motorcycle" else getattr(skimage.data, name)()
        return tfstyle.load_image(array)  # gray → RGB
    return tfstyle.load_image(source)


def split_photos(names, test_photos, seed):
    """Disjoint `{"trainA", "trainB", "test"}` lists of photo names: `test_photos` held out, the rest halved."""
    from tfstyle.errors import OptionError

    if len(names) < 3 or not 1 <= test_photos <= len(names) - 2:
        raise OptionError(f"need at least one photo per split: {len(names)} photos, --test-photos {test_photos} "
                          f"(allowed: 1 to {max(len(names) - 2, 0)})")
    order = [names[i] for i in np.random.default_rng(seed).permutation(len(names))]
    test, rest = order[:test_photos], order[test_photos:]
    half = (len(rest) + 1) // 2
    return {"trainA": sorted(rest[:half]), "trainB": sorted(rest[half:]), "test": sorted(test)}


def random_crops(photo, count, crop_size, scales, rng):
    """`count` (crop, record) pairs: square windows of crop_size × scale px, resized to crop_size, maybe flipped."""
    from tfstyle.io import resize_image

    height, width = photo.shape[:2]
    crops = []
    for _ in range(count):
        scale = float(scales[rng.integers(len(scales))])
        window = min(round(crop_size * scale), height, width)
        top, left = int(rng.integers(height - window + 1)), int(rng.integers(width - window + 1))
        flip = bool(rng.integers(2))
        crop = photo[top:top + window, left:left + window]
        if window != crop_size:
            crop = resize_image(crop, size=(crop_size, crop_size))
        if flip:
            crop = crop[:, ::-1]
        crops.append((np.clip(crop, 0.0, 1.0), {"top": top, "left": left, "window": window, "flip": flip}))
    return crops


def photo_rng(seed, name):
    """The crop generator of one photo: depends on the seed and the photo's name only."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def prepare_output(out, overwrite):
    from tfstyle.errors import OptionError

    out.mkdir(parents=True, exist_ok=True)
    existing = [out / name for name in (*FOLDERS, "manifest.json") if (out / name).exists()]
    if existing and not overwrite:
        raise OptionError(f"{out} already holds a benchmark ({', '.join(p.name for p in existing)}); "
                          "pass --overwrite to replace it")
    for path in existing:
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    for name in FOLDERS:
        (out / name).mkdir()


def build(args):
    """Write the four folders and return the manifest dict."""
    import tfstyle
    from tfstyle import filters
    from tfstyle.io import resize_image

    options = filter_options(args.filter_option)
    apply_filter = filters.get_filter(args.filter, **options)
    apply_filter(np.zeros((8, 8, 3), np.float32))  # bad option values fail here, before anything is replaced
    scales = parse_scales(args.scales)
    for name in ("crop_size", "crops_per_photo", "photo_size"):
        if getattr(args, name) < 1:
            raise tfstyle.OptionError(f"--{name.replace('_', '-')} must be ≥ 1; Received: {getattr(args, name)}")
    if args.photo_size < args.crop_size:
        raise tfstyle.OptionError(f"--photo-size ({args.photo_size}) must be at least --crop-size ({args.crop_size})")
    skimage_names = [] if args.skimage.strip().lower() in ("", "none") else \
        [name.strip() for name in args.skimage.split(",") if name.strip()]
    folders = args.photos if args.photos else [default_photo_dir()]
    sources = collect_photos(folders, skimage_names)
    splits = split_photos(list(sources), args.test_photos, args.seed)
    prepare_output(args.out, args.overwrite)

    photos, crops = {}, {}
    targets = {"trainA": ("trainA",), "trainB": ("trainB",), "test": ("testA", "testB")}
    for split, names in splits.items():
        for name in names:
            photo = load_photo(sources[name])
            height, width = photo.shape[:2]
            photos[name] = {"source": sources[name], "split": split, "size": [height, width]}
            factor = args.photo_size / min(height, width)
            photo = resize_image(photo, size=(max(args.photo_size, round(height * factor)),
                                              max(args.photo_size, round(width * factor))))
            for index, (crop, record) in enumerate(random_crops(photo, args.crops_per_photo, args.crop_size, scales,
                                                                 photo_rng(args.seed, name))):
                file_name = f"{name}_{index:03d}.png"
                for folder in targets[split]:
                    image = apply_filter(crop) if folder in ("trainB", "testB") else crop
                    tfstyle.save_image(args.out / folder / file_name, image)
                    crops[f"{folder}/{file_name}"] = {"photo": name, **record}
    counts = {folder: len(list((args.out / folder).glob("*.png"))) for folder in FOLDERS}
    return {
        "description": "unpaired benchmark: trainA = photo crops, trainB = crops of other photos through the "
                       "filter, testB = filter(testA) (same file names); photos never shared between splits",
        "tfstyle_version": tfstyle.__version__,
        "seed": args.seed,
        "filter": {"name": args.filter, "parameters": filters.filter_parameters(args.filter, **options)},
        "crop_size": args.crop_size,
        "crops_per_photo": args.crops_per_photo,
        "scales": list(scales),
        "photo_size": args.photo_size,
        "splits": splits,
        "counts": counts,
        "photos": photos,
        "crops": crops,
    }


def baselines(out, layers):
    """Scores of two reference models on the test crops: the identity (G(x) = x) and the oracle (G = the filter).

    Pixel scores compare each testA crop (the identity's output) with its ground truth in testB; the oracle scores
    PSNR ∞ and SSIM 1 there. Set scores are KID and FID on `vgg16_hed` features (`FeatureNetwork`, one entry per
    layer) between the outputs for the even-numbered test crops and the ground truth of the odd-numbered ones: same
    photos, other windows, so that the oracle is not compared with itself. The oracle's KID shows the floor (about
    −0.05 on the default benchmarks: slightly negative because both halves hold every test photo in equal shares),
    the identity's what a model that changes nothing gets (0.81 sketch, 0.96 ink).

    (The test crops are not compared with trainB: with a handful of photos per split, that distance is dominated
    by what the photos show, not by how they are drawn.)
    """
    import tfstyle
    from tfstyle import distribution_metrics, metrics
    from tfstyle.backbones.feature_extractor import FeatureExtractor

    def load(folder):
        return np.stack([tfstyle.load_image(p) for p in sorted((out / folder).glob("*.png"))])

    test_a, test_b = load("testA"), load("testB")
    results = {"pixel_identity": {"psnr": float(np.mean([metrics.psnr(x, y) for x, y in zip(test_a, test_b)])),
                                  "ssim": float(np.mean([metrics.ssim(x, y) for x, y in zip(test_a, test_b)]))}}
    extractor = FeatureExtractor(distribution_metrics.DEFAULT_BACKBONE, layers)
    for layer in layers:
        network = distribution_metrics.FeatureNetwork(extractor, layer=layer)
        reference = network(test_b[1::2])
        scores = {}
        for model, outputs in (("identity", test_a[0::2]), ("oracle", test_b[0::2])):
            features = network(outputs)
            kid = distribution_metrics.kernel_inception_distance(features, reference)
            scores[model] = {"kid": kid.mean, "kid_std": kid.std,
                             "fid": distribution_metrics.frechet_distance(features, reference)}
        results[network.label] = scores
    return results


def main(argv=None):
    args = parse_args(argv)
    from tfstyle.errors import TfstyleError
    from tfstyle.io import save_json

    try:
        manifest = build(args)
        if args.baselines:
            from tfstyle.distribution_metrics import DEFAULT_LAYER

            layers = [name.strip() for name in (args.layers or DEFAULT_LAYER).split(",") if name.strip()]
            manifest["baselines"] = baselines(args.out, layers)
        save_json(args.out / "manifest.json", manifest)
    except TfstyleError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    counts = manifest["counts"]
    print(f"{args.out}: " + ", ".join(f"{folder} {counts[folder]}" for folder in FOLDERS)
          + f" crops of {args.crop_size} px, filter {args.filter}; "
          + ", ".join(f"{split}: {len(names)} photos" for split, names in manifest["splits"].items()))
    for label, scores in manifest.get("baselines", {}).items():
        print(f"  {label}: {scores}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
