"""The history of generated images that CycleGAN shows its discriminators (Shrivastava et al. 2017)."""

import numbers

import tensorflow as tf

from tfstyle.errors import OptionError


def _check_image_shape(image_shape):
    if image_shape is None:
        return None
    try:
        shape = tuple(image_shape)
    except TypeError:
        shape = ()
    if len(shape) != 3 or not all(isinstance(n, numbers.Integral) and not isinstance(n, bool) and n > 0
                                  for n in shape):
        raise OptionError(f"image_shape must be (height, width, channels) of positive integers; "
                          f"Received: image_shape={image_shape!r}")
    return tuple(int(n) for n in shape)


class ImagePool(tf.Module):
    """A buffer of earlier generated images that replaces half of the new ones once it is full.

    The discriminator then also sees the generator's earlier output, which damps the oscillation of the two
    networks. For each image of a batch, in order (as the reference CycleGAN code does):

    - while the pool holds fewer than `size` images, the image is stored and returned unchanged;
    - once it is full, with probability ½ a random stored image is returned and the new image takes its slot,
      otherwise the new image is returned and the pool is unchanged.

    The pool lives in TensorFlow state, so it works inside a `tf.function` train step (no Python-side state
    changes after the first call) and resumes exactly from a checkpoint:

    - `images`, a non-trainable `tf.Variable` of shape (size, H, W, C), and `num_images`, the int32 count of
      stored images (at most `size`);
    - `generator`, a `tf.random.Generator` seeded with `seed`, which draws each call's coins and slots (two draws
      per call, whatever the pool's state).

    A `tf.train.Checkpoint(pool=pool)`, or one holding a model that holds the pool, saves all three; a restored pool
    continues with the same images and the same random stream. (Under XLA, `jit_compile=True`, the generator draws
    other numbers from the same state than without it: resume with the same setting to continue identically.) The pool is a `tf.Module`, not a Keras layer: a
    Keras model tracks it for `tf.train.Checkpoint`, but its buffer (50 × 256 × 256 × 3 floats = 39 MB) is kept
    out of `model.weights`, `.keras` files and `save_weights` (it is training state, not part of the model).

    The buffer needs the image shape. Give `image_shape` to create it at construction (needed when the images'
    height and width are not static in the traced train step); otherwise it is created from the first batch, also
    on the first trace of a `tf.function` (the variable is initialised under `tf.init_scope`; `tf.function` then
    traces the function a second time, as it does whenever a first trace creates variables). A checkpoint can
    be restored before the first call either way: TensorFlow restores a variable created later when it is created.

    Distribution: the pool is one shared buffer updated image by image, so it must not be called in a replica
    context of a strategy with more than one replica (MirroredStrategy's `strategy.run`); it raises there. Under
    the default strategy or a one-device strategy it works as it is.

    Args:
        size: number of images kept (50 in CycleGAN); 0 = no pool: `pool(images)` returns `images`.
        image_shape: (H, W, C) of the images, or None to take it from the first batch.
        seed: seed of the random decisions; None = non-deterministic (still restored by a checkpoint).
        dtype: dtype of the stored images (inputs are cast to it; the output keeps the inputs' dtype).
        name: name of the module.

    Example:
        >>> import tensorflow as tf
        >>> pool = ImagePool(size=2, image_shape=(4, 4, 3), seed=0)
        >>> first = pool(tf.ones((2, 4, 4, 3)))          # filling: stored and returned unchanged
        >>> int(pool.num_images), pool(tf.zeros((3, 4, 4, 3))).shape
        (2, TensorShape([3, 4, 4, 3]))

    Reference:
        Shrivastava et al., "Learning from Simulated and Unsupervised Images through Adversarial Training", CVPR 2017
        (sec. 2.3); Zhu et al., "Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial Networks",
        ICCV 2017 (sec. 4).
    """

    def __init__(self, size=50, image_shape=None, seed=None, dtype="float32", name="image_pool"):
        super().__init__(name=name)
        if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 0:
            raise OptionError(f"size must be an integer >= 0 (0 = no pool); Received: size={size!r}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
            raise OptionError(f"seed must be an integer or None; Received: seed={seed!r}")
        try:
            self._dtype = tf.as_dtype(dtype)
        except TypeError:
            self._dtype = None
        if self._dtype is None or not self._dtype.is_floating:
            raise OptionError(f"dtype must be a floating-point dtype; Received: dtype={dtype!r}")
        self.size = int(size)
        self.seed = None if seed is None else int(seed)
        self.image_shape = _check_image_shape(image_shape)
        self.images = None
        if self.size == 0:
            return
        with tf.init_scope():
            self.num_images = tf.Variable(0, dtype=tf.int32, trainable=False, name="num_images")
            if self.seed is None:
                self.generator = tf.random.Generator.from_non_deterministic_state()
            else:
                self.generator = tf.random.Generator.from_seed(self.seed)
        if self.image_shape is not None:
            self._build(self.image_shape)

    @property
    def dtype(self):
        return self._dtype

    def _build(self, image_shape):
        with tf.init_scope():
            self.images = tf.Variable(tf.zeros((self.size, *image_shape), self._dtype), trainable=False,
                                      name="images")
        self.image_shape = tuple(image_shape)

    def _check_call(self, images):
        if images.shape.rank != 4:
            raise OptionError(f"ImagePool expects a batch of images (B, H, W, C); Received: shape={images.shape}")
        replica_context = tf.distribute.get_replica_context()
        if replica_context is not None and replica_context.num_replicas_in_sync > 1:
            raise OptionError("ImagePool cannot be updated per replica: call it in cross-replica context or with one "
                              f"replica; Received: num_replicas_in_sync={replica_context.num_replicas_in_sync}")
        if self.images is None:
            shape = images.shape[1:]
            if not shape.is_fully_defined():
                raise OptionError("ImagePool needs a static image shape to create its buffer: pass "
                                  f"image_shape=(H, W, C) to the constructor; Received: shape={images.shape}")
            self._build(tuple(shape.as_list()))
        elif not images.shape[1:].is_compatible_with(self.image_shape):
            raise OptionError(f"images of shape (B, *{self.image_shape}) expected by this pool; "
                              f"Received: shape={images.shape}")

    def __call__(self, images):
        """Returns a batch of the same shape: each image new or, once the pool is full, possibly from the history.

        Images returned new keep their gradient path; images from the history are stored values (no gradient).
        Callers usually pass generated images under `tf.stop_gradient` for the discriminator's step.

        Args:
            images: generated images, shape (B, H, W, C).

        Returns:
            Tensor of the same shape and dtype as `images`.
        """
        images = tf.convert_to_tensor(images)
        if self.size == 0:
            return images
        self._check_call(images)
        stored_images = tf.cast(images, self._dtype)
        batch = tf.shape(stored_images)[0]
        coins = self.generator.uniform([batch])
        slots = self.generator.uniform([batch], minval=0, maxval=self.size, dtype=tf.int32)

        def body(i, outputs):
            image = stored_images[i]
            count = self.num_images.read_value()
            filling = count < self.size
            swap = tf.logical_and(tf.logical_not(filling), coins[i] < 0.5)
            index = tf.where(filling, count, slots[i])
            previous = tf.gather(self.images, index)
            returned = tf.where(swap, previous, image)
            # Written unconditionally (the old value when neither filling nor swapping): no tf.cond needed.
            written = tf.where(tf.logical_or(filling, swap), image, previous)
            with tf.control_dependencies([returned, written]):  # read the slot before overwriting it
                updates = [self.images.scatter_nd_update([[index]], written[None]),
                           self.num_images.assign_add(tf.cast(filling, tf.int32))]
            with tf.control_dependencies(updates):
                return i + 1, outputs.write(i, returned)

        _, outputs = tf.while_loop(
            lambda i, _: i < batch, body, [tf.constant(0), tf.TensorArray(self._dtype, size=batch)]
        )
        result = tf.cast(outputs.stack(), images.dtype)
        result.set_shape(images.shape)
        return result

    def get_config(self):
        """The constructor arguments (the state is in the variables)."""
        return {"size": self.size, "image_shape": self.image_shape, "seed": self.seed, "dtype": self._dtype.name,
                "name": self.name}
