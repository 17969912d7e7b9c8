"""Trained CycleGAN generators by name, by `.keras` file or by training work folder, with their metadata.

A trained generator is one self-contained `.keras` file (architecture and weights; the tfstyle layer classes it
uses are registered with Keras, so nothing else is needed to rebuild it) plus a small JSON file of metadata:

    {
      "generator": "resnet",               # build_generator name: resnet, unet or unet_attention
      "options": {"blocks": 9, ...},       # the generator's constructor arguments (its get_config())
      "size_multiple": 4,                  # input sides must be multiples of this (translate pads to it)
      "objective": "lsgan", "steps": 20000, "crop_size": 256, ...   # anything else: kept, shown, not needed
    }

Three ways to name one (`load_generator`):

- a `.keras` file: its metadata is the `.json` with the same stem next to it (`export_generator` writes both), or
  for `generator_ab.keras` / `generator_ba.keras` the `generators.json` of the folder it is in; without either,
  the metadata is empty (the model alone is enough to translate).
- a training work folder (what `tfstyle train-cyclegan` writes): `direction="ab"` (default) picks
  `generator_ab.keras` (domain A → B), `"ba"` picks `generator_ba.keras`; `generators.json` is the metadata.
- a shipped name: generators that tfstyle ships live in the package folder `tfstyle/weights/` as
  `cyclegan_{name}_generator.keras` + `cyclegan_{name}_generator.json` (`sketch` →
  `cyclegan_sketch_generator.keras`). Each is one direction (photo → sketch), so `direction` does not apply.

A string is a path when it names an existing file or folder, contains a folder separator, or ends in `.keras` /
`.json`; otherwise it is a shipped name.

Files are loaded with Keras `safe_mode` on: a file whose layers would run arbitrary Python code (a `Lambda` layer)
is refused. Every problem (missing, corrupt, refused, not an image-to-image model) is one `WeightsError` line that
names the file.

Example:
    >>> generator = load_generator("runs/horse2zebra", direction="ba")    # zebra → horse
    >>> generator.size_multiple, generator.metadata["steps"]
    (4, 20000)
    >>> generator = load_generator("sketch")                               # shipped with tfstyle
    >>> export_generator(model, "ink.keras", steps=5000, data="photos/ink") # writes ink.keras + ink.json

Reference:
    Zhu, Park, Isola & Efros, "Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial Networks",
    ICCV 2017.
"""

import contextlib
import dataclasses
import json
import os
import pathlib
import re
import tempfile
import zipfile

from tfstyle import shipped
from tfstyle.errors import OptionError, WeightsError
from tfstyle.io import current_umask

WEIGHTS_DIR = shipped.WEIGHTS_DIR
"""The package folder of the generators tfstyle ships (read at each call, so tests can point it elsewhere)."""

MODEL_SUFFIX = ".keras"
CONFIG_SUFFIX = ".json"
DIRECTIONS = ("ab", "ba")
WORKDIR_METADATA = "generators.json"
"""The metadata file a training work folder holds next to `generator_ab.keras` and `generator_ba.keras`."""

# Metadata keys that describe the network itself: `export_generator` takes them from the model.
MODEL_KEYS = ("generator", "options")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_SHIPPED = shipped.ShippedFiles("cyclegan", "generator", MODEL_SUFFIX, CONFIG_SUFFIX)


@dataclasses.dataclass
class Generator:
    """A trained generator ready for `tfstyle.cyclegan.translate`.

    Attributes:
        model: the `keras.Model` mapping images in [-1, 1] (B, H, W, 3) to images in [-1, 1].
        name: how it was asked for: the shipped name, or the path of the `.keras` file.
        metadata: the JSON metadata (`generator`, `options`, `steps`, `objective`, ...); empty when there is none.
        size_multiple: input height and width must be multiples of this (`translate` pads to it).
        path: the `.keras` file, or None for a model given in memory.
        direction: "ab" or "ba" for a generator from a training work folder or named `generator_ab/ba.keras`,
            else None.
    """

    model: object
    name: str
    metadata: dict
    size_multiple: int
    path: pathlib.Path = None
    direction: str = None


def shipped_files(name, folder=None):
    """The `(model, metadata)` paths of the shipped generator `name`: `cyclegan_{name}_generator.keras` and `.json`.

    Args:
        name: short name such as `sketch`.
        folder: where to look; default `WEIGHTS_DIR`.

    Returns:
        Two `pathlib.Path`s (which may not exist).
    """
    return _SHIPPED.paths(name, WEIGHTS_DIR if folder is None else folder)


def available_generators(folder=None):
    """Names of the shipped generators whose `.keras` and `.json` files are both present, sorted.

    Example:
        >>> available_generators()
        ['sketch']
    """
    return _SHIPPED.names(WEIGHTS_DIR if folder is None else folder)


def is_generator_path(source):
    """Whether `source` names a file or folder (see the module docstring) rather than a shipped name."""
    text = os.fspath(source)
    return (isinstance(source, os.PathLike) or os.sep in text or (os.altsep or os.sep) in text
            or text.endswith((MODEL_SUFFIX, CONFIG_SUFFIX)) or os.path.exists(text))


def find_generator(source, direction=None):
    """Locate a generator's `.keras` file and its metadata file without loading anything.

    Args:
        source: a `.keras` file (or its `.json`), a training work folder, or a shipped name.
        direction: for a work folder, "ab" (default) or "ba"; must be None otherwise.

    Returns:
        `(model_path, metadata_path or None, direction or None)`.

    Raises:
        WeightsError: no such file, folder or shipped name.
        OptionError: a bad source, name or direction.
    """
    if not isinstance(source, (str, os.PathLike)):
        raise OptionError(f"a generator is a .keras file, a training work folder or a shipped name; "
                          f"Received: {source!r}")
    if direction is not None and direction not in DIRECTIONS:
        raise OptionError(f"direction must be one of {', '.join(DIRECTIONS)}; Received: direction={direction!r}")
    if not is_generator_path(source):
        if direction is not None:
            raise OptionError(f"direction picks a generator of a training work folder; the shipped generator "
                              f"{os.fspath(source)!r} has one direction; Received: direction={direction!r}")
        return (*_shipped(os.fspath(source)), None)
    path = pathlib.Path(source).expanduser()
    if not path.exists():
        if path.name.endswith((MODEL_SUFFIX, CONFIG_SUFFIX)):
            raise WeightsError(f"generator file not found: {path}")
        raise WeightsError(f"generator not found: {path} (give a .keras file, a `tfstyle train-cyclegan` work "
                           f"folder or the name of a shipped generator)")
    if path.is_dir():
        direction = direction or "ab"
        model_path = path / f"generator_{direction}{MODEL_SUFFIX}"
        if not model_path.is_file():
            raise WeightsError(f"generator file not found: {model_path} (a `tfstyle train-cyclegan` work folder "
                               f"holds generator_ab.keras and generator_ba.keras)")
        metadata = path / WORKDIR_METADATA
        return model_path, (metadata if metadata.is_file() else None), direction
    if direction is not None:
        raise OptionError(f"direction picks a generator of a training work folder; {path} is one generator file; "
                          f"Received: direction={direction!r}")
    if path.name.endswith(CONFIG_SUFFIX):
        path = path.with_name(path.name[:-len(CONFIG_SUFFIX)] + MODEL_SUFFIX)
    if not path.name.endswith(MODEL_SUFFIX):
        raise WeightsError(f"a generator file ends in {MODEL_SUFFIX} (or give a training work folder); "
                           f"Received: {path}")
    if not path.is_file():
        raise WeightsError(f"generator file not found: {path}")
    metadata = path.with_name(path.name[:-len(MODEL_SUFFIX)] + CONFIG_SUFFIX)
    stem = path.name[:-len(MODEL_SUFFIX)]
    direction = stem[len("generator_"):] if stem in ("generator_ab", "generator_ba") else None
    if not metadata.is_file() and direction is not None and (path.parent / WORKDIR_METADATA).is_file():
        metadata = path.parent / WORKDIR_METADATA
    return path, (metadata if metadata.is_file() else None), direction


def read_metadata(path):
    """The JSON object stored in a generator's metadata file.

    Raises:
        WeightsError: the file cannot be read or does not hold a JSON object.
    """
    path = pathlib.Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as error:
        reason = " ".join(str(getattr(error, "strerror", None) or error).split())
        raise WeightsError(f"cannot read generator metadata {path}: {reason}") from None
    if not isinstance(data, dict):
        raise WeightsError(f"generator metadata {path} must hold a JSON object; Received: {type(data).__name__}")
    return data


def load_generator(source, direction=None):
    """Load a trained generator from a `.keras` file, a training work folder or a shipped name.

    Args:
        source: a `.keras` file (metadata: the `.json` with the same stem, if any), a training work folder
            (`generator_ab.keras`, `generator_ba.keras`, `generators.json`), or the name of a generator shipped
            with tfstyle (see `available_generators`).
        direction: for a work folder only: "ab" (A → B, the default) or "ba" (B → A).

    Returns:
        A `Generator` (model, name, metadata, size_multiple, path, direction).

    Raises:
        WeightsError: a missing, corrupt or unsafe file (Keras safe mode refuses `Lambda` layers), a model that
            does not map (B, H, W, 3) images to (B, H, W, 3) images, or an unknown shipped name; one line each.
        OptionError: a bad source type or direction.

    Example:
        >>> generator = load_generator("runs/photo2ink")                  # generator_ab.keras of a work folder
        >>> image = tfstyle.cyclegan.translate(generator, "photo.jpg")

    Reference:
        Zhu, Park, Isola & Efros, "Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial
        Networks", ICCV 2017.
    """
    model_path, metadata_path, direction = find_generator(source, direction)
    metadata = read_metadata(metadata_path) if metadata_path is not None else {}
    model = _load_model(model_path)
    name = os.fspath(model_path) if is_generator_path(source) else os.fspath(source)
    return Generator(model=model, name=name, metadata=metadata,
                     size_multiple=_size_multiple(model, metadata, model_path), path=model_path,
                     direction=direction)


def as_generator(generator, direction=None):
    """A `Generator` for a `Generator`, a `keras.Model` in memory, or a source for `load_generator`.

    A model in memory gets its `size_multiple` from its attribute of that name (1 when it has none).

    Raises:
        OptionError: anything else.
    """
    if isinstance(generator, Generator):
        if direction is not None:
            raise OptionError("direction picks a generator of a training work folder; give it to load_generator")
        return generator
    if isinstance(generator, (str, os.PathLike)):
        return load_generator(generator, direction)
    import keras  # lazy: finding files needs no Keras

    if isinstance(generator, keras.Model):
        if direction is not None:
            raise OptionError("direction picks a generator of a training work folder; give it to load_generator")
        _check_image_to_image(generator, f"model {generator.name!r}")
        return Generator(model=generator, name=generator.name, metadata={},
                         size_multiple=_size_multiple(generator, {}, f"model {generator.name!r}"))
    raise OptionError(f"a generator is a keras.Model, a Generator, a .keras file, a training work folder or a "
                      f"shipped name; Received: {type(generator).__name__}")


def export_generator(model, path, **metadata):
    """Write a generator as a self-contained `.keras` file plus its metadata `.json` next to it, atomically.

    The JSON holds `generator` (the `build_generator` name, for tfstyle generators), `options` (the model's
    `get_config()`), `size_multiple` and `metadata` (training steps, objective, data, notes...).

    Args:
        model: a generator `keras.Model` (`ResNetGenerator`, `UNetGenerator`, or any image-to-image model; one
            without a `size_multiple` attribute may give `size_multiple` in `metadata`, default 1).
        path: file name ending in `.keras`; to ship a generator as `NAME`, use `shipped_files(NAME)[0]`.
        **metadata: JSON-able values stored in the `.json`.

    Returns:
        `(model_path, metadata_path)`.

    Raises:
        OptionError: a path not ending in `.keras`, a missing folder, metadata that contradicts the model.

    Example:
        >>> export_generator(generator, "ink.keras", steps=5000, objective="lsgan", crop_size=256)
        (PosixPath('ink.keras'), PosixPath('ink.json'))
    """
    import keras

    from tfstyle.io import save_json

    path = pathlib.Path(path).expanduser()
    if not path.name.endswith(MODEL_SUFFIX) or path.name == MODEL_SUFFIX:
        raise OptionError(f"a generator file must end in {MODEL_SUFFIX}; Received: path={str(path)!r}")
    if not path.parent.is_dir():
        raise OptionError(f"output folder does not exist: {path.parent}")
    if not isinstance(model, keras.Model):
        raise OptionError(f"export_generator saves a keras.Model; Received: {type(model).__name__}")
    clash = sorted(set(metadata) & set(MODEL_KEYS))
    if clash:
        raise OptionError(f"metadata keys {', '.join(clash)} describe the network and are taken from the model")
    multiple = getattr(model, "size_multiple", None)
    if multiple is not None and metadata.get("size_multiple", multiple) != multiple:
        raise OptionError(f"the model's size_multiple is {multiple}; Received: size_multiple="
                          f"{metadata['size_multiple']!r}")
    record = {"generator": _registry_name(model), "options": _options(model),
              "size_multiple": int(multiple if multiple is not None else metadata.get("size_multiple", 1))}
    record.update({key: value for key, value in metadata.items() if key != "size_multiple"})
    config = path.with_name(path.name[:-len(MODEL_SUFFIX)] + CONFIG_SUFFIX)
    fd, temporary = tempfile.mkstemp(suffix=MODEL_SUFFIX, prefix=f".{path.stem}.", dir=path.parent)
    os.close(fd)
    try:
        model.save(temporary)
        save_json(config, record)
        os.chmod(temporary, 0o666 & ~current_umask())
        os.replace(temporary, path)
    except OSError as error:
        raise OptionError(f"cannot write {path} ({' '.join(str(error).split())})") from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
    return path, config


# --- helpers -------------------------------------------------------------------------------------------------------


def _shipped(name):
    if not _NAME.fullmatch(name):
        raise OptionError(f"a generator is a shipped name (letters, digits, _ . -), a .keras file or a training work "
                          f"folder; Received: {name!r}")
    model_path, metadata_path = shipped_files(name)
    if not (model_path.is_file() and metadata_path.is_file()):
        names = available_generators()
        listed = f" (available: {', '.join(names)})" if names else " (none is installed)"
        raise WeightsError(f"no shipped CycleGAN generator named {name!r} in {model_path.parent}{listed}; train one "
                           f"with `tfstyle train-cyclegan` and pass its work folder or .keras file")
    return model_path, metadata_path


def _load_model(path):
    """`keras.saving.load_model` in safe mode, with every failure as one WeightsError line naming the file."""
    import keras

    import tfstyle.cyclegan.generators  # noqa: F401  registers the tfstyle layer and model classes with Keras

    if not zipfile.is_zipfile(path):  # Keras says "File not found" for these
        raise WeightsError(f"not a .keras file (not a zip archive): {path}")
    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as error:  # Keras raises ValueError, KeyError, TypeError... for damaged or foreign files
        text = " ".join(str(error).split())
        if "safe_mode" in text:
            raise WeightsError(f"Keras safe mode refuses to load {path}: it holds Python code (a Lambda layer); "
                               f"load it with keras.saving.load_model(path, safe_mode=False) only if you trust "
                               f"its source") from None
        raise WeightsError(f"cannot load generator {path}: {text[:300] or type(error).__name__}") from None
    _check_image_to_image(model, path)
    return model


def _check_image_to_image(model, label):
    import keras

    if not isinstance(model, keras.Model):
        raise WeightsError(f"not a generator: {label} holds a {type(model).__name__}, not a keras.Model")
    try:
        inputs, outputs = model.inputs, model.outputs
    except (AttributeError, ValueError):  # a subclassed model that was never built
        inputs = outputs = None
    shapes = [tuple(tensor.shape) for tensor in (inputs or []) + (outputs or [])]
    if (not inputs or not outputs or len(inputs) != 1 or len(outputs) != 1
            or any(len(shape) != 4 or shape[-1] != 3 for shape in shapes)):
        described = ", ".join(str(shape) for shape in shapes) or "unknown shapes"
        raise WeightsError(f"not an image generator: {label} maps {described}; a generator maps images "
                           f"(batch, height, width, 3) to images (batch, height, width, 3)")


def _size_multiple(model, metadata, label):
    value = getattr(model, "size_multiple", None)
    if value is None:
        value = metadata.get("size_multiple", 1)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise WeightsError(f"size_multiple of {label} must be a positive integer; Received: {value!r}")
    return value


def _registry_name(model):
    """The `build_generator` name of a tfstyle generator, else the model's class name."""
    from tfstyle.cyclegan.generators import ResNetGenerator, UNetGenerator

    if isinstance(model, ResNetGenerator):
        return "resnet"
    if isinstance(model, UNetGenerator):
        return "unet_attention" if model.attention else "unet"
    return type(model).__name__


def _options(model):
    from tfstyle.cyclegan.generators import ResNetGenerator, UNetGenerator

    if isinstance(model, (ResNetGenerator, UNetGenerator)):
        return {key: value for key, value in model.get_config().items() if key != "trainable"}
    return {}
