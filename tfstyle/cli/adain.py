"""`tfstyle adain CONTENT STYLE [STYLE ...] -o OUT`: feed-forward style transfer with a trained AdaIN decoder.

CONTENT is an image (then OUT is an image file, or an existing folder to write it into), a folder of images (OUT
is an existing folder; each output is named after its input), or a video: a video file, or a folder of frames
when OUT ends in a video extension (OUT is then a video file, or an existing folder for the stylized frames).

Exit codes: 0 done; 1 some inputs of a folder or video were skipped (each reported on stderr); 2 bad input (one
line on stderr, nothing written); 130 interrupted (finished outputs are kept, a partial video is not written).
"""

import argparse
import os
import pathlib
import sys
import time

from tfstyle.cli import parsing

EXIT_SKIPPED = 1
EXIT_INTERRUPTED = 130
# Kept here (not imported from tfstyle.adain) so that `--help` does not start Keras.
_VIDEO_FORMATS = (".gif", ".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm")


def unit_float(text):
    """`0.8` → 0.8, a number in [0, 1]."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1], got {text}")
    return value


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "adain", help="fast feed-forward style transfer of images, folders and videos with a trained AdaIN decoder",
        description="Stylize CONTENT with STYLE in one forward pass (AdaIN, Huang & Belongie 2017). CONTENT: an "
                    "image (path or sample:NAME), a folder of images (-o is a folder, outputs named after the "
                    "inputs), a video file (.gif; .mp4 etc. need imageio-ffmpeg) or a folder of frames with -o "
                    "ending in .gif/.mp4/...; a video's -o may also be a folder for the frames.")
    parser.add_argument("content", help="content image, folder of images, video file or folder of frames")
    parser.add_argument("style", nargs="+", help="style image(s)")
    parser.add_argument("-o", "--output", required=True, help="output image, folder or video file")
    parser.add_argument("--decoder", default="vgg16_hed", metavar="NAME|PATH",
                        help="a decoder shipped with tfstyle (default %(default)s) or a .weights.h5 file with its "
                             ".json next to it (as `tfstyle train-adain` writes)")
    group = parser.add_argument_group("controls")
    group.add_argument("--alpha", type=unit_float, default=1.0,
                       help="content-style trade-off: 1 full style, 0 the content (default %(default)s)")
    group.add_argument("--style-weights", type=parsing.float_list, metavar="W[,W...]",
                       help="interpolate several styles with these weights, e.g. 1,3 (normalised; default equal)")
    group.add_argument("--preserve-colors", choices=("coral", "histogram", "luminance"),
                       help="keep the content's colours: recolour the styles to them (coral, histogram) or transfer "
                            "on luminance only")
    group.add_argument("--mask", type=parsing.path_list, metavar="MASK[,MASK...]",
                       help="spatial control: one style: styled where the mask is white; two styles: style 1 where "
                            "white, style 2 where black; 3+ styles: a label image (darkest colour = style 1) or one "
                            "mask per style")
    group = parser.add_argument_group("size and speed")
    group.add_argument("--max-size", "--size", dest="max_size", type=parsing.non_negative_int, default=1024,
                       help="downscale content whose long side exceeds this (default %(default)s; 0: never)")
    group.add_argument("--style-size", type=parsing.non_negative_int, default=512,
                       help="downscale style images whose long side exceeds this (default %(default)s; 0: never)")
    group.add_argument("--border", type=parsing.non_negative_int, default=16,  # adain.inference.DEFAULT_BORDER
                       help="reflection padding in pixels around the content while encoding, against a frame at "
                            "the edges (default %(default)s; 0: none, the fastest)")
    group.add_argument("--batch-size", type=parsing.positive_int, default=1,
                       help="images or frames of one size per forward pass (default %(default)s)")
    group.add_argument("--fps", type=parsing.positive_float,
                       help="frame rate of an output video (default: the source's, or 24 for a folder of frames)")
    group.add_argument("--no-progress", action="store_true", help="hide the progress bar of videos")
    parser.set_defaults(run=run)
    return parser


def plan(args):
    """Which mode (`image`, `folder` or `video`) the arguments ask for, checked before anything is loaded."""
    from tfstyle.errors import ImageError, OptionError

    content, output = args.content, pathlib.Path(args.output)
    output_video = output.suffix.lower() in _VIDEO_FORMATS
    if content.startswith("sample:"):
        mode = "image"
    else:
        path = pathlib.Path(content).expanduser()
        suffix = path.suffix.lower()
        if not path.exists():
            kind = "video" if suffix in _VIDEO_FORMATS and suffix != ".gif" else "image"
            raise ImageError(f"{kind} not found: {path}")
        if path.is_dir():
            mode = "video" if output_video else "folder"
        elif suffix in _VIDEO_FORMATS and (suffix != ".gif" or output_video or output.is_dir()):
            mode = "video"
        else:
            mode = "image"
    if mode == "folder":
        if not output.is_dir():
            raise ImageError(f"output folder does not exist: {output}" if not output.exists()
                             else f"not a folder: {output} (the results of a folder of images go to a folder)")
        if output.resolve() == pathlib.Path(content).resolve():
            raise ImageError(f"the output folder is the content folder: the results would replace the inputs: "
                             f"{output}")
    elif mode == "video":
        if not (output_video or output.is_dir()):
            raise OptionError(f"a video becomes a video file ({', '.join(_VIDEO_FORMATS)}) or an existing folder of "
                              f"frames; Received: -o {output}")
        if output_video:
            parsing.check_output_path(os.fspath(output), formats=_VIDEO_FORMATS)
    elif not output.is_dir():
        parsing.check_output_path(os.fspath(output))
    return mode


def run(args):
    from tfstyle.errors import ImageError, OptionError
    from tfstyle.io import load_image

    mode = plan(args)
    if args.style_weights is not None and len(args.style_weights) != len(args.style):
        raise OptionError(f"--style-weights has {len(args.style_weights)} values for {len(args.style)} style images")
    if args.style_weights is not None and args.mask is not None:
        raise OptionError("--style-weights blend the styles everywhere and --mask gives each style its own region: "
                          "give one or the other")
    if args.mask is not None and len(args.mask) not in (1, len(args.style)):
        raise OptionError(f"--mask has {len(args.mask)} images for {len(args.style)} style images; give one mask per "
                          f"style image or a single mask")
    # Read the small inputs now: a wrong path fails in a second, before TensorFlow starts.
    style_size = args.style_size or None
    styles = [load_image(style, max_size=style_size) for style in args.style]
    masks = None if args.mask is None else [load_image(mask) for mask in args.mask]
    content = load_image(args.content, max_size=args.max_size or None) if mode == "image" else None

    from tfstyle.cli.runtime import import_tensorflow_quietly

    import_tensorflow_quietly()
    from tfstyle.adain import AdaINStylizer, resolve_decoder
    from tfstyle.adain.batch import video_backend_missing

    if mode == "video":  # a missing video backend fails before the model is built
        for path, action in ((args.output, "writing"), (args.content, "reading")):
            if pathlib.Path(path).suffix.lower() in _VIDEO_FORMATS and not pathlib.Path(path).is_dir():
                reason = video_backend_missing(path, action)
                if reason:
                    raise ImageError(reason)
    model = resolve_decoder(args.decoder)
    options = {"alpha": args.alpha, "style_weights": args.style_weights, "preserve_colors": args.preserve_colors,
               "mask": masks, "max_size": args.max_size or None, "border": args.border}
    try:
        if mode == "image":
            start = time.perf_counter()
            image = AdaINStylizer(model, styles, **options)(content)
            return _write_image(args, image, time.perf_counter() - start)
        if mode == "folder":
            return _run_folder(args, model, styles, options)
        return _run_video(args, model, styles, options)
    except KeyboardInterrupt:
        print("tfstyle adain: interrupted; finished outputs are kept, a partial video is not written",
              file=sys.stderr)
        return EXIT_INTERRUPTED


def _write_image(args, image, seconds):
    from tfstyle.io import save_image

    output = pathlib.Path(args.output)
    if output.is_dir():
        stem = args.content[len("sample:"):] if args.content.startswith("sample:") else pathlib.Path(args.content).stem
        output = output / f"{stem}.png"
    path = save_image(output, image)
    print(f"wrote {path}  ({image.shape[1]}x{image.shape[0]})")
    print(f"1 image in {seconds:.2f} s, decoder {args.decoder}")
    return 0


def _run_folder(args, model, styles, options):
    from tfstyle.adain import transfer_folder

    def report(source, path, reason):
        if reason is None:
            print(f"wrote {path}", flush=True)
        else:
            print(f"skipped {source}: {reason}", file=sys.stderr, flush=True)

    result = transfer_folder(model, args.content, styles, args.output, batch_size=args.batch_size, callback=report,
                             **options)
    written, skipped = len(result.outputs), len(result.skipped)
    if written == 0:
        from tfstyle.errors import ImageError

        raise ImageError(f"no readable images in {args.content}" + (f" ({skipped} skipped)" if skipped else ""))
    skipped_text = f", {skipped} skipped" if skipped else ""
    print(f"{written} images in {result.seconds:.2f} s ({result.seconds_per_image:.3f} s per image{skipped_text}), "
          f"decoder {args.decoder}")
    return EXIT_SKIPPED if skipped else 0


def _run_video(args, model, styles, options):
    from tfstyle.adain import transfer_video

    bars = []  # created at the first frame, so that a video refused up front leaves no empty bar behind

    def report(label, reason):
        if not bars and not args.no_progress:
            from tqdm.auto import tqdm

            bars.append(tqdm(unit="frame", file=sys.stderr, dynamic_ncols=True, leave=False))
        if reason is not None:
            message = f"skipped {label}: {reason}"
            (bars[0].write(message, file=sys.stderr) if bars else print(message, file=sys.stderr))
        elif bars:
            bars[0].update(1)

    try:
        result = transfer_video(model, args.content, styles, args.output, fps=args.fps, batch_size=args.batch_size,
                                callback=report, **options)
    finally:
        for bar in bars:
            bar.close()
    skipped = len(result.skipped)
    skipped_text = f", {skipped} skipped" if skipped else ""
    print(f"wrote {result.output}  ({result.frames} frames at {result.fps:g} fps)")
    print(f"{result.frames} frames in {result.seconds:.2f} s ({result.seconds_per_frame:.3f} s per frame"
          f"{skipped_text}), decoder {args.decoder}")
    return EXIT_SKIPPED if skipped else 0
