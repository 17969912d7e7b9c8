"""Build the offline training folders for tfstyle's shipped AdaIN decoder, and its held-out evaluation set.

No image collection can be downloaded here, so the decoder learns from what exists locally:

- content: the photos of `TFSTYLE_DATA/content` and the colour and grayscale photos that ship with scikit-image;
- style: the paintings of `TFSTYLE_DATA/style` except the held-out ones, tfstyle's generated sample styles, and
  procedural textures made here (stripes, blobs, strokes, noise in random palettes), so that the decoder sees more
  than a dozen colour palettes.

The held-out paintings (`--holdout`, default the_scream, udnie, la_muse, wave) go to `OUT/holdout_style/` and are
never used for training: docs and benchmarks judge the decoder on them. The images are written as PNG/JPEG copies,
so the folders can be handed to `tfstyle train-adain` as they are. Never commit them.

Usage:
    python scripts/prepare_adain_data.py /work/runs/adain_data
    tfstyle train-adain --content-dir /work/runs/adain_data/content --style-dir /work/runs/adain_data/style ...
"""

import argparse
import os
import pathlib
import shutil
import sys

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

HOLDOUT = ("the_scream", "udnie", "la_muse", "wave")
SKIMAGE_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field", "camera", "retina",
                  "moon", "coins", "immunohistochemistry")


def data_root():
    default = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data"
    return pathlib.Path(os.environ.get("TFSTYLE_DATA", default))


def palette(rng, count):
    """Random but harmonious colours: a base hue with spread, varied lightness."""
    import colorsys

    base = rng.uniform(0, 1)
    return [tuple(int(255 * c) for c in colorsys.hsv_to_rgb((base + rng.normal(0, 0.15)) % 1.0,
                                                             rng.uniform(0.3, 1.0), rng.uniform(0.2, 1.0)))
            for _ in range(count)]


def texture(kind, rng, size=512):
    colours = palette(rng, 6)
    image = Image.new("RGB", (size, size), colours[0])
    draw = ImageDraw.Draw(image)
    if kind == "strokes":
        for _ in range(900):
            x, y = rng.uniform(0, size, 2)
            angle = rng.normal(0.6, 0.4)
            length = rng.uniform(10, 50)
            draw.line([(x, y), (x + length * np.cos(angle), y + length * np.sin(angle))],
                      fill=colours[rng.integers(1, 6)], width=int(rng.integers(3, 9)))
    elif kind == "blobs":
        for _ in range(160):
            x, y, r = *rng.uniform(0, size, 2), rng.uniform(8, 60)
            draw.ellipse([x - r, y - r, x + r, y + r], fill=colours[rng.integers(1, 6)],
                         outline=(20, 20, 20), width=int(rng.integers(1, 4)))
    elif kind == "stripes":
        yy, xx = np.mgrid[0:size, 0:size] / size
        angle = rng.uniform(0, np.pi)
        wave = np.sin(2 * np.pi * rng.uniform(4, 14) * (np.cos(angle) * xx + np.sin(angle) * yy)
                      + 3 * np.sin(2 * np.pi * rng.uniform(1, 3) * yy))
        lut = np.array(colours[1:4], dtype=np.float32)
        index = np.clip(((wave + 1) / 2 * 2.999).astype(int), 0, 2)
        image = Image.fromarray(lut[index].astype(np.uint8))
    else:  # "noise": smoothed coloured noise, like a watercolour wash
        field = rng.normal(size=(size // 16, size // 16, 3))
        small = Image.fromarray(((field - field.min()) / np.ptp(field) * 255).astype(np.uint8))
        image = small.resize((size, size), Image.BICUBIC)
        tint = np.array(colours[1], dtype=np.float32) / 255
        image = Image.fromarray((np.asarray(image, dtype=np.float32) * (0.5 + tint)).clip(0, 255).astype(np.uint8))
    return image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.2)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=pathlib.Path)
    parser.add_argument("--holdout", default=",".join(HOLDOUT))
    parser.add_argument("--textures", type=int, default=16, help="procedural textures added to the styles")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    import skimage.data

    import tfstyle

    root = data_root()
    holdout = {name.strip() for name in args.holdout.split(",") if name.strip()}
    folders = {name: args.out / name for name in ("content", "style", "holdout_style")}
    for folder in folders.values():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    counts = dict.fromkeys(folders, 0)
    for path in sorted((root / "content").glob("*")):
        shutil.copy(path, folders["content"] / path.name)
        counts["content"] += 1
    photos = {name: getattr(skimage.data, name)() for name in SKIMAGE_PHOTOS}
    photos["motorcycle"] = skimage.data.stereo_motorcycle()[0]
    for name, array in photos.items():
        Image.fromarray(array).convert("RGB").save(folders["content"] / f"skimage_{name}.png")
        counts["content"] += 1
    for path in sorted((root / "style").glob("*")):
        target = "holdout_style" if path.stem in holdout else "style"
        shutil.copy(path, folders[target] / path.name)
        counts[target] += 1
    for name, description in tfstyle.samples.available().items():
        if description.startswith("style:"):
            tfstyle.save_image(folders["style"] / f"sample_{name}.png", tfstyle.load_image(f"sample:{name}"))
            counts["style"] += 1
    rng = np.random.default_rng(args.seed)
    kinds = ("strokes", "blobs", "stripes", "noise")
    for index in range(args.textures):
        kind = kinds[index % len(kinds)]
        texture(kind, rng).save(folders["style"] / f"texture_{index:02d}_{kind}.png")
        counts["style"] += 1
    print(", ".join(f"{name}: {count} images in {folders[name]}" for name, count in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
