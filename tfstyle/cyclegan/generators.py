"""CycleGAN generators: the ResNet generator and the U-Net generator (optionally with self-attention).

Both are functional `keras.Model` subclasses that map images in [-1, 1] (B, H, W, 3) to images in [-1, 1] of the
same size. `build_generator(name, ...)` builds one by its command-line name.
"""

import numbers

import keras

from tfstyle.cyclegan.attention import SelfAttention
from tfstyle.errors import OptionError
from tfstyle.layers import ReflectionPadding2D, conv_init, instance_norm

NORMS = ("instance", "none")
UPSAMPLINGS = ("transpose", "resize")

# U-Net decoder placement of the "unet_attention" generator: 1/8 of the input side (32×32 for 256 px input).
DEFAULT_ATTENTION = (8,)


@keras.saving.register_keras_serializable(package="tfstyle")
class ResNetGenerator(keras.Model):
    """The CycleGAN ResNet generator: two stride-2 downsamplings, residual blocks, two ×2 upsamplings.

    Layers (f = `filters`): reflection pad 3, 7×7 conv f, norm, ReLU; 3×3 stride-2 convs to 2f and 4f (norm, ReLU
    after each); `blocks` residual blocks at 4f [reflection pad 1, 3×3 conv, norm, ReLU, reflection pad 1, 3×3 conv,
    norm, + input]; two ×2 upsamplings to 2f and f (norm, ReLU after each); reflection pad 3, 7×7 conv to 3
    channels, tanh. Every conv has a bias (as in the reference, whose convs have one whenever the norm is instance
    norm; an affine-free instance norm cancels it, so it only costs 0.03% of the weights) and kernels drawn from
    N(0, 0.02). Norm layers carry no weights (`InstanceNorm2d(affine=False)`); with the defaults the network has
    11,378,179 weights, like the reference `resnet_9blocks`.

    The stride-2 convs use Keras "same" padding: for even sides the output is exactly half (transposed convs:
    exactly twice) the input, and the sampling grids of the down- and upsampling agree; the reference pads both
    sides instead, which shifts its grid by half a pixel (irrelevant when training from scratch). Sides that are
    not multiples of `size_multiple` (4) give an output of another size: pad inputs to a multiple first. The
    smallest usable side is 8 (the reflection padding in the blocks needs 2 pixels at 1/4 resolution).

    Args:
        blocks: number of residual blocks (9 for 256 px, 6 for 128 px in the reference).
        filters: channels of the first conv (ngf, 64).
        upsampling: "transpose" (3×3 stride-2 transposed conv, the reference) or "resize" (nearest ×2, reflection
            pad 1, 3×3 conv: avoids the checkerboard artifacts of transposed convs, Odena et al. 2016).
        norm: "instance" (affine-free instance norm) or "none".
        name: model name.
        dtype: dtype (policy) of every layer; None for the global policy. The input takes the policy's variable
            dtype and the tanh output is float32 under a mixed policy.
        **kwargs: `keras.Model` arguments (`trainable`).

    Returns (when called):
        Images (B, H, W, 3) in [-1, 1] for images (B, H, W, 3) in [-1, 1], H and W multiples of 4.

    Example:
        >>> generator = ResNetGenerator(blocks=6)
        >>> generator(np.zeros((1, 128, 128, 3), "float32")).shape
        TensorShape([1, 128, 128, 3])

    Reference:
        Zhu, Park, Isola & Efros, "Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial
        Networks", ICCV 2017 (appendix 7.2; layer list from the authors' code); Johnson, Alahi & Fei-Fei,
        "Perceptual Losses for Real-Time Style Transfer and Super-Resolution", ECCV 2016 (the architecture).
    """

    def __init__(self, blocks=9, filters=64, upsampling="transpose", norm="instance", name="resnet_generator",
                 dtype=None, **kwargs):
        blocks = _check_count("blocks", blocks, 0)
        filters = _check_count("filters", filters, 1)
        _check_choice("upsampling", upsampling, UPSAMPLINGS)
        _check_choice("norm", norm, NORMS)
        dtype, input_dtype, output_dtype = _dtypes(dtype)

        def conv(x, channels, kernel_size, layer_name, strides=1, padding="valid"):
            return keras.layers.Conv2D(channels, kernel_size, strides=strides, padding=padding,
                                       kernel_initializer=conv_init(), name=layer_name, dtype=dtype)(x)

        def norm_relu(x, prefix, suffix="", relu=True):
            x = _norm(x, norm, f"{prefix}_norm{suffix}", dtype)
            return keras.layers.ReLU(name=f"{prefix}_relu{suffix}", dtype=dtype)(x) if relu else x

        inputs = keras.Input(shape=(None, None, 3), name="images", dtype=input_dtype)
        x = ReflectionPadding2D(3, name="stem_pad", dtype=dtype)(inputs)
        x = norm_relu(conv(x, filters, 7, "stem_conv"), "stem")
        for level in (1, 2):
            x = conv(x, filters * 2 ** level, 3, f"down{level}_conv", strides=2, padding="same")
            x = norm_relu(x, f"down{level}")
        for block in range(1, blocks + 1):
            prefix = f"block{block}"
            y = ReflectionPadding2D(1, name=f"{prefix}_pad1", dtype=dtype)(x)
            y = norm_relu(conv(y, filters * 4, 3, f"{prefix}_conv1"), prefix, "1")
            y = ReflectionPadding2D(1, name=f"{prefix}_pad2", dtype=dtype)(y)
            y = norm_relu(conv(y, filters * 4, 3, f"{prefix}_conv2"), prefix, "2", relu=False)
            x = keras.layers.Add(name=f"{prefix}_add", dtype=dtype)([x, y])
        for level in (2, 1):
            x = _upsample(x, filters * 2 ** (level - 1), 3, upsampling, f"up{level}", dtype)
            x = norm_relu(x, f"up{level}")
        x = ReflectionPadding2D(3, name="head_pad", dtype=dtype)(x)
        x = conv(x, 3, 7, "head_conv")
        outputs = keras.layers.Activation("tanh", name="head_tanh", dtype=output_dtype)(x)
        super().__init__(inputs=inputs, outputs=outputs, name=name, **kwargs)

        self.blocks = blocks
        self.filters = filters
        self.upsampling = upsampling
        self.norm = norm
        self.dtype_option = dtype

    @property
    def size_multiple(self):
        """Input height and width must be multiples of this (4: two stride-2 downsamplings)."""
        return 4

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable, "blocks": self.blocks, "filters": self.filters,
                "upsampling": self.upsampling, "norm": self.norm, "dtype": self.dtype_option}


@keras.saving.register_keras_serializable(package="tfstyle")
class UNetGenerator(keras.Model):
    """The U-Net generator of pix2pix/CycleGAN, optionally with self-attention blocks in its decoder.

    Encoder (f = `filters`, level i = 1 … depth): a 4×4 stride-2 conv to `min(f·2^(i−1), max_filters)` channels,
    preceded by LeakyReLU(0.2) except at level 1 and followed by a norm except at the first and the innermost level
    (C64–C128–C256–C512×5 for depth 8). Decoder, from the innermost level out: ReLU, ×2 upsampling to the channels
    of the level above, norm, optional dropout, concatenation with the encoder output of that level (skip first);
    the last step upsamples to 3 channels and applies tanh. Convs have biases and N(0, 0.02) kernels; norm layers
    have no weights. Dropout, when `dropout > 0`, follows the reference: only at the decoder steps between the
    innermost one and the outer four (levels 5 … depth − 1: 3 steps for depth 8, 2 for depth 7, none for depth ≤ 5).

    Self-attention (Li & Qi 2023): `attention=(8,)` adds one `SelfAttention` block to the decoder at 1/8 of the
    input side, after the concatenation there (32×32 for 256 px input, 16×16 for 128 px). Factors must be powers of
    2 between 2 and 2^(depth−1); full resolution (factor 1) is refused: its attention map would have (H·W)² entries.

    Input height and width must be multiples of `size_multiple` = 2^depth (256 for depth 8; 1×1 at the innermost
    level). A Keras functional model cannot check this when it is called: pad inputs first.

    Args:
        depth: number of stride-2 downsamplings (8 for 256 px, 7 for 128 px in the reference).
        filters: channels of the first conv (ngf, 64).
        max_filters: cap on the channels of any level (512 = 8·ngf in the reference).
        upsampling: "transpose" (4×4 stride-2 transposed conv, the reference) or "resize" (nearest ×2, reflection
            pad 1, 3×3 conv: against checkerboard artifacts, Odena et al. 2016).
        norm: "instance" (affine-free instance norm) or "none".
        attention: decoder resolutions for self-attention blocks, as downsampling factors of the input side
            (an int or a tuple of distinct ints); () for none.
        dropout: dropout rate in [0, 1) of the middle decoder steps (0: the CycleGAN default; pix2pix uses 0.5).
        name: model name.
        dtype: dtype (policy) of every layer; None for the global policy.
        **kwargs: `keras.Model` arguments (`trainable`).

    Returns (when called):
        Images (B, H, W, 3) in [-1, 1] for images (B, H, W, 3), H and W multiples of 2^depth.

    Example:
        >>> generator = UNetGenerator(depth=7, attention=(8,))             # unet_128 with attention at 16×16
        >>> generator(np.zeros((1, 128, 128, 3), "float32")).shape
        TensorShape([1, 128, 128, 3])

    Reference:
        Ronneberger et al., "U-Net", MICCAI 2015; Isola et al., "Image-to-Image Translation with Conditional
        Adversarial Networks", CVPR 2017 (layer list from the pix2pix/CycleGAN authors' code); Li & Qi 2023
        (U-Net CycleGAN with self-attention; placement is our choice, see METHODS §7).
    """

    def __init__(self, depth=8, filters=64, max_filters=512, upsampling="transpose", norm="instance", attention=(),
                 dropout=0.0, name="unet_generator", dtype=None, **kwargs):
        depth = _check_count("depth", depth, 1)
        filters = _check_count("filters", filters, 1)
        max_filters = _check_count("max_filters", max_filters, 1)
        if max_filters < filters:
            raise OptionError(f"max_filters must be >= filters={filters}; Received: max_filters={max_filters!r}")
        _check_choice("upsampling", upsampling, UPSAMPLINGS)
        _check_choice("norm", norm, NORMS)
        attention = _check_attention(attention, depth)
        if not isinstance(dropout, numbers.Real) or isinstance(dropout, bool) or not 0 <= dropout < 1:
            raise OptionError(f"dropout must be a number in [0, 1); Received: dropout={dropout!r}")
        dropout = float(dropout)
        dtype, input_dtype, output_dtype = _dtypes(dtype)
        channels = {level: min(filters * 2 ** (level - 1), max_filters) for level in range(1, depth + 1)}

        inputs = keras.Input(shape=(None, None, 3), name="images", dtype=input_dtype)
        x = inputs
        skips = {}
        for level in range(1, depth + 1):
            if level > 1:
                x = keras.layers.LeakyReLU(0.2, name=f"down{level}_lrelu", dtype=dtype)(x)
            x = keras.layers.Conv2D(channels[level], 4, strides=2, padding="same", kernel_initializer=conv_init(),
                                    name=f"down{level}_conv", dtype=dtype)(x)
            if 1 < level < depth:
                x = _norm(x, norm, f"down{level}_norm", dtype)
            skips[level] = x
        for level in range(depth, 0, -1):
            # Decoder step `level` undoes encoder level `level`: from 1/2^level to 1/2^(level−1) of the input side.
            x = keras.layers.ReLU(name=f"up{level}_relu", dtype=dtype)(x)
            if level == 1:
                x = _upsample(x, 3, 4, upsampling, "up1", dtype)
                break
            x = _upsample(x, channels[level - 1], 4, upsampling, f"up{level}", dtype)
            x = _norm(x, norm, f"up{level}_norm", dtype)
            if dropout and 5 <= level < depth:
                x = keras.layers.Dropout(dropout, name=f"up{level}_dropout", dtype=dtype)(x)
            x = keras.layers.Concatenate(name=f"up{level}_concat", dtype=dtype)([skips[level - 1], x])
            factor = 2 ** (level - 1)
            if factor in attention:
                x = SelfAttention(kernel_initializer=conv_init(), name=f"up{level}_attention", dtype=dtype)(x)
        outputs = keras.layers.Activation("tanh", name="up1_tanh", dtype=output_dtype)(x)
        super().__init__(inputs=inputs, outputs=outputs, name=name, **kwargs)

        self.depth = depth
        self.filters = filters
        self.max_filters = max_filters
        self.upsampling = upsampling
        self.norm = norm
        self.attention = attention
        self.dropout = dropout
        self.dtype_option = dtype

    @property
    def size_multiple(self):
        """Input height and width must be multiples of this (2^depth)."""
        return 2 ** self.depth

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable, "depth": self.depth, "filters": self.filters,
                "max_filters": self.max_filters, "upsampling": self.upsampling, "norm": self.norm,
                "attention": list(self.attention), "dropout": self.dropout, "dtype": self.dtype_option}


# name -> (class, default options). "unet_attention" is the U-Net with one attention block at 1/8 resolution.
GENERATORS = {
    "resnet": (ResNetGenerator, {}),
    "unet": (UNetGenerator, {}),
    "unet_attention": (UNetGenerator, {"attention": DEFAULT_ATTENTION}),
}


def build_generator(name, /, **options):
    """Build a CycleGAN generator by its command-line name.

    Args:
        name: "resnet" (`ResNetGenerator`), "unet" (`UNetGenerator`) or "unet_attention" (`UNetGenerator` with
            `attention=(8,)` unless `attention` is given). Positional only, so `options` may hold the model's
            own `name`.
        **options: constructor arguments of that class.

    Returns:
        The generator, a `keras.Model`.

    Example:
        >>> generator = build_generator("resnet", blocks=6, upsampling="resize", name="photo_to_ink")

    Reference:
        Zhu et al. 2017 (resnet, unet); Li & Qi 2023 (unet_attention).
    """
    if not isinstance(name, str) or name not in GENERATORS:
        raise OptionError(f"generator must be one of {', '.join(GENERATORS)}; Received: generator={name!r}")
    cls, defaults = GENERATORS[name]
    return cls(**{**defaults, **options})


def _check_count(option, value, minimum):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < minimum:
        raise OptionError(f"{option} must be an integer >= {minimum}; Received: {option}={value!r}")
    return int(value)


def _check_choice(option, value, choices):
    if not isinstance(value, str) or value not in choices:
        raise OptionError(f"{option} must be one of {', '.join(choices)}; Received: {option}={value!r}")


def _check_bool(option, value):
    if not isinstance(value, bool):
        raise OptionError(f"{option} must be True or False; Received: {option}={value!r}")


def _check_attention(attention, depth):
    """`attention` as a sorted tuple of decoder downsampling factors valid for `depth`, or OptionError."""
    factors = (attention,) if isinstance(attention, numbers.Integral) else attention
    allowed = tuple(2 ** level for level in range(1, depth))
    if not isinstance(factors, (list, tuple)) or not all(
            isinstance(f, numbers.Integral) and not isinstance(f, bool) for f in factors):
        raise OptionError(f"attention must be a tuple of downsampling factors such as (8,); "
                          f"Received: attention={attention!r}")
    if 1 in factors:
        raise OptionError("attention at full resolution (factor 1) would need an (H·W)² attention map; use a factor "
                          f"of at least 2; Received: attention={attention!r}")
    if len(set(factors)) != len(factors) or not set(factors) <= set(allowed):
        allowed_text = ", ".join(map(str, allowed)) if allowed else "none"
        raise OptionError(f"attention factors must be distinct and among {allowed_text} (the decoder resolutions "
                          f"for depth={depth}); Received: attention={attention!r}")
    return tuple(sorted(int(f) for f in factors))


def _dtypes(dtype):
    """(dtype option as stored in the config, input dtype, output dtype) for a layer dtype (policy) or None."""
    policy = keras.config.dtype_policy() if dtype is None else keras.dtype_policies.get(dtype)
    option = None if dtype is None else policy.name
    output = "float32" if policy.compute_dtype != policy.variable_dtype else option
    return option, policy.variable_dtype, output


def _norm(x, norm, name, dtype):
    return x if norm == "none" else instance_norm(name=name, dtype=dtype)(x)


def _upsample(x, channels, kernel_size, upsampling, prefix, dtype):
    """×2 upsampling to `channels`: a stride-2 transposed conv, or nearest resize + reflection pad + 3×3 conv."""
    if upsampling == "transpose":
        return keras.layers.Conv2DTranspose(channels, kernel_size, strides=2, padding="same",
                                            kernel_initializer=conv_init(), name=f"{prefix}_conv", dtype=dtype)(x)
    x = keras.layers.UpSampling2D(2, interpolation="nearest", name=f"{prefix}_resize", dtype=dtype)(x)
    x = ReflectionPadding2D(1, name=f"{prefix}_pad", dtype=dtype)(x)
    return keras.layers.Conv2D(channels, 3, kernel_initializer=conv_init(), name=f"{prefix}_conv", dtype=dtype)(x)
