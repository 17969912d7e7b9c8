"""Backbone registry and feature extraction.

Example:
    >>> from tfstyle import backbones
    >>> [b["name"] for b in backbones.available()]
    ['vgg19', 'vgg16', 'vgg16_hed', 'inception_v3', 'resnet50', 'nasnet_mobile']
    >>> extractor = backbones.FeatureExtractor("vgg16_hed", ["block1_conv1"])
"""

from tfstyle.backbones.registry import AUTO, REGISTRY, BackboneSpec, get_spec, names
from tfstyle.backbones.weights import offline, weights_status


def available():
    """Every registered backbone with its default layers and whether its weights are here.

    Returns:
        A list of dicts with keys name, description, weights (`present`, `download` or `missing`),
        content_layers, style_layers, min_size.
    """
    return [
        {
            "name": spec.name,
            "description": spec.description,
            "weights": weights_status(spec),
            "content_layers": list(spec.content_layers),
            "style_layers": list(spec.style_layers),
            "min_size": spec.min_size,
        }
        for spec in REGISTRY.values()
    ]


def __getattr__(name):
    # Building networks needs Keras; keep `import tfstyle.backbones` light for the CLI.
    if name in ("FeatureExtractor",):
        from tfstyle.backbones.feature_extractor import FeatureExtractor

        return FeatureExtractor
    if name in ("build_backbone", "resolve_backbone"):
        from tfstyle.backbones import build

        return getattr(build, name)
    if name in ("preprocess", "Preprocessing"):
        from tfstyle.backbones import preprocessing

        return getattr(preprocessing, name)
    raise AttributeError(f"module 'tfstyle.backbones' has no attribute {name!r}")


__all__ = ["AUTO", "BackboneSpec", "FeatureExtractor", "available", "build_backbone", "get_spec", "names",
           "offline", "preprocess", "Preprocessing", "resolve_backbone", "REGISTRY"]
