"""The PatchGAN discriminator (critic) of CycleGAN, with optional spectral norm and self-attention."""

import keras

from tfstyle.cyclegan.attention import SelfAttention
from tfstyle.cyclegan.generators import NORMS, _check_bool, _check_choice, _check_count, _dtypes, _norm
from tfstyle.layers import conv_init


@keras.saving.register_keras_serializable(package="tfstyle")
class PatchGANDiscriminator(keras.Model):
    """The PatchGAN discriminator: a fully convolutional net that scores every overlapping patch as real or fake.

    Layers (f = `filters`), each a 4×4 conv after zero padding 1: f with stride 2 and LeakyReLU(0.2) (no norm);
    then `n_layers − 1` stride-2 convs to `f·min(2^n, 8)` channels and one stride-1 conv to `f·min(2^n_layers, 8)`,
    each followed by norm and LeakyReLU(0.2); finally a stride-1 conv to 1 channel. With n_layers = 3 that is
    C64–C128–C256–C512–1 and each output value sees a 70×70 patch (`receptive_field`); a 256 px input gives a
    30×30 map. The explicit zero padding (rather than Keras "same") keeps the reference's output size. Convs have
    biases and N(0, 0.02) kernels; norm layers have no weights (2,764,737 weights with the defaults, as in the
    reference `basic` discriminator).

    The output is raw scores (logits) with no activation: an LSGAN or WGAN loss takes them as they are, a
    cross-entropy loss with `from_logits=True`. For WGAN-GP use `norm="instance"` or `"none"` (there is no batch
    norm option: it would couple the samples the gradient penalty treats separately).

    Args:
        n_layers: number of stride-2 convs (3: the 70×70 PatchGAN).
        filters: channels of the first conv (ndf, 64).
        norm: "instance" (affine-free instance norm) or "none".
        spectral_norm: wrap every conv (and the attention block's 1×1 convs) in
            `keras.layers.SpectralNormalization`.
        attention: add one `SelfAttention` block after the last stride-2 conv block (after C256 with n_layers = 3,
            at 1/8 of the input side).
        name: model name.
        dtype: dtype (policy) of every layer; None for the global policy.
        **kwargs: `keras.Model` arguments (`trainable`).

    Returns (when called):
        Scores (B, h, w, 1): h = H/2^n_layers − 2 for H a multiple of 2^n_layers.

    Example:
        >>> discriminator = PatchGANDiscriminator()
        >>> discriminator(np.zeros((1, 256, 256, 3), "float32")).shape
        TensorShape([1, 30, 30, 1])
        >>> discriminator.receptive_field
        70

    Reference:
        Isola et al., "Image-to-Image Translation with Conditional Adversarial Networks", CVPR 2017 (sec. 3.2.2);
        Zhu et al., CycleGAN, ICCV 2017 (layer list from the authors' code); Miyato et al., "Spectral Normalization
        for Generative Adversarial Networks", ICLR 2018; Zhang et al., SAGAN, ICML 2019.
    """

    def __init__(self, n_layers=3, filters=64, norm="instance", spectral_norm=False, attention=False,
                 name="patchgan_discriminator", dtype=None, **kwargs):
        n_layers = _check_count("n_layers", n_layers, 1)
        filters = _check_count("filters", filters, 1)
        _check_choice("norm", norm, NORMS)
        _check_bool("spectral_norm", spectral_norm)
        _check_bool("attention", attention)
        dtype, input_dtype, output_dtype = _dtypes(dtype)

        def conv(x, channels, strides, layer_name, layer_dtype=dtype):
            x = keras.layers.ZeroPadding2D(1, name=f"{layer_name}_pad", dtype=layer_dtype)(x)
            layer = keras.layers.Conv2D(channels, 4, strides=strides, kernel_initializer=conv_init(), name=layer_name,
                                        dtype=layer_dtype)
            if spectral_norm:
                layer = keras.layers.SpectralNormalization(layer, name=f"{layer_name}_spectral_norm",
                                                           dtype=layer_dtype)
            return layer(x)

        inputs = keras.Input(shape=(None, None, 3), name="images", dtype=input_dtype)
        x = inputs
        for n in range(n_layers + 1):
            prefix = f"conv{n + 1}"
            x = conv(x, filters * min(2 ** n, 8), 2 if n < n_layers else 1, prefix)
            if n > 0:
                x = _norm(x, norm, f"{prefix}_norm", dtype)
            x = keras.layers.LeakyReLU(0.2, name=f"{prefix}_lrelu", dtype=dtype)(x)
            if attention and n == n_layers - 1:
                x = SelfAttention(spectral_norm=spectral_norm, kernel_initializer=conv_init(),
                                  name=f"{prefix}_attention", dtype=dtype)(x)
        outputs = conv(x, 1, 1, "scores", layer_dtype=output_dtype)
        super().__init__(inputs=inputs, outputs=outputs, name=name, **kwargs)

        self.n_layers = n_layers
        self.filters = filters
        self.norm = norm
        self.spectral_norm = spectral_norm
        self.attention = attention
        self.dtype_option = dtype

    @property
    def receptive_field(self):
        """Side in pixels of the input patch that one output value sees through the convolutions.

        Computed from the conv layers in order: each k×k conv widens it by (k − 1) times the product of the
        strides before it. The attention block (if any) lets every score depend on the whole image besides.
        """
        field, jump = 1, 1
        for layer in self.layers:
            if isinstance(layer, keras.layers.SpectralNormalization):
                layer = layer.layer
            if isinstance(layer, keras.layers.Conv2D):
                field += (layer.kernel_size[0] - 1) * jump
                jump *= layer.strides[0]
        return field

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable, "n_layers": self.n_layers, "filters": self.filters,
                "norm": self.norm, "spectral_norm": self.spectral_norm, "attention": self.attention,
                "dtype": self.dtype_option}


def build_discriminator(**options):
    """Build the CycleGAN discriminator: a `PatchGANDiscriminator` with `options` as its constructor arguments.

    Args:
        **options: `PatchGANDiscriminator` arguments (n_layers, filters, norm, spectral_norm, attention, name, dtype).

    Returns:
        The discriminator, a `keras.Model` returning raw patch scores.

    Example:
        >>> critic = build_discriminator(norm="none", spectral_norm=True, attention=True)

    Reference:
        Isola et al. 2017; Zhu et al. 2017 (the 70×70 PatchGAN).
    """
    return PatchGANDiscriminator(**options)
