"""The AdaIN encoder: one frozen VGG, read at the encoder layer and at the style-loss layers."""

import numpy as np

from tfstyle.adain.decoder import ENCODER_LAYERS
from tfstyle.backbones.build import DEFAULT_WEIGHTS
from tfstyle.backbones.feature_extractor import FeatureExtractor
from tfstyle.backbones.registry import get_spec
from tfstyle.errors import OptionError

# Backbones whose layer structure the AdaIN decoder mirrors. The paper's decoder is the VGG encoder mirrored layer
# by layer, which has no counterpart for the registry's other backbones (InceptionV3, ResNet50, NASNetMobile:
# branching blocks, strided entry convolutions), so AdaIN accepts the VGGs only and says so.
ENCODER_BACKBONES = ("vgg19", "vgg16", "vgg16_hed")


def default_style_layers(backbone, encoder_layer="block4_conv1"):
    """The backbone's default style layers that are not deeper than `encoder_layer`.

    For the VGGs and relu4_1 this is relu1_1, relu2_1, relu3_1, relu4_1 (`block1_conv1` … `block4_conv1`), the
    layers of Huang & Belongie's style loss; for relu3_1 it stops at `block3_conv1`.

    Args:
        backbone: registry name.
        encoder_layer: the encoder output layer (a valid layer of the backbone).

    Returns:
        Tuple of layer names, shallow to deep.
    """
    spec = get_spec(backbone)
    depth = spec.layers.index(spec.check_layers([encoder_layer])[0])
    return tuple(name for name in spec.style_layers if spec.layers.index(name) <= depth)


class AdaINEncoder(FeatureExtractor):
    """The frozen VGG encoder of AdaIN, returning the encoder features and the style-loss features in one pass.

    A `FeatureExtractor` (preprocessing inside, pruned at the deepest requested layer, frozen) whose layers are the
    style layers plus the encoder layer: the same network gives f(·) for AdaIN and φ(·) for the losses, so it is
    built once. Keras VGG conv layers include their ReLU, so `block4_conv1` is relu4_1.

    Args:
        backbone: `vgg19`, `vgg16` or `vgg16_hed` (not `auto`; see `tfstyle.backbones.resolve_backbone`).
        encoder_layer: encoder output layer, one of `block1_conv1` … `block4_conv1` (default relu4_1).
        style_layers: layers of the style loss; default `default_style_layers(backbone, encoder_layer)`.
        weights: see `tfstyle.backbones.build_backbone` (`"default"`, None for random initialisation, a path...).

    Raises:
        OptionError: unknown backbone or layer (the registry's message, listing the valid names), a backbone that is
            not a VGG, or an encoder layer the decoder cannot mirror.

    Example:
        >>> encoder = AdaINEncoder("vgg16_hed")
        >>> features = encoder(images)                  # {"block1_conv1": ..., ..., "block4_conv1": (B, H/8, W/8, 512)}
        >>> encoder.encode(images).shape[-1] == encoder.channels
        True

    Reference:
        Huang & Belongie, "Arbitrary Style Transfer in Real-time with Adaptive Instance Normalization", ICCV 2017
        (sec. 6.1).
    """

    def __init__(self, backbone="vgg19", encoder_layer="block4_conv1", style_layers=None, weights=DEFAULT_WEIGHTS):
        spec = get_spec(backbone)
        if spec.name not in ENCODER_BACKBONES:
            raise OptionError(f"the AdaIN encoder needs a VGG backbone ({', '.join(ENCODER_BACKBONES)}); "
                              f"Received: backbone={backbone!r}")
        if not isinstance(encoder_layer, str):
            raise OptionError(f"encoder_layer must be a layer name; Received: encoder_layer={encoder_layer!r}")
        spec.check_layers([encoder_layer])
        if encoder_layer not in ENCODER_LAYERS:
            raise OptionError(f"the AdaIN decoder mirrors one of {', '.join(ENCODER_LAYERS)}; "
                              f"Received: encoder_layer={encoder_layer!r}")
        if style_layers is None:
            style_layers = default_style_layers(spec.name, encoder_layer)
        elif isinstance(style_layers, str):
            style_layers = (style_layers,)
        style_layers = tuple(dict.fromkeys(spec.check_layers(style_layers)))
        if not style_layers:
            raise OptionError(f"style_layers must name at least one layer; Received: style_layers={style_layers!r}")
        super().__init__(spec.name, (*style_layers, encoder_layer), weights=weights)
        self.encoder_layer = encoder_layer
        self.style_layers = style_layers

    @property
    def channels(self):
        """Channels of the encoder features (512 at relu4_1)."""
        return int(self.model.output[self.encoder_layer].shape[-1])

    @property
    def downsampling(self):
        """Factor by which the encoder features are smaller than the image (8 at relu4_1)."""
        return 2 ** ENCODER_LAYERS.index(self.encoder_layer)

    def encode(self, images):
        """Encoder features f(images) (B, H/r, W/r, channels) of RGB images in [0, 1], r = `downsampling`."""
        return self(images)[self.encoder_layer]

    def __repr__(self):
        return (f"AdaINEncoder({self.spec.name!r}, encoder_layer={self.encoder_layer!r}, "
                f"style_layers={list(self.style_layers)})")


def measure_feature_scale(encoder, images):
    """The typical size of an encoder's features on `images`: their standard deviation, to 3 significant digits.

    Used as the decoder's `input_scale` (`AdaINModel(feature_scale=...)`): the decoder then sees features of about
    unit size, as behind the paper's normalised VGG19.

    Args:
        encoder: an `AdaINEncoder`.
        images: RGB in [0, 1], (B, H, W, 3); a handful of the training photos is enough.

    Returns:
        A positive float (1.0 if the features are all zero).
    """
    features = np.asarray(encoder.encode(images), dtype=np.float64)
    scale = float(features.std())
    if not np.isfinite(scale) or scale <= 0:
        return 1.0
    return float(f"{scale:.3g}")
