"""tfstyle: image style transfer for TensorFlow 2 / Keras 3.

The public API is imported lazily so that `import tfstyle` (and `tfstyle --help`) stays fast and does not start
TensorFlow until a function that needs it is called.

Example:
    >>> import tfstyle
    >>> result = tfstyle.stylize("sample:astronaut", "sample:waves", size=256, steps=200)
    >>> tfstyle.save_image("out.png", result.image)
"""

import importlib

from tfstyle._version import __version__
from tfstyle.errors import ImageError, OptionError, TfstyleError, WeightsError

# public name -> module that defines it
_LAZY = {
    "io": "tfstyle.io",
    "load_image": "tfstyle.io",
    "save_image": "tfstyle.io",
    "samples": "tfstyle.samples",
    "stylize": "tfstyle.optimize.stylize",
    "StylizeResult": "tfstyle.optimize.stylize",
    "backbones": "tfstyle.backbones",
    "optimize": "tfstyle.optimize",
    "ops": "tfstyle.ops",
    "losses": "tfstyle.losses",
    "metrics": "tfstyle.metrics",
    "experiments": "tfstyle.experiments",
    "data": "tfstyle.data",
    "adain": "tfstyle.adain",
    "cyclegan": "tfstyle.cyclegan",
    "filters": "tfstyle.filters",
    "distribution_metrics": "tfstyle.distribution_metrics",
}

__all__ = ["__version__", "TfstyleError", "ImageError", "OptionError", "WeightsError", *_LAZY]


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'tfstyle' has no attribute {name!r}")
    module = importlib.import_module(_LAZY[name])
    value = module if module.__name__ == f"tfstyle.{name}" else getattr(module, name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(__all__)
