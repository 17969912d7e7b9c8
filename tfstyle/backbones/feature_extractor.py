"""FeatureExtractor: one frozen, pruned network returning named feature maps, shared by every loss."""

import keras

from tfstyle.backbones.build import DEFAULT_WEIGHTS, build_backbone
from tfstyle.backbones.preprocessing import Preprocessing
from tfstyle.backbones.registry import get_spec


class FeatureExtractor:
    """RGB images in [0, 1] → `{layer_name: features}` for the requested layers of one backbone.

    The underlying `keras.Model` (`.model`) contains the backbone's preprocessing and only the layers needed to
    reach the deepest requested one (Keras prunes the rest), and is frozen.

    Args:
        backbone: registry name (not `auto`).
        layers: stable layer names; unknown names raise OptionError listing the valid ones.
        weights: see `build_backbone`.
        pooling: `"max"` or `"avg"` (VGGs).

    Example:
        >>> extractor = FeatureExtractor("vgg16_hed", ["block1_conv1", "block4_conv2"])
        >>> features = extractor(images)       # {"block1_conv1": (B, H, W, 64), "block4_conv2": (...)}
    """

    def __init__(self, backbone, layers, weights=DEFAULT_WEIGHTS, pooling="max"):
        self.spec = get_spec(backbone)
        self.layers = tuple(dict.fromkeys(self.spec.check_layers(layers)))
        if not self.layers:
            raise ValueError("FeatureExtractor needs at least one layer")
        self.weights = weights
        self.pooling = pooling
        network = build_backbone(backbone, weights=weights, pooling=pooling)
        inputs = keras.Input(shape=(None, None, 3), name="rgb")
        pruned = keras.Model(network.input, {name: network.get_layer(name).output for name in self.layers},
                             name=f"{backbone}_features")
        outputs = pruned(Preprocessing(self.spec.preprocessing, name="preprocessing")(inputs))
        self.model = keras.Model(inputs, outputs, name=f"{backbone}_feature_extractor")
        self.model.trainable = False

    @property
    def name(self):
        return self.spec.name

    def __call__(self, images):
        """Features of `images` (B, H, W, 3) RGB in [0, 1], as a dict keyed by layer name."""
        return self.model(images, training=False)

    def __repr__(self):
        return f"FeatureExtractor({self.spec.name!r}, layers={list(self.layers)}, pooling={self.pooling!r})"
