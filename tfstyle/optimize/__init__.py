"""Image optimization: the one loop (`optimize_image`), its callbacks, and `stylize` built on it.

`optimize_image` and `OptimizationResult` are imported lazily: the loop imports TensorFlow, and the CLI reads
`DEFAULTS` from here to build its `--help` without starting TensorFlow.
"""

from tfstyle.optimize.callbacks import Callback, PrintLosses, ProgressBar, SaveEvery, StepInfo
from tfstyle.optimize.stylize import DEFAULTS, StylizeResult, stylize


def __getattr__(name):
    if name in ("optimize_image", "OptimizationResult"):
        from tfstyle.optimize import loop

        return getattr(loop, name)
    raise AttributeError(f"module 'tfstyle.optimize' has no attribute {name!r}")


__all__ = ["Callback", "DEFAULTS", "OptimizationResult", "PrintLosses", "ProgressBar", "SaveEvery", "StepInfo",
           "StylizeResult", "optimize_image", "stylize"]
