"""FeatureExtractor: one frozen, pruned network returning named feature maps, shared by every loss."""

import keras

from tfstyle.backbones.build import DEFAULT_WEIGHTS, build_backbone
from tfstyle.backbones.preprocessing import Preprocessing
from tfstyle.backbones.registry import get_spec

# Size at which backbones that need a fixed input size (NASNet) load their weights once.
_REFERENCE_SIZE = (224, 224)


class FeatureExtractor:
    """RGB images in [0, 1] → `{layer_name: features}` for the requested layers of one backbone.

    The underlying `keras.Model` (`.model`) contains the backbone's preprocessing and only the layers needed to
    reach the deepest requested one (Keras prunes the rest), and is frozen. Backbones that only work at the input
    size they were built for (NASNet, `spec.static_input`) get one model per input size, all sharing the weights
    loaded once; call the extractor eagerly on a new size before tracing it in a `tf.function`.

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
        self._models = {}
        if self.spec.static_input:
            self._reference = build_backbone(backbone, weights, pooling, input_shape=(*_REFERENCE_SIZE, 3))
            self.model = self._wrap(self._reference, _REFERENCE_SIZE)
        else:
            self.model = self._wrap(build_backbone(backbone, weights, pooling), (None, None))
        self._models[_size_key(self.model)] = self.model

    def _wrap(self, network, size):
        """Preprocessing + the network pruned to the requested layers, as one frozen model."""
        inputs = keras.Input(shape=(*size, 3), name="rgb")
        pruned = keras.Model(network.input, {name: network.get_layer(name).output for name in self.layers},
                             name=f"{self.spec.name}_features")
        outputs = pruned(Preprocessing(self.spec.preprocessing, name="preprocessing")(inputs))
        model = keras.Model(inputs, outputs, name=f"{self.spec.name}_feature_extractor")
        model.trainable = False
        return model

    def _model_for(self, images):
        if not self.spec.static_input:
            return self.model
        size = tuple(images.shape[1:3])
        if None in size:
            raise ValueError(f"{self.spec.name} needs images of a known size; received shape {images.shape}")
        if size not in self._models:
            network = build_backbone(self.spec.name, None, self.pooling, input_shape=(*size, 3))
            network.set_weights(self._reference.get_weights())
            self._models[size] = self._wrap(network, size)
        return self._models[size]

    @property
    def name(self):
        return self.spec.name

    def __call__(self, images):
        """Features of `images` (B, H, W, 3) RGB in [0, 1], as a dict keyed by layer name."""
        return self._model_for(images)(images, training=False)

    def __repr__(self):
        return f"FeatureExtractor({self.spec.name!r}, layers={list(self.layers)}, pooling={self.pooling!r})"


def _size_key(model):
    return tuple(model.input.shape[1:3])
