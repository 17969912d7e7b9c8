"""Feed-forward arbitrary style transfer (AdaIN): frozen VGG encoder, AdaIN layer, trained decoder.

Example:
    >>> from tfstyle.adain import AdaINModel
    >>> model = AdaINModel("vgg16_hed")
    >>> model.compile(optimizer="adam")
    >>> model.fit(pairs, epochs=1)                       # pairs: tf.data of (content, style) batches in [0, 1]
    >>> image = model.stylize(content, style, alpha=0.8)
    >>> model = resolve_decoder("vgg16_hed")                  # a trained decoder, shipped or by path
    >>> image = transfer(model, "photo.jpg", ["a.jpg", "b.jpg"], style_weights=[3, 1], preserve_colors="coral")

Reference:
    Huang & Belongie, "Arbitrary Style Transfer in Real-time with Adaptive Instance Normalization", ICCV 2017.
"""

from tfstyle.adain.batch import VIDEO_FORMATS, BatchResult, VideoResult, transfer_folder, transfer_video
from tfstyle.adain.decoder import ENCODER_LAYERS, build_decoder, decoder_plan
from tfstyle.adain.encoder import ENCODER_BACKBONES, AdaINEncoder, default_style_layers
from tfstyle.adain.inference import AdaINStylizer, transfer
from tfstyle.adain.layers import AdaIN, ReflectionPadding2D
from tfstyle.adain.model import AdaINModel
from tfstyle.adain.pretrained import (DEFAULT_DECODER, available_decoders, export_decoder, load_pretrained,
                                      resolve_decoder)
from tfstyle.adain.training import TrainingResult, train_adain

__all__ = [
    "AdaIN",
    "AdaINEncoder",
    "AdaINModel",
    "AdaINStylizer",
    "BatchResult",
    "DEFAULT_DECODER",
    "ENCODER_BACKBONES",
    "ENCODER_LAYERS",
    "ReflectionPadding2D",
    "TrainingResult",
    "VIDEO_FORMATS",
    "VideoResult",
    "available_decoders",
    "build_decoder",
    "decoder_plan",
    "default_style_layers",
    "export_decoder",
    "load_pretrained",
    "resolve_decoder",
    "train_adain",
    "transfer",
    "transfer_folder",
    "transfer_video",
]
