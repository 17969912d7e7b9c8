"""`FusedAdam`: Keras's Adam computed by TensorFlow's one-pass Adam kernel.

Keras 3's `Adam.update_step` updates each variable with about ten separate element-wise ops (casts, the two moment
updates, a square, a square root, a division, three assigns), each a full pass over a weight-sized tensor. For
networks with many weights and little compute per weight, such as the CycleGAN U-Net (42M weights per generator),
that costs 10–24 % of the forward+backward pass on a CPU (`benchmarks/cyclegan_step.py`, breakdown runs).
TensorFlow's fused kernel `ResourceApplyAdam` does the same update in one pass per variable.

The update is Keras's, exactly (Kingma & Ba 2015, Algorithm 1 with the "epsilon hat" placement):

    t = iterations + 1
    α = lr · sqrt(1 − β2^t) / (1 − β1^t)
    m ← m + (g − m)(1 − β1)
    v ← v + (g² − v)(1 − β2)
    θ ← θ − α · m / (sqrt(v) + ε)

with the same variables (`iterations`, the `m` and `v` slots), so checkpoints and `.keras` files move between
`FusedAdam` and `keras.optimizers.Adam` both ways, and the results agree to float32 rounding (tested). Sparse
gradients (`tf.IndexedSlices`), `amsgrad` and backends other than TensorFlow fall back to Keras's update.
Weight decay, gradient clipping, loss scaling, EMA and `tf.distribute` strategies are handled by Keras around
`update_step`, as for `Adam`.

Example:
    >>> model.compile(optimizer=tfstyle.optimizers.FusedAdam(2e-4, beta_1=0.5))
"""

import keras

__all__ = ["FusedAdam"]


@keras.saving.register_keras_serializable(package="tfstyle")
class FusedAdam(keras.optimizers.Adam):
    """`keras.optimizers.Adam` whose dense updates run as one `ResourceApplyAdam` kernel per variable.

    Takes exactly `keras.optimizers.Adam`'s arguments; see the module docstring for the update and what falls back.
    """

    def update_step(self, gradient, variable, learning_rate):
        import tensorflow as tf

        if self.amsgrad or keras.backend.backend() != "tensorflow" or isinstance(gradient, tf.IndexedSlices):
            return super().update_step(gradient, variable, learning_rate)
        dtype = variable.dtype
        index = self._get_variable_index(variable)
        step = tf.cast(self.iterations + 1, dtype)
        beta_1 = tf.cast(self.beta_1, dtype)
        beta_2 = tf.cast(self.beta_2, dtype)
        tf.raw_ops.ResourceApplyAdam(
            var=variable.handle, m=self._momentums[index].handle, v=self._velocities[index].handle,
            beta1_power=tf.pow(beta_1, step), beta2_power=tf.pow(beta_2, step), lr=tf.cast(learning_rate, dtype),
            beta1=beta_1, beta2=beta_2, epsilon=tf.cast(self.epsilon, dtype), grad=tf.cast(gradient, dtype))
