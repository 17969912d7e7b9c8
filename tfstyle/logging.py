"""TensorBoard logging of an image-optimization run and of training steps, and helpers that read the event files back.

`TensorBoardLogger` is a `tfstyle.optimize.callbacks.Callback`: pass it to `tfstyle.stylize(..., callbacks=[...])`
or `optimize_image(..., callbacks=[...])` and run `tensorboard --logdir LOGDIR`.

What it writes (tags):

| when                          | tag                                  | kind    | value                            |
| ----------------------------- | ------------------------------------ | ------- | -------------------------------- |
| every `scalars_every` steps   | `loss/<key>` for a key without `/`   | scalar  | `info.terms[key]`                |
|   and at the last step        | `<key>` for a key containing `/`     | scalar  | `info.terms[key]`                |
|                               | `time/seconds`                       | scalar  | `info.elapsed`                   |
| every `images_every` steps    | `image`                              | image   | the current image                |
|   and at the end              |                                      |         |                                  |
| at the start, if given        | `inputs/content`, `inputs/style_0`…  | image   | the input images (step 0)        |
| at the start, if given        | `options`                            | text    | the options as a markdown table  |
|                               | `_hparams_/session_start_info`       | hparams | the scalar options               |
| at the end                    | `result`                             | text    | stop reason, steps, seconds      |

So the loss terms `total`, `content`, `style`, `tv` become `loss/total`, `loss/content`, `loss/style`, `loss/tv`;
per-layer terms keep their own slash structure: `style/block1_conv1` stays `style/block1_conv1`, and with several
backbones `vgg19/style/block1_conv1` stays `vgg19/style/block1_conv1` (TensorBoard groups tags by their first
component). See `scalar_tag`.

The training loops (`tfstyle.adain.train_adain`, `tfstyle.cyclegan.train_cyclegan`) record every logged step with
`log_training_step`: the values go into the run's history and become `train/<key>` scalars; each loop adds its
own learning-rate scalars.

The summaries are written with `tf.summary.scalar` / `image` / `text` and TensorBoard's hparams API, and read
back with TensorBoard's `EventAccumulator`. TensorFlow and TensorBoard are imported inside the functions: the CLI
imports this module to build `--help`.
"""

import os

import numpy as np

from tfstyle.optimize.callbacks import Callback

LOSS_PREFIX = "loss"
TIME_TAG = "time/seconds"
IMAGE_TAG = "image"
OPTIONS_TAG = "options"
RESULT_TAG = "result"
KINDS = ("scalars", "images", "text", "hparams")  # also the names of the TensorBoard plugins that show them


def scalar_tag(key):
    """TensorBoard tag of a loss term: `loss/<key>` for a top-level key, the key itself when it contains a `/`.

    Example:
        >>> scalar_tag("total"), scalar_tag("style/block1_conv1"), scalar_tag("vgg19/content")
        ('loss/total', 'style/block1_conv1', 'vgg19/content')
    """
    return key if "/" in key else f"{LOSS_PREFIX}/{key}"


def log_training_step(history, step, values, writer=None):
    """Record one logged training step: append it to `history` and, with a writer, write `train/<key>` scalars.

    The one bookkeeping behind `train_adain` and `train_cyclegan`, so their histories and TensorBoard tags agree.

    Args:
        history: `{key: [value, ...]}`, updated in place: `step` is appended to `history["step"]` and each value
            to `history[key]` (lists created as needed).
        step: the training step.
        values: `{key: float}` of this step (losses and metrics).
        writer: a `tf.summary` writer, or None to keep the history only.

    Example:
        >>> history = {}
        >>> log_training_step(history, 10, {"loss": 0.5})
        >>> history
        {'step': [10], 'loss': [0.5]}
    """
    history.setdefault("step", []).append(step)
    for key, value in values.items():
        history.setdefault(key, []).append(value)
    if writer is None:
        return
    import tensorflow as tf

    with writer.as_default(step=step):
        for key, value in values.items():
            tf.summary.scalar(f"train/{key}", value)


class TensorBoardLogger(Callback):
    """Write the loss terms, the image, the inputs and the options of a run as TensorBoard summaries.

    Writing the scalars of a step costs about half a millisecond per term, pending events are flushed every
    `flush_secs` seconds and at the end, and images are encoded only every `images_every` steps, so logging costs
    little next to a step of the optimization.

    Args:
        logdir: folder of the event files (created if needed); one run of TensorBoard's run list.
        scalars_every: write the loss terms every this many steps (and always at the last step).
        images_every: write the current image every this many steps; 0 or None: only at the end.
        options: mapping of the run's options (e.g. the arguments of `stylize`), written once as a markdown table
            and, for its str/int/float/bool values, as hparams.
        content: content image (H, W, 3) in [0, 1] (uint8 arrays are taken as they are), written once.
        style: one style image or a list of them, written once as `inputs/style_0`, `inputs/style_1`, ...
        flush_secs: at most this many seconds between writes of pending events to disk, so a live TensorBoard
            follows the run.

    Example:
        >>> logger = TensorBoardLogger("runs/mosaic", images_every=50, options={"style_weight": 10.0})
        >>> result = tfstyle.stylize("sample:astronaut", "sample:mosaic", callbacks=[logger])
        >>> read_scalars("runs/mosaic")["loss/total"][:2]
        [(1, 2.31...), (2, 2.05...)]
    """

    def __init__(self, logdir, scalars_every=1, images_every=50, options=None, content=None, style=None,
                 flush_secs=30.0):
        self.logdir = os.fspath(logdir)
        self.scalars_every = _every("scalars_every", scalars_every, allow_zero=False)
        self.images_every = _every("images_every", images_every, allow_zero=True)
        if options is not None and not hasattr(options, "items"):
            raise TypeError(f"options must be a mapping; received {type(options).__name__}")
        self.options = dict(options) if options is not None else None
        self.content = None if content is None else _as_image(content, "content")
        styles = [] if style is None else (list(style) if isinstance(style, (list, tuple)) else [style])
        self.styles = [_as_image(image, f"style[{index}]") for index, image in enumerate(styles)]
        if not flush_secs > 0:
            raise ValueError(f"flush_secs must be positive; received {flush_secs}")
        self.flush_secs = float(flush_secs)
        self.writer = None
        self._last_scalar_step = self._last_image_step = None

    def on_begin(self, steps):
        import tensorflow as tf
        from tensorboard.plugins.hparams import api as hp

        self.close()
        self._last_scalar_step = self._last_image_step = None
        self.writer = tf.summary.create_file_writer(self.logdir, max_queue=1000,
                                                    flush_millis=int(self.flush_secs * 1000))
        with self.writer.as_default(step=0):
            if self.options is not None:
                tf.summary.text(OPTIONS_TAG, options_markdown(self.options))
                hparams = hparams_values(self.options)
                if hparams:
                    hp.hparams(hparams)
            if self.content is not None:
                tf.summary.image("inputs/content", self.content[None])
            for index, image in enumerate(self.styles):
                tf.summary.image(f"inputs/style_{index}", image[None])

    def on_step(self, info):
        if self.writer is None:
            return
        if info.step % self.scalars_every == 0 or info.step == info.steps:
            self._scalars(info)
        if self.images_every and info.step % self.images_every == 0:
            self._image(info)

    def on_end(self, info, reason):
        import tensorflow as tf

        if self.writer is None:
            return
        if info.terms and self._last_scalar_step != info.step:
            self._scalars(info)  # a run stopped early: its last step is on the curves too
        if self._last_image_step != info.step:
            self._image(info)
        with self.writer.as_default(step=info.step):
            tf.summary.text(RESULT_TAG, f"**{reason}** after {info.step} of {info.steps} steps in "
                                        f"{info.elapsed:.1f} s")
        self.close()

    def close(self):
        """Flush pending events and close the writer; the hooks do nothing more until the next `on_begin`."""
        if self.writer is not None:
            self.writer.close()  # flushes first
            self.writer = None

    def _scalars(self, info):
        import tensorflow as tf

        with self.writer.as_default(step=info.step):
            for key, value in info.terms.items():
                tf.summary.scalar(scalar_tag(key), value)
            tf.summary.scalar(TIME_TAG, info.elapsed)
        self._last_scalar_step = info.step

    def _image(self, info):
        import tensorflow as tf

        with self.writer.as_default(step=info.step):
            tf.summary.image(IMAGE_TAG, _to_uint8(info.image)[None])
        self._last_image_step = info.step


def options_markdown(options):
    """The options as a two-column markdown table (`| option | value |`), in the mapping's order."""
    lines = ["| option | value |", "| --- | --- |"]
    lines += [f"| {_cell(key)} | {_cell(value)} |" for key, value in options.items()]
    return "\n".join(lines)


def hparams_values(options):
    """The options TensorBoard's hparams plugin accepts: str, bool, int and float values (NumPy scalars included).

    Everything else (None, lists, mappings, arrays) is left out; it is still in the `options` text table.
    """
    values = {}
    for key, value in options.items():
        if isinstance(value, np.generic) and np.ndim(value) == 0:
            value = value.item()
        if isinstance(value, (str, bool, int, float)):
            values[str(key)] = value
    return values


def read_scalars(logdir):
    """Every scalar summary in `logdir`'s event files: `{tag: [(step, value), ...]}` in the order written.

    Reads both TF2 summaries (scalars stored as tensors with the `scalars` plugin) and TF1 `simple_value`s. Only
    the event files directly in `logdir` are read (a subfolder is another TensorBoard run); several event files
    (runs logged into the same folder) are read in the order they were created.
    """
    return _read(logdir)["scalars"]


def read_images(logdir):
    """Every image summary in `logdir`: `{tag: [(step, uint8 array (H, W, C)), ...]}` in the order written."""
    import tensorflow as tf

    return {tag: [(step, tf.io.decode_image(png, expand_animations=False).numpy()) for step, png in records]
            for tag, records in _read(logdir)["images"].items()}


def read_text(logdir):
    """Every text summary in `logdir`: `{tag: [(step, str), ...]}` in the order written."""
    return _read(logdir)["text"]


def read_tags(logdir):
    """The tags in `logdir`'s event files by kind: `{"scalars": [...], "images": [...], "text": [...],
    "hparams": [...]}`, each list in the order the tags first appear."""
    return {kind: list(records) for kind, records in _read(logdir).items()}


def _read(logdir):
    """`{kind: {tag: [(step, value), ...]}}` with a float, the first image's PNG bytes, a str or None per value."""
    import tensorflow as tf
    from tensorboard.backend.event_processing import event_accumulator as ea

    logdir = os.fspath(logdir)
    if not tf.io.gfile.isdir(logdir):
        raise FileNotFoundError(f"no such log folder: {logdir}")
    # purge_orphaned_data=False: a second run logged into the folder restarts at step 1 and must be kept.
    accumulator = ea.EventAccumulator(logdir, size_guidance=ea.STORE_EVERYTHING_SIZE_GUIDANCE,
                                      purge_orphaned_data=False)
    accumulator.Reload()
    value_of = {"scalars": float, "images": lambda array: array[2],  # [width, height, png, png, ...]
                "text": lambda array: array.item().decode("utf-8"), "hparams": lambda array: None}
    found = {kind: {} for kind in KINDS}
    for tag in accumulator.Tags()[ea.TENSORS]:
        kind = accumulator.SummaryMetadata(tag).plugin_data.plugin_name
        if kind in KINDS:
            found[kind][tag] = [(event.step, value_of[kind](tf.make_ndarray(event.tensor_proto)))
                                for event in accumulator.Tensors(tag)]
    for tag in accumulator.Tags()[ea.SCALARS]:  # TF1 summaries
        found["scalars"][tag] = [(event.step, event.value) for event in accumulator.Scalars(tag)]
    for tag in accumulator.Tags()[ea.IMAGES]:
        found["images"][tag] = [(event.step, event.encoded_image_string) for event in accumulator.Images(tag)]
    return found


def _every(name, value, allow_zero):
    if value is None and allow_zero:
        return 0
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < (0 if allow_zero else 1):
        least = "zero or positive" if allow_zero else "at least 1"
        raise ValueError(f"{name} must be an integer {least}; received {value!r}")
    return int(value)


def _as_image(image, name):
    array = np.asarray(image)
    if array.ndim == 4 and array.shape[0] == 1:
        array = array[0]
    if array.ndim != 3 or array.shape[-1] != 3:
        raise ValueError(f"{name} must be an image (H, W, 3); received shape {array.shape}")
    return _to_uint8(array)


def _to_uint8(image):
    """uint8 as it is; floats clipped to [0, 1] and rounded (`tf.summary.image` would truncate `x * 255.5`)."""
    array = np.asarray(image)
    if array.dtype == np.uint8:
        return array
    return np.round(np.clip(array.astype(np.float32), 0.0, 1.0) * 255.0).astype(np.uint8)


def _cell(value):
    """A markdown table cell: `|` escaped, line breaks folded."""
    return str(value).replace("|", "\\|").replace("\r", " ").replace("\n", " ")
