"""The AdaIN decoder: the mirror image of the VGG encoder, from encoder features back to an RGB image."""

import numbers

import keras

from tfstyle.adain.layers import ReflectionPadding2D
from tfstyle.errors import OptionError

# The relu4_1 decoder of Huang & Belongie, in order. Each conv is named after the encoder conv it mirrors, each
# upsampling after the block whose resolution it restores. A decoder for a shallower encoder layer is the tail of
# this list starting at the conv that mirrors that layer, so the names (and weights) of the shared tail agree.
_RELU4_1_DECODER = (
    ("block4_conv1", 256),
    ("block3_up", None),
    ("block3_conv4", 256),
    ("block3_conv3", 256),
    ("block3_conv2", 256),
    ("block3_conv1", 128),
    ("block2_up", None),
    ("block2_conv2", 128),
    ("block2_conv1", 64),
    ("block1_up", None),
    ("block1_conv2", 64),
    ("block1_conv1", 3),
)

# Encoder layers a decoder can mirror (Keras VGG conv layers include the ReLU: block4_conv1 is relu4_1).
ENCODER_LAYERS = ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1")


def decoder_plan(encoder_layer="block4_conv1", width=1.0):
    """The decoder's layers for `encoder_layer`: `(name, filters)` per conv, `(name, None)` per ×2 upsampling.

    Args:
        encoder_layer: one of `ENCODER_LAYERS` (block4_conv1 = relu4_1: 3 upsamplings; block3_conv1: 2; ...).
        width: multiplier of every hidden channel count (the 3 output channels are kept); e.g. 0.5 for a
            lighter decoder. Counts are rounded and at least 1.

    Returns:
        A tuple of `(name, filters)` pairs, names without the `decoder_` prefix.
    """
    if encoder_layer not in ENCODER_LAYERS:
        raise OptionError(f"the AdaIN decoder mirrors one of {', '.join(ENCODER_LAYERS)}; "
                          f"Received: encoder_layer={encoder_layer!r}")
    _check_width(width)
    start = [name for name, _ in _RELU4_1_DECODER].index(encoder_layer)
    plan = []
    for name, filters in _RELU4_1_DECODER[start:]:
        if filters is not None and name != "block1_conv1":
            filters = max(1, int(round(filters * width)))
        plan.append((name, filters))
    return tuple(plan)


def build_decoder(encoder_channels=512, width=1.0, encoder_layer="block4_conv1", name="adain_decoder",
                  dtype="float32", input_scale=1.0):
    """Build the AdaIN decoder as a functional `keras.Model` from features (B, h, w, C) to images (B, H, W, 3).

    Per block: reflection padding 1, 3×3 convolution (valid) and ReLU; nearest-neighbour ×2 upsampling between
    blocks; no normalisation; the last convolution has no activation, so the output is unbounded (clip it to
    [0, 1] for display). For relu4_1 the channels are 512→256, ↑, 256→256 ×3, 256→128, ↑, 128→128, 128→64, ↑,
    64→64, 64→3 (9 convolutions, 3 upsamplings: H = 8h). A shallower `encoder_layer` keeps only the tail that
    mirrors it (block3_conv1: 256→128, ↑, 128→128, 128→64, ↑, 64→64, 64→3). The same decoder is used for VGG16 and
    VGG19 encoders. Layers are named `decoder_<mirrored encoder conv>` (`decoder_block3_conv4`), with `_pad` for
    their padding, and `decoder_<block>_up` for the upsamplings.

    Args:
        encoder_channels: channels of the encoder features (512 for VGG relu4_1, 256 for relu3_1).
        width: multiplier of the hidden channel counts (0.5 halves them: about 4× fewer weights and FLOPs).
        encoder_layer: the encoder layer the decoder inverts, one of `ENCODER_LAYERS`.
        name: model name.
        dtype: dtype (policy) of every layer; float32 by default.
        input_scale: the features are divided by this number before the first convolution (a weightless
            `decoder_input_scale` layer, present only when it is not 1). Unnormalised VGGs (Keras ImageNet,
            vgg16_hed) give features of 10 to 60 where the paper's normalised VGG19 gives about 1; dividing by
            their typical size starts the decoder's output near [0, 1] instead of tens.

    Returns:
        A `keras.Model` with input shape (None, None, encoder_channels) and output (None, None, 3).

    Example:
        >>> decoder = build_decoder(512)
        >>> decoder(np.zeros((1, 8, 8, 512), "float32")).shape
        TensorShape([1, 64, 64, 3])

    Reference:
        Huang & Belongie, "Arbitrary Style Transfer in Real-time with Adaptive Instance Normalization", ICCV 2017
        (sec. 6.1; layer list from the authors' code).
    """
    if not isinstance(encoder_channels, numbers.Integral) or isinstance(encoder_channels, bool) \
            or encoder_channels < 1:
        raise OptionError("encoder_channels must be a positive integer; "
                          f"Received: encoder_channels={encoder_channels!r}")
    plan = decoder_plan(encoder_layer, width)
    if not isinstance(input_scale, numbers.Real) or isinstance(input_scale, bool) or not 0 < input_scale < float("inf"):
        raise OptionError(f"the decoder's input_scale must be a positive number; Received: input_scale={input_scale!r}")
    inputs = keras.Input(shape=(None, None, int(encoder_channels)), name="features", dtype=dtype)
    x = inputs
    if input_scale != 1:
        x = keras.layers.Rescaling(1.0 / float(input_scale), name="decoder_input_scale", dtype=dtype)(x)
    last = plan[-1][0]
    for layer_name, filters in plan:
        if filters is None:
            x = keras.layers.UpSampling2D(2, interpolation="nearest", name=f"decoder_{layer_name}", dtype=dtype)(x)
            continue
        x = ReflectionPadding2D(1, name=f"decoder_{layer_name}_pad", dtype=dtype)(x)
        x = keras.layers.Conv2D(filters, 3, padding="valid", activation=None if layer_name == last else "relu",
                                name=f"decoder_{layer_name}", dtype=dtype)(x)
    return keras.Model(inputs, x, name=name)


def _check_width(width):
    if not isinstance(width, numbers.Real) or isinstance(width, bool) or not 0 < width <= 4:
        raise OptionError(f"decoder width must be a number in (0, 4]; Received: width={width!r}")
