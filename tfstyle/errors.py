"""Errors that tfstyle reports to users.

Every problem caused by the user's input (a missing file, a bad option value, weights that cannot be had) raises a
subclass of `TfstyleError` whose message is one complete line. The CLI prints that line and exits with code 2;
anything else is a bug and keeps its traceback.
"""


class TfstyleError(Exception):
    """Base class of user-facing errors: the message is one line that says what is wrong and what to do."""


class ImageError(TfstyleError, ValueError):
    """An image could not be read or written."""


class OptionError(TfstyleError, ValueError):
    """An option has a value tfstyle cannot use."""


class WeightsError(TfstyleError):
    """Weights for a network are missing, unreadable or do not fit the network."""


def check_non_negative(name, value):
    """`value` as a float if it is a finite real number >= 0 (a loss weight, a rate); else `OptionError`.

    The one check behind every such option, so the API, the training functions and the CLI word it alike.
    """
    import math
    import numbers

    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not math.isfinite(value) or value < 0:
        raise OptionError(f"{name} must be a finite number >= 0; Received: {name}={value!r}")
    return float(value)


def check_integer(name, value, minimum=1):
    """`value` as an int if it is a whole number (not a bool) >= `minimum`; else `OptionError`."""
    import numbers

    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        what = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise OptionError(f"{name} must be {what}; Received: {name}={value!r}")
    return int(value)
