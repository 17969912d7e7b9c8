"""Callbacks of the image-optimization loop: progress display, periodic saving, history."""

import dataclasses
import os
import sys
import time

import numpy as np


@dataclasses.dataclass
class StepInfo:
    """What the loop knows after a step.

    Attributes:
        step: number of steps done (1-based).
        steps: steps planned in this run.
        terms: loss terms of the image before the step, as floats (`total`, `content`, `style`, `tv`, per layer).
        elapsed: seconds since the loop started.
        image_fn: returns the current image (H, W, 3) float32 in [0, 1]; called only by callbacks that need it.
    """

    step: int
    steps: int
    terms: dict
    elapsed: float
    image_fn: object

    @property
    def image(self):
        return self.image_fn()


class Callback:
    """Base class: override the hooks you need."""

    def on_begin(self, steps):
        pass

    def on_step(self, info):
        pass

    def on_end(self, info, reason):
        """`reason` is `"done"`, `"interrupted"` (Ctrl-C), `"diverged"` (non-finite loss) or `"converged"`."""


class ProgressBar(Callback):
    """A tqdm progress bar with the elapsed time, an ETA and the live total, content, style and TV losses.

    With `step_costs` (one relative cost per step, e.g. the pixel count of a pyramid level's image) the bar
    advances by cost rather than by step, so that its ETA stays right when later steps are slower than earlier ones
    (a coarse-to-fine run spends 16× longer on a step at 512 px than at 128 px); the step count is shown beside it.

    Args:
        every: refresh every `every` steps.
        file: stream of the bar (default stderr; tqdm hides it when that is not a terminal).
        step_costs: None (every step costs the same) or a sequence with one positive cost per step.
    """

    def __init__(self, every=1, file=None, step_costs=None):
        self.every = max(1, int(every))
        self.file = file
        self.bar = None
        self.done = None
        if step_costs is not None:
            costs = np.asarray(step_costs, np.float64)
            self.done = np.concatenate([[0.0], np.cumsum(costs / costs.sum())])

    def on_begin(self, steps):
        from tqdm.auto import tqdm

        self.steps = int(steps)
        options = dict(file=self.file or sys.stderr, dynamic_ncols=True, disable=None if self.file is None else False)
        if self.done is None:
            self.bar = tqdm(total=steps, unit="step", **options)
        else:
            self.bar = tqdm(total=1.0, bar_format="{l_bar}{bar}| [{elapsed}<{remaining}{postfix}]", **options)

    def on_step(self, info):
        if info.step % self.every == 0 or info.step == info.steps:
            shown = {key: f"{info.terms[key]:.4g}" for key in ("total", "content", "style", "tv") if key in info.terms}
            if self.done is None:
                self.bar.set_postfix(shown, refresh=False)
                self.bar.update(info.step - self.bar.n)
            else:
                self.bar.set_postfix({"step": f"{info.step}/{info.steps}", **shown}, refresh=False)
                self.bar.update(self.done[min(info.step, len(self.done) - 1)] - self.bar.n)

    def on_end(self, info, reason):
        if self.bar is not None:
            self.bar.close()


class PrintLosses(Callback):
    """Print the loss terms every `every` steps, in the style of neural-style's `-print_iter`."""

    def __init__(self, every=50, file=None):
        self.every = max(1, int(every))
        self.file = file

    def on_step(self, info):
        if info.step % self.every == 0 or info.step == info.steps:
            terms = "  ".join(f"{key} {info.terms[key]:.4g}" for key in ("total", "content", "style", "tv")
                              if key in info.terms)
            print(f"step {info.step}/{info.steps}  {terms}  ({info.elapsed:.1f} s)", file=self.file or sys.stdout,
                  flush=True)


class SaveEvery(Callback):
    """Write the current image every `every` steps to `pattern.format(step=...)`, e.g. `out_{step:04d}.png`."""

    def __init__(self, pattern, every):
        self.pattern = os.fspath(pattern)
        self.every = int(every)
        self.saved = []

    def on_step(self, info):
        if self.every > 0 and info.step % self.every == 0 and info.step != info.steps:
            from tfstyle.io import save_image

            self.saved.append(save_image(self.pattern.format(step=info.step), info.image))


def numbered_path(path):
    """`out.png` → `out_{step:04d}.png`, the pattern `SaveEvery` uses for intermediate images."""
    root, ext = os.path.splitext(os.fspath(path))
    return root.replace("{", "{{").replace("}", "}}") + "_{step:04d}" + ext


class Timer:
    """Monotonic seconds since creation."""

    def __init__(self):
        self.start = time.perf_counter()

    def __call__(self):
        return time.perf_counter() - self.start


def to_floats(terms):
    """Loss-term tensors → Python floats."""
    return {key: float(np.asarray(value)) for key, value in terms.items()}
