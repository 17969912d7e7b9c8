"""Image optimization: the one loop (`optimize_image`), its callbacks, and `stylize` built on it."""

from tfstyle.optimize.callbacks import Callback, PrintLosses, ProgressBar, SaveEvery, StepInfo
from tfstyle.optimize.loop import OptimizationResult, optimize_image
from tfstyle.optimize.stylize import DEFAULTS, StylizeResult, stylize

__all__ = ["Callback", "DEFAULTS", "OptimizationResult", "PrintLosses", "ProgressBar", "SaveEvery", "StepInfo",
           "StylizeResult", "optimize_image", "stylize"]
