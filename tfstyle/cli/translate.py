"""`tfstyle translate --generator G INPUT [INPUT ...] -o OUT`: image-to-image translation with a CycleGAN generator.

G is a `.keras` generator file, a `tfstyle train-cyclegan` work folder (`--direction ab` or `ba` picks the
generator) or the name of a generator shipped with tfstyle. One input image: OUT is the output image, or an
existing folder to write it into (named after the input). Several inputs, or a folder: OUT is a folder (created
when its parent exists), each output named after its input.

Exit codes: 0 done; 1 some inputs were skipped (each reported on stderr); 2 bad input (one line on stderr,
nothing written); 130 interrupted (finished outputs are kept).
"""

import os
import pathlib
import sys
import time

from tfstyle.cli import parsing

EXIT_SKIPPED = 1
EXIT_INTERRUPTED = 130
# Kept here (not taken from tfstyle.io) so that `--help` stays light; tests check they match io.OUTPUT_FORMATS.
FORMATS = ("png", "jpg", "jpeg", "webp", "bmp", "tif", "tiff")


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "translate", help="translate images with a trained CycleGAN generator (photo → sketch, A → B, ...)",
        description="Translate images with a trained CycleGAN generator, at their own size (padded to what the "
                    "generator needs and cropped back). One input image: -o is the output image or an existing "
                    "folder. Several inputs or a folder: -o is a folder (created if its parent exists), outputs "
                    "named after the inputs.")
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="image files (or sample:NAME) and folders")
    parser.add_argument("-o", "--output", required=True, help="output image or folder")
    parser.add_argument("--generator", required=True, metavar="PATH|WORKDIR|NAME",
                        help="a .keras generator file, a `tfstyle train-cyclegan` work folder, or the name of a "
                             "generator shipped with tfstyle")
    parser.add_argument("--direction", choices=("ab", "ba"),
                        help="which generator of a work folder: ab (domain A to B, the default) or ba")
    group = parser.add_argument_group("outputs")
    group.add_argument("--format", choices=FORMATS,
                       help="format of outputs named after their inputs (default: the input's, PNG for formats "
                            "that cannot be written)")
    group.add_argument("-r", "--recursive", action="store_true",
                       help="include the subfolders of input folders (outputs keep the relative folders)")
    group = parser.add_argument_group("size and speed")
    group.add_argument("--batch-size", type=parsing.positive_int, default=1,
                       help="images of one size per forward pass (default %(default)s)")
    group.add_argument("--max-size", "--size", dest="max_size", type=parsing.non_negative_int, default=0,
                       help="downscale inputs whose long side exceeds this (default %(default)s: never)")
    group.add_argument("--max-pixels", type=parsing.non_negative_int,
                       help="refuse inputs larger than this many pixels once padded, to protect memory (default "
                            "8388608, or $TFSTYLE_TRANSLATE_MAX_PIXELS; 0: no limit)")
    parser.set_defaults(run=run)
    return parser


def plan(args):
    """`"image"` or `"folder"`: what the arguments ask for, checked before TensorFlow starts."""
    from tfstyle.errors import ImageError, OptionError

    for item in args.inputs:
        if not item.startswith("sample:") and not pathlib.Path(item).expanduser().exists():
            raise ImageError(f"image not found: {pathlib.Path(item).expanduser()}")
    output = pathlib.Path(args.output).expanduser()
    first = args.inputs[0]
    single = len(args.inputs) == 1 and (first.startswith("sample:") or pathlib.Path(first).expanduser().is_file())
    if single:
        if output.is_dir():
            return "image"
        parsing.check_output_path(os.fspath(output))
        if args.format is not None and output.suffix.lower().lstrip(".") != args.format:
            raise OptionError(f"--format {args.format} names the format of outputs named after their inputs; the "
                              f"output {output} is a {output.suffix.lower() or 'file without an extension'} file")
        if not first.startswith("sample:") and output.resolve() == pathlib.Path(first).expanduser().resolve():
            raise ImageError(f"the output would replace the input: {output}")
        return "image"
    if output.exists() and not output.is_dir():
        raise ImageError(f"not a folder: {output} (several inputs or a folder go to a folder)")
    if not output.exists() and not output.resolve().parent.is_dir():
        raise ImageError(f"cannot create output folder {output}: its parent folder does not exist")
    return "folder"


def run(args):
    from tfstyle.io import load_image

    mode = plan(args)
    max_size = args.max_size or None
    # Read a single input now: a file that is not an image fails in a second, before TensorFlow starts.
    image = load_image(args.inputs[0], max_size=max_size) if mode == "image" else None

    from tfstyle.cli.runtime import import_tensorflow_quietly

    import_tensorflow_quietly()
    from tfstyle.cyclegan.pretrained import load_generator
    from tfstyle.cyclegan.translate import DEFAULT_MAX_PIXELS, Translator

    generator = load_generator(args.generator, args.direction)
    max_pixels = DEFAULT_MAX_PIXELS if args.max_pixels is None else args.max_pixels
    translator = Translator(generator, batch_size=args.batch_size, max_size=max_size, max_pixels=max_pixels)
    label = args.generator + (f" ({generator.direction})" if generator.direction else "")
    try:
        if mode == "image":
            return _run_image(args, translator, image, label)
        return _run_folder(args, translator, label)
    except KeyboardInterrupt:
        print("tfstyle translate: interrupted; finished outputs are kept", file=sys.stderr)
        return EXIT_INTERRUPTED


def _run_image(args, translator, image, label):
    from tfstyle.cyclegan.translate import list_inputs, output_names
    from tfstyle.errors import ImageError
    from tfstyle.io import save_image

    output = pathlib.Path(args.output).expanduser()
    if output.is_dir():
        output = output / output_names(list_inputs(args.inputs), _extension(args))[0]
        if output.resolve() == pathlib.Path(args.inputs[0]).expanduser().resolve():
            raise ImageError(f"the output would replace the input: {output}; choose another output folder or format")
    height, width = image.shape[:2]
    translator.check_size(height, width, label=args.inputs[0])
    start = time.perf_counter()
    result = translator(image)
    seconds = time.perf_counter() - start
    path = save_image(output, result)
    print(f"wrote {path}  ({width}x{height})")
    print(f"1 image in {seconds:.2f} s, generator {label}")
    return 0


def _run_folder(args, translator, label):
    from tfstyle.cyclegan.translate import list_inputs, translate_folder
    from tfstyle.errors import ImageError

    output = pathlib.Path(args.output).expanduser()
    list_inputs(args.inputs, recursive=args.recursive)  # an empty folder fails before the output folder is made
    created = not output.exists()
    if created:
        try:
            output.mkdir()
        except OSError as error:
            raise ImageError(f"cannot create output folder {output} ({' '.join(str(error).split())})") from None

    def report(source, path, reason):
        if reason is None:
            print(f"wrote {path}", flush=True)
        else:
            print(f"skipped {source}: {reason}", file=sys.stderr, flush=True)

    try:
        result = translate_folder(translator, args.inputs, output, extension=_extension(args),
                                  recursive=args.recursive, callback=report)
    except BaseException:
        _remove_if_empty(output, created)
        raise
    written, skipped = len(result.outputs), len(result.skipped)
    if written == 0:
        _remove_if_empty(output, created)
        raise ImageError(f"no readable images in {', '.join(args.inputs)}" + (f" ({skipped} skipped)" if skipped
                                                                                else ""))
    skipped_text = f", {skipped} skipped" if skipped else ""
    noun = "image" if written == 1 else "images"
    print(f"{written} {noun} in {result.seconds:.2f} s ({result.seconds_per_image:.3f} s per image{skipped_text}), "
          f"generator {label}")
    return EXIT_SKIPPED if skipped else 0


def _extension(args):
    return None if args.format is None else f".{args.format}"


def _remove_if_empty(folder, created):
    if created:
        try:
            folder.rmdir()
        except OSError:  # something was written after all: keep it
            pass
