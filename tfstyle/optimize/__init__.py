"""Image optimization: the one loop (`optimize_image`), its callbacks, and `stylize` built on it.

`optimize_image`, `OptimizationResult`, `RunCheckpoint`, `TiledObjective` and `estimate_memory` are imported lazily:
they import TensorFlow, and the CLI reads `DEFAULTS` from here to build its `--help` without starting TensorFlow.
"""

from tfstyle.optimize.callbacks import Callback, PrintLosses, ProgressBar, SaveEvery, StepInfo
from tfstyle.optimize.stylize import DEFAULTS, StylizeResult, stylize


_LAZY = {
    "optimize_image": "tfstyle.optimize.loop",
    "OptimizationResult": "tfstyle.optimize.loop",
    "RunCheckpoint": "tfstyle.optimize.checkpoint",
    "TiledObjective": "tfstyle.optimize.tiling",
    "estimate_memory": "tfstyle.optimize.memory",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'tfstyle.optimize' has no attribute {name!r}")


__all__ = ["Callback", "DEFAULTS", "OptimizationResult", "PrintLosses", "ProgressBar", "RunCheckpoint", "SaveEvery",
           "StepInfo", "StylizeResult", "TiledObjective", "estimate_memory", "optimize_image", "stylize"]
