"""Build backbone networks (raw Keras Applications models) with resolved weights and the chosen pooling."""

import logging

from tfstyle.backbones import weights as weights_lib
from tfstyle.backbones.registry import AUTO, get_spec
from tfstyle.errors import OptionError, WeightsError

logger = logging.getLogger("tfstyle")

POOLING = ("max", "avg")
DEFAULT_WEIGHTS = "default"


def resolve_backbone(name):
    """Resolve `auto` to a concrete backbone, saying which one and why.

    `auto` is VGG19 with ImageNet weights when they are cached or can be downloaded (not with TFSTYLE_OFFLINE=1),
    otherwise the offline `vgg16_hed`.

    Returns:
        (name, reason): reason is a one-line explanation for `auto`, else None.
    """
    if name != AUTO:
        get_spec(name)
        return name, None
    vgg19 = get_spec("vgg19")
    if weights_lib.imagenet_cache_path(vgg19) is not None:
        return "vgg19", "backbone auto: using vgg19 (ImageNet weights found in the Keras cache)"
    if weights_lib.offline():
        return "vgg16_hed", "backbone auto: using vgg16_hed (TFSTYLE_OFFLINE is set and VGG19 weights are not cached)"
    try:
        _download_imagenet(vgg19)
        return "vgg19", "backbone auto: using vgg19 (ImageNet weights downloaded to the Keras cache)"
    except WeightsError:
        return "vgg16_hed", "backbone auto: using vgg16_hed (VGG19 ImageNet weights could not be downloaded)"


def _application(spec):
    import keras

    return getattr(keras.applications, spec.application)


def _download_imagenet(spec):
    """Let Keras fetch `spec`'s no-top ImageNet weights into its cache; WeightsError when that fails."""
    # NASNet's ImageNet weights only load into a model with a static 224x224 input.
    shape = (224, 224, 3) if spec.static_input else (None, None, 3)
    try:
        _application(spec)(include_top=False, weights="imagenet", input_shape=shape)
    except Exception as error:
        raise WeightsError(f"cannot download ImageNet weights for {spec.name} ({str(error).splitlines()[0][:120]}); "
                           f"{weights_lib.remedies(spec)}") from None
    path = weights_lib.imagenet_cache_path(spec)
    if path is None:
        raise WeightsError(f"ImageNet weights for {spec.name} were downloaded but not found in {weights_lib.keras_cache_dir()}")
    return path


def imagenet_path(spec):
    """Path of cached ImageNet weights, downloading them unless offline; WeightsError with remedies otherwise."""
    path = weights_lib.imagenet_cache_path(spec)
    if path is not None:
        return path
    if weights_lib.offline():
        raise WeightsError(f"ImageNet weights for {spec.name} are not in the Keras cache and TFSTYLE_OFFLINE is set; "
                           f"{weights_lib.remedies(spec)}")
    return _download_imagenet(spec)


def build_backbone(name, weights=DEFAULT_WEIGHTS, pooling="max", input_shape=(None, None, 3)):
    """Build the raw network `name` (no preprocessing), with its weights loaded.

    Args:
        name: a registry name (not `auto`; see `resolve_backbone`).
        weights: `"default"` (ImageNet, or the bundled HED weights for `vgg16_hed`), `"imagenet"`, `"hed"`,
            None (random initialisation, for tests) or a path to a weights file.
        pooling: `"max"` or `"avg"` (VGGs only; Gatys et al. used average pooling).
        input_shape: (H, W, 3); H and W may be None except for backbones with `spec.static_input` (NASNet).

    Returns:
        A functional `keras.Model` with the given input shape.
    """
    spec = get_spec(name)
    if pooling not in POOLING:
        raise OptionError(f"unknown pooling {pooling!r}; choose one of: {', '.join(POOLING)}")
    if pooling != "max" and not spec.pooling_choice:
        raise OptionError(f"pooling={pooling} is only available for the VGG backbones, not {name}")
    if weights == DEFAULT_WEIGHTS:
        weights = spec.default_weights
    if weights == "hed" and spec.name != "vgg16_hed":
        raise OptionError(f"weights='hed' only applies to vgg16_hed, not {name}")
    if weights == "imagenet" and spec.imagenet_file is None:
        raise OptionError(f"{name} has no ImageNet weights; use weights='default'")

    if spec.static_input and None in tuple(input_shape)[:2]:
        raise ValueError(f"{name} needs a fixed input size; received input_shape={input_shape}")
    model = _application(spec)(include_top=False, weights=None, input_shape=tuple(input_shape))
    if weights == "hed":
        weights_lib.load_hed_vgg16(model, weights_lib.hed_weights_path())
    elif weights == "imagenet":
        weights_lib.load_weights_file(model, imagenet_path(spec), spec)
    elif weights is not None:
        weights_lib.load_weights_file(model, weights, spec)
    if pooling == "avg":
        model = _with_average_pooling(model)
    model.trainable = False
    return model


def _with_average_pooling(model):
    """Rebuild a sequential VGG with every max-pooling layer replaced by average pooling (same weights).

    Layers are re-created from their configs (not reused) so that each layer's `.output` belongs to the new graph.
    """
    import keras

    inputs = keras.Input(shape=(None, None, 3))
    x = inputs
    for layer in model.layers[1:]:
        if isinstance(layer, keras.layers.MaxPooling2D):
            copy = keras.layers.AveragePooling2D(layer.pool_size, layer.strides, layer.padding, name=layer.name)
        else:
            copy = layer.__class__.from_config(layer.get_config())
        x = copy(x)
        copy.set_weights(layer.get_weights())
    return keras.Model(inputs, x, name=f"{model.name}_avgpool")
