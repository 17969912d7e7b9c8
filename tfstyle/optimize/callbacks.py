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
    """A tqdm progress bar showing the total, content, style and TV losses, refreshed every `every` steps."""

    def __init__(self, every=1, file=None):
        self.every = max(1, int(every))
        self.file = file
        self.bar = None

    def on_begin(self, steps):
        from tqdm.auto import tqdm

        self.bar = tqdm(total=steps, unit="step", file=self.file or sys.stderr, dynamic_ncols=True,
                        disable=None if self.file is None else False)

    def on_step(self, info):
        if info.step % self.every == 0 or info.step == info.steps:
            shown = {key: f"{info.terms[key]:.4g}" for key in ("total", "content", "style", "tv") if key in info.terms}
            self.bar.set_postfix(shown, refresh=False)
            self.bar.update(info.step - self.bar.n)

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
