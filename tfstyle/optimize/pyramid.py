"""Coarse-to-fine schedules: the sizes of a multi-scale run and the steps spent at each.

A pyramid optimizes the image at a small size first (cheap steps that settle the large-scale structure of the
style), then upsamples the result and continues at the next size, down to the output size, as neural-style users
do with their multires scripts. `stylize(..., sizes=...)` runs the levels; this module only plans them.

The look stays the same across levels without reweighting: every loss term is normalised by its target's energy
and Gram matrices by the number of positions (`tfstyle.losses.PerceptualLoss`), so a term's value does not depend
on the image size, and the style images are resized with each level (`style_scale × level size`), so a style
feature covers the same fraction of the output at every level.
"""

from tfstyle.errors import OptionError

# `sizes="auto"` halves the output size down to this long side (below it, a VGG's deepest style layers see only a
# few positions and the coarse level teaches little).
AUTO_MIN_SIZE = 256
# The default schedule of `stylize` (no `sizes`, no `steps`): see `default_schedule`.
SCHEDULE_COARSE_SIZE = 128
SCHEDULE_COARSE_STEPS = 200
SCHEDULE_FINE_STEPS = 30


def pyramid_sizes(size, sizes=None):
    """The long side of every level, ascending, ending at the output size.

    Args:
        size: long side of the output.
        sizes: None (one level: `size`), `"auto"` (halve `size` while it stays ≥ `AUTO_MIN_SIZE`), or a sequence
            of increasing long sides whose last is the output size (then `size` is ignored).

    Returns:
        A list of ints.

    Example:
        >>> pyramid_sizes(1024, "auto")
        [256, 512, 1024]
    """
    if sizes is None:
        return [int(size)]
    if isinstance(sizes, str):
        if sizes != "auto":
            raise OptionError(f"sizes must be 'auto' or a list of increasing sizes; received {sizes!r}")
        levels = [int(size)]
        while levels[0] // 2 >= AUTO_MIN_SIZE:
            levels.insert(0, levels[0] // 2)
        return levels
    levels = [int(value) for value in sizes]
    if not levels or any(value < 1 for value in levels):
        raise OptionError(f"sizes must be positive; received {list(sizes)}")
    if any(later <= earlier for earlier, later in zip(levels, levels[1:])):
        raise OptionError(f"sizes must increase from coarse to fine; received {levels}")
    return levels


def default_schedule(size):
    """The levels and steps of `stylize`'s default run: coarse to fine from `SCHEDULE_COARSE_SIZE`.

    Levels: `size` halved while the result stays ≥ `SCHEDULE_COARSE_SIZE` (512 → 128, 256, 512). Steps:
    `SCHEDULE_COARSE_STEPS` at the coarsest level, half as many at each finer one, and `SCHEDULE_FINE_STEPS` at the
    output size (512 → 200, 100, 30), so that most of the work happens where a step is cheap.

    Why start so small: at 128 px a VGG's deepest style layers see most of the image, so the coarse level lays
    strokes and colour fields at the painting's own scale (a painting seen whole); the finer levels, starting from
    the upsampled result, add detail and sharpen the content. A run that starts at the output size instead keeps
    the photo's fine structure and lays a fine texture over it. Sizes below 2 × `SCHEDULE_COARSE_SIZE` run as one
    level of `SCHEDULE_COARSE_STEPS` steps.

    Returns:
        `(sizes, steps)`, two lists of ints of the same length.

    Example:
        >>> default_schedule(512)
        ([128, 256, 512], [200, 100, 30])
        >>> default_schedule(1024)
        ([128, 256, 512, 1024], [200, 100, 50, 30])
    """
    levels = [int(size)]
    while levels[0] // 2 >= SCHEDULE_COARSE_SIZE:
        levels.insert(0, levels[0] // 2)
    return levels, schedule_steps(len(levels))


def schedule_steps(count):
    """The default steps of a pyramid of `count` levels (see `default_schedule`)."""
    if count == 1:
        return [SCHEDULE_COARSE_STEPS]
    steps = [max(SCHEDULE_FINE_STEPS, SCHEDULE_COARSE_STEPS // 2 ** level) for level in range(count - 1)]
    return steps + [SCHEDULE_FINE_STEPS]


def level_steps(steps, levels):
    """Steps at each level: an int is used at every level; a sequence gives one count per level."""
    if isinstance(steps, (list, tuple)):
        counts = [int(value) for value in steps]
        if len(counts) != len(levels):
            raise OptionError(f"got {len(counts)} step counts for {len(levels)} sizes {levels}")
    else:
        counts = [int(steps)] * len(levels)
    if any(count < 1 for count in counts):
        raise OptionError(f"steps must be at least 1 at every level; received {counts}")
    return counts


class LevelCallback:
    """Presents the levels of a pyramid to a callback as one run: steps are numbered across levels, `on_begin`
    is called once (with the total) and `on_end` once (when the last level ends or a level stops the run).

    Args:
        callback: a `tfstyle.optimize.callbacks.Callback`.
        total_steps: steps of all levels together.
    """

    def __init__(self, callback, total_steps):
        self.callback = callback
        self.total_steps = int(total_steps)
        self.offset = 0
        self.began = False
        self.last = False

    def start_level(self, offset, last):
        """Call before each level: `offset` steps were done by the earlier levels."""
        self.offset = int(offset)
        self.last = bool(last)

    def on_begin(self, steps):
        if not self.began:
            self.began = True
            self.callback.on_begin(self.total_steps)

    def on_step(self, info):
        self.callback.on_step(self._shifted(info))

    def on_end(self, info, reason):
        if self.last or reason not in ("done", "converged"):
            self.callback.on_end(self._shifted(info), reason)

    def _shifted(self, info):
        import dataclasses

        return dataclasses.replace(info, step=info.step + self.offset, steps=self.total_steps)
