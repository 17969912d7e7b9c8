"""Trained AdaIN decoders by name or by path: `{name}.weights.h5` plus a `{name}.json` that says how to rebuild it.

A decoder is only meaningful together with the encoder it was trained behind, so every decoder weights file has a
small JSON file next to it with the same stem (`decoder.weights.h5` → `decoder.json`) holding the `AdaINModel`
arguments that rebuild that encoder and a decoder of the right shape:

    {
      "backbone": "vgg16_hed",              # required: the encoder's registry name (vgg19, vgg16, vgg16_hed)
      "encoder_layer": "block4_conv1",      # default block4_conv1 (relu4_1)
      "decoder_width": 1.0,                 # default 1.0
      "style_layers": ["block1_conv1", ...],# default: the backbone's relu1_1 ... up to encoder_layer
      "style_weight": 10.0,                 # training only (λ), kept for the record
      "epsilon": 1e-05,                     # ε of AdaIN; default 1e-5
      "encoder_weights": "default",         # the encoder's weights option; default "default"
      "feature_scale": 22.6,                # the decoder's input scale (see build_decoder); default 1
      "steps": 20000, "data": "...", ...    # anything else is metadata: kept in the file, ignored when loading
    }

This is the format `tfstyle.adain.training` exports (`decoder.weights.h5` + `decoder.json` in the work folder) and
`export_decoder` writes. Decoders shipped with tfstyle live in the package folder `tfstyle/weights/` as
`adain_{name}_decoder.weights.h5` + `adain_{name}_decoder.json` and are loaded by their short name: `vgg16_hed` is
`adain_vgg16_hed_decoder.weights.h5`, the decoder trained behind the offline `vgg16_hed` encoder.

Example:
    >>> model = load_pretrained("vgg16_hed")                        # shipped with tfstyle
    >>> model = resolve_decoder("runs/decoder/decoder.weights.h5")  # trained with `tfstyle train-adain`
    >>> export_decoder(model, "my_decoder.weights.h5", steps=20000) # writes my_decoder.weights.h5 + my_decoder.json

Reference:
    Huang & Belongie, "Arbitrary Style Transfer in Real-time with Adaptive Instance Normalization", ICCV 2017.
"""

import json
import os
import pathlib
import re

from tfstyle import shipped
from tfstyle.errors import OptionError, WeightsError

WEIGHTS_DIR = shipped.WEIGHTS_DIR
"""The package folder of the decoders tfstyle ships (read at each call, so tests can point it elsewhere)."""

DEFAULT_DECODER = "vgg16_hed"
"""The decoder `tfstyle adain` uses by default: the one trained behind the offline `vgg16_hed` encoder."""

WEIGHTS_SUFFIX = ".weights.h5"
CONFIG_SUFFIX = ".json"

# JSON keys that are `AdaINModel` arguments (the JSON's "encoder_weights" is the model's `weights`).
MODEL_KEYS = ("backbone", "encoder_layer", "decoder_width", "style_layers", "style_weight", "epsilon", "weights",
              "feature_scale")
_JSON_TO_MODEL = {"encoder_weights": "weights"}
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_SHIPPED = shipped.ShippedFiles("adain", "decoder", WEIGHTS_SUFFIX, CONFIG_SUFFIX)


def shipped_files(name, folder=None):
    """The `(weights, config)` paths of the shipped decoder `name`: `adain_{name}_decoder.weights.h5` and `.json`.

    Args:
        name: short name such as `vgg16_hed`.
        folder: where to look; default `WEIGHTS_DIR`.

    Returns:
        Two `pathlib.Path`s (which may not exist).
    """
    return _SHIPPED.paths(name, WEIGHTS_DIR if folder is None else folder)


def available_decoders(folder=None):
    """Names of the shipped decoders whose weights and config are both present, sorted.

    Example:
        >>> available_decoders()
        ['vgg16_hed']
    """
    return _SHIPPED.names(WEIGHTS_DIR if folder is None else folder)


def is_decoder_path(name_or_path):
    """Whether `name_or_path` is a file (a folder part, a `.h5`/`.json` ending, or an existing file), not a name."""
    text = os.fspath(name_or_path)
    return (isinstance(name_or_path, os.PathLike) or os.sep in text or (os.altsep or os.sep) in text
            or text.endswith((".h5", CONFIG_SUFFIX)) or os.path.isfile(text))


def find_decoder(name_or_path, **options):
    """Locate a decoder and its model arguments without building anything (no TensorFlow needed).

    Args:
        name_or_path: a shipped name (`vgg16_hed`, see `available_decoders`), a `*.weights.h5` file (its config is
            the `.json` with the same stem next to it) or that `.json` file.
        **options: `AdaINModel` arguments that replace the config's (`backbone`, `encoder_layer`, `decoder_width`,
            `style_layers`, `style_weight`, `epsilon`, `weights`, `feature_scale`). A weights file without a config needs at least
            `backbone`.

    Returns:
        `(weights_path, model_kwargs)`: the `.weights.h5` path and the `AdaINModel` keyword arguments.

    Raises:
        WeightsError: no such shipped decoder or file, a missing or unreadable config.
        OptionError: a bad name or option.
    """
    unknown = sorted(set(options) - set(MODEL_KEYS))
    if unknown:
        raise OptionError(f"unknown decoder options {', '.join(unknown)}; choose from {', '.join(MODEL_KEYS)}")
    if not isinstance(name_or_path, (str, os.PathLike)):
        raise OptionError(f"a decoder is a shipped name or a .weights.h5 path; Received: {name_or_path!r}")
    if is_decoder_path(name_or_path):
        weights, config = _file_pair(pathlib.Path(name_or_path).expanduser())
        if not weights.is_file():
            raise WeightsError(f"decoder weights file not found: {weights}")
        if not config.is_file() and "backbone" not in options:
            raise WeightsError(f"decoder config not found: {config} (the JSON next to {weights.name} that gives its "
                               f"backbone, encoder_layer and decoder_width)")
    else:
        name = os.fspath(name_or_path)
        if not _NAME.fullmatch(name):
            raise OptionError(f"a decoder is a shipped name (letters, digits, _ . -) or a path to a .weights.h5 file; "
                              f"Received: {name!r}")
        weights, config = shipped_files(name)
        if not (weights.is_file() and config.is_file()):
            names = available_decoders()
            listed = f" (available: {', '.join(names)})" if names else ""
            raise WeightsError(f"no shipped AdaIN decoder named {name!r} in {weights.parent}{listed}; train one with "
                               f"`tfstyle train-adain` or pass --decoder PATH")
    kwargs = read_config(config) if config.is_file() else {}
    kwargs.update(options)
    return weights, kwargs


def read_config(path):
    """The `AdaINModel` keyword arguments stored in a decoder's JSON config (metadata keys dropped).

    Raises:
        WeightsError: the file cannot be read, is not a JSON object, or has no `backbone`.
    """
    path = pathlib.Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as error:
        reason = " ".join(str(getattr(error, "strerror", None) or error).split())
        raise WeightsError(f"cannot read decoder config {path}: {reason}") from None
    if not isinstance(data, dict):
        raise WeightsError(f"decoder config {path} must hold a JSON object; Received: {type(data).__name__}")
    kwargs = {_JSON_TO_MODEL.get(key, key): value for key, value in data.items()}
    kwargs = {key: value for key, value in kwargs.items() if key in MODEL_KEYS}
    if "backbone" not in kwargs:
        raise WeightsError(f"decoder config {path} does not say which backbone the decoder was trained with "
                           f"(key \"backbone\")")
    return kwargs


def resolve_decoder(name_or_path=DEFAULT_DECODER, **options):
    """Build the `AdaINModel` a decoder belongs to and load the decoder's weights into it.

    Args:
        name_or_path: a shipped name (default `vgg16_hed`), a `*.weights.h5` file with its `.json` config next to it,
            or that `.json` file.
        **options: `AdaINModel` arguments that replace the config's (see `find_decoder`).

    Returns:
        An `AdaINModel` whose encoder comes from the backbone's weights and whose decoder is the trained one.

    Raises:
        WeightsError: a missing decoder, config or encoder weights, or weights that do not fit (one line each).
        OptionError: bad options in the config or the call.

    Example:
        >>> model = resolve_decoder("runs/decoder/decoder.weights.h5")
        >>> image = tfstyle.adain.transfer(model, "photo.jpg", "painting.jpg", alpha=0.8)

    Reference:
        Huang & Belongie, "Arbitrary Style Transfer in Real-time with Adaptive Instance Normalization", ICCV 2017.
    """
    from tfstyle.adain.model import AdaINModel  # lazy: finding files needs no Keras

    weights, kwargs = find_decoder(name_or_path, **options)
    model = AdaINModel(**kwargs)
    model.load_decoder(weights)
    return model


def load_pretrained(name=DEFAULT_DECODER, **options):
    """The `AdaINModel` with the shipped decoder `name` (see `available_decoders`).

    Args:
        name: short name of a decoder in `WEIGHTS_DIR` (`vgg16_hed`).
        **options: `AdaINModel` arguments that replace the shipped config's.

    Returns:
        An `AdaINModel` ready for `tfstyle.adain.transfer`.

    Raises:
        WeightsError: no such decoder is shipped (the message names the folder and the remedies).

    Example:
        >>> model = load_pretrained("vgg16_hed")

    Reference:
        Huang & Belongie, "Arbitrary Style Transfer in Real-time with Adaptive Instance Normalization", ICCV 2017.
    """
    if not isinstance(name, str) or is_decoder_path(name):
        raise OptionError(f"load_pretrained takes the name of a shipped decoder; use resolve_decoder for files; "
                          f"Received: {name!r}")
    return resolve_decoder(name, **options)


def export_decoder(model, path, **metadata):
    """Write a model's decoder weights and their config: `path` (`*.weights.h5`) and the `.json` next to it.

    Both files are written atomically. The config holds the `AdaINModel` arguments `resolve_decoder` needs plus
    `metadata` (training steps, data, notes...), which loading ignores.

    Args:
        model: an `AdaINModel`.
        path: file name ending in `.weights.h5`; to ship a decoder as `NAME`, use `shipped_files(NAME)[0]`.
        **metadata: JSON-able values stored in the config.

    Returns:
        `(weights_path, config_path)`.

    Example:
        >>> export_decoder(model, "decoder.weights.h5", steps=2000, data="COCO 2k / WikiArt 2k")
    """
    from tfstyle.io import save_json

    path = pathlib.Path(path)
    weights, config = _file_pair(path)
    if weights != path:
        raise OptionError(f"decoder weights file must end in {WEIGHTS_SUFFIX}; Received: path={str(path)!r}")
    clash = sorted(set(metadata) & {*MODEL_KEYS, *_JSON_TO_MODEL})
    if clash:
        raise OptionError(f"metadata keys {', '.join(clash)} are model arguments taken from the model itself")
    settings = model.get_config()
    record = {key: settings[key] for key in ("backbone", "encoder_layer", "decoder_width", "style_layers",
                                             "style_weight", "epsilon")}
    if "feature_scale" in settings:  # decoders without it keep the paper's unscaled input
        record["feature_scale"] = settings["feature_scale"]
    record["encoder_weights"] = settings["weights"] if isinstance(settings["weights"], (str, type(None))) \
        else str(settings["weights"])
    record.update(metadata)
    model.save_decoder(weights)
    save_json(config, record)
    return weights, config


def _file_pair(path):
    """`(x.weights.h5, x.json)` for a path to either of them; other endings are refused."""
    name = path.name
    if name.endswith(WEIGHTS_SUFFIX):
        stem = name[:-len(WEIGHTS_SUFFIX)]
    elif name.endswith(CONFIG_SUFFIX):
        stem = name[:-len(CONFIG_SUFFIX)]
    else:
        raise WeightsError(f"a decoder file ends in {WEIGHTS_SUFFIX} (with its {CONFIG_SUFFIX} config next to it); "
                           f"Received: {path}")
    return path.with_name(stem + WEIGHTS_SUFFIX), path.with_name(stem + CONFIG_SUFFIX)
