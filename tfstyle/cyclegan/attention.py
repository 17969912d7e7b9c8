"""The SAGAN self-attention block for the CycleGAN generators and discriminators."""

import numbers

import keras
from keras import ops

from tfstyle.errors import OptionError


@keras.saving.register_keras_serializable(package="tfstyle")
class SelfAttention(keras.layers.Layer):
    """Self-attention over the positions of a feature map, added to its input with a learned gate γ.

    With 1×1 convolutions q, k (C → C/reduction channels) and v (C → C) at the N = H·W positions,
    `β = softmax(q kᵀ)` over the keys, `o = β v` and `y = γ·o + x`, where γ is a trainable scalar initialised to
    0: a new block starts as the identity and the network learns how much non-local evidence to mix in.
    `pool_keys=True` max-pools k and v 2×2 (N/4 keys, a quarter of the memory), as in the authors' code.

    Memory: the attention map β holds N × N' numbers per image (N' = N, or N/4 with `pool_keys`): 268M at 128×128
    (1 GB in float32), 1M at 32×32. Never place the block at full image resolution.

    Args:
        reduction: q and k have `max(1, C // reduction)` channels.
        pool_keys: max-pool k and v 2×2 (padding "same", so odd sizes lose no position).
        spectral_norm: wrap the three 1×1 convolutions in `keras.layers.SpectralNormalization`.
        kernel_initializer: initializer of the 1×1 kernels (name, config or instance).
        **kwargs: `keras.layers.Layer` arguments (name, dtype).

    Call arguments:
        inputs: tensor (B, H, W, C); H and W may be unknown when the model is built.
        training: passed to the spectral normalisation, which updates its power-iteration estimate in training.

    Returns:
        Tensor of the input's shape.

    Example:
        >>> import numpy as np
        >>> layer = SelfAttention()
        >>> x = np.random.rand(2, 16, 16, 32).astype("float32")
        >>> bool(np.all(layer(x).numpy() == x))                          # γ = 0: the identity
        True

    Reference:
        Zhang, Goodfellow, Metaxas & Odena, "Self-Attention Generative Adversarial Networks", ICML 2019 (sec. 3;
        pooled keys and spectral norm from the authors' code).
    """

    def __init__(self, reduction=8, pool_keys=False, spectral_norm=False, kernel_initializer="glorot_uniform",
                 **kwargs):
        super().__init__(**kwargs)
        if not isinstance(reduction, numbers.Integral) or isinstance(reduction, bool) or reduction < 1:
            raise OptionError(f"reduction must be an integer >= 1; Received: reduction={reduction!r}")
        for option, value in (("pool_keys", pool_keys), ("spectral_norm", spectral_norm)):
            if not isinstance(value, bool):
                raise OptionError(f"{option} must be True or False; Received: {option}={value!r}")
        self.reduction = int(reduction)
        self.pool_keys = pool_keys
        self.spectral_norm = spectral_norm
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is None:
            raise ValueError(f"SelfAttention needs a known number of channels; Received: input_shape={input_shape}")
        key_channels = max(1, channels // self.reduction)
        self.query_conv = self._conv(key_channels, "query")
        self.key_conv = self._conv(key_channels, "key")
        self.value_conv = self._conv(channels, "value")
        for conv in (self.query_conv, self.key_conv, self.value_conv):
            conv.build(input_shape)
        self.gamma = self.add_weight(shape=(), initializer="zeros", name="gamma")

    def _conv(self, filters, role):
        # Each conv gets its own copy of the initializer: a shared unseeded instance would repeat its values.
        initializer = keras.initializers.get(keras.initializers.serialize(self.kernel_initializer))
        conv = keras.layers.Conv2D(filters, 1, kernel_initializer=initializer, name=f"{role}_conv",
                                   dtype=self.dtype_policy)
        if self.spectral_norm:
            conv = keras.layers.SpectralNormalization(conv, name=f"{role}_spectral_norm", dtype=self.dtype_policy)
        return conv

    def call(self, inputs, training=None):
        shape = ops.shape(inputs)
        batch = shape[0]
        query = self.query_conv(inputs, training=training)
        key = self.key_conv(inputs, training=training)
        value = self.value_conv(inputs, training=training)
        if self.pool_keys:
            key = ops.max_pool(key, 2, strides=2, padding="same")
            value = ops.max_pool(value, 2, strides=2, padding="same")
        query = ops.reshape(query, (batch, -1, ops.shape(query)[-1]))                 # (B, N, C')
        key = ops.reshape(key, (batch, -1, ops.shape(key)[-1]))                       # (B, N', C')
        value = ops.reshape(value, (batch, -1, ops.shape(value)[-1]))                 # (B, N', C)
        attention = ops.softmax(ops.matmul(query, ops.transpose(key, (0, 2, 1))), axis=-1)  # (B, N, N')
        attended = ops.reshape(ops.matmul(attention, value), shape)
        return ops.cast(self.gamma, attended.dtype) * attended + inputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "reduction": self.reduction, "pool_keys": self.pool_keys,
                "spectral_norm": self.spectral_norm,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer)}
