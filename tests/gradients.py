"""Helpers of the gradient checks shared by the op, loss and sliced-Wasserstein tests."""

import numpy as np
import tensorflow as tf


def dynamic_spec(channels, dtype=tf.float32):
    """A `tf.TensorSpec` of feature maps with unknown batch, height and width."""
    return tf.TensorSpec([None, None, None, channels], dtype)


def numerical_gradient(fn, x, step=1e-6):
    """Central finite differences of a scalar function of a float64 array."""
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[index] += step
        minus[index] -= step
        grad[index] = (float(fn(plus)) - float(fn(minus))) / (2 * step)
    return grad


def tape_gradient(fn, x):
    """The gradient of a scalar function at `x` by automatic differentiation."""
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        value = fn(x)
    return tape.gradient(value, x).numpy()
