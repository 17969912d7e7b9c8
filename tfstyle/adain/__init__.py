"""Feed-forward arbitrary style transfer (AdaIN): frozen VGG encoder, AdaIN layer, trained decoder.

Example:
    >>> from tfstyle.adain import AdaINModel
    >>> model = AdaINModel("vgg16_hed")
    >>> model.compile(optimizer="adam")
    >>> model.fit(pairs, epochs=1)                       # pairs: tf.data of (content, style) batches in [0, 1]
    >>> image = model.stylize(content, style, alpha=0.8)

Reference:
    Huang & Belongie, "Arbitrary Style Transfer in Real-time with Adaptive Instance Normalization", ICCV 2017.
"""

from tfstyle.adain.decoder import ENCODER_LAYERS, build_decoder, decoder_plan
from tfstyle.adain.encoder import ENCODER_BACKBONES, AdaINEncoder, default_style_layers
from tfstyle.adain.layers import AdaIN, ReflectionPadding2D
from tfstyle.adain.model import AdaINModel

__all__ = [
    "AdaIN",
    "AdaINEncoder",
    "AdaINModel",
    "ENCODER_BACKBONES",
    "ENCODER_LAYERS",
    "ReflectionPadding2D",
    "build_decoder",
    "decoder_plan",
    "default_style_layers",
]
