"""Gram matrices of channels-last feature maps."""

from keras import ops


def gram_matrix(x, normalize=True):
    """Gram matrix of a feature map: the inner products between all pairs of channels.

    With F the (H·W)×C matrix holding one feature vector per position, `G = FᵀF`, i.e.
    `G[b, c, d] = Σ_{h,w} x[b, h, w, c] · x[b, h, w, d]`. With `normalize=True` (the default) G is divided by
    M = H·W, the number of positions, so `G = FᵀF / M` is the second moment of the feature vectors and does not
    depend on the image size. With `normalize=False` it is the raw sum Gatys et al. write as `G = F Fᵀ` (their F is
    C×M, the transpose of ours).

    Args:
        x: feature map, shape (B, H, W, C); H and W may be unknown (None) inside `tf.function`.
        normalize: divide by M = H·W.

    Returns:
        Tensor of shape (B, C, C), dtype of `x`.

    Example:
        >>> import numpy as np
        >>> x = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])      # B=1, H=1, W=2, C=2
        >>> gram_matrix(x).numpy()                           # (1·1 + 3·3)/2 etc.
        array([[[ 5.,  7.],
                [ 7., 10.]]])

    Reference:
        Gatys, Ecker & Bethge, "Image Style Transfer Using Convolutional Neural Networks", CVPR 2016 (eq. 3).
    """
    x = ops.convert_to_tensor(x)
    return _gram(x, normalize)


def _gram(x, normalize):
    """FᵀF (/ M) by one batched matmul, with the gradient of a symmetric product written out.

    Autodiff of `FᵀF` differentiates each operand separately (two M×C·C×C products plus transposes of the large
    feature map); since G is symmetric, `∂L/∂F = F (∂L/∂G + ∂L/∂Gᵀ) / M` needs one. On a 512 px image the Gram
    terms are a visible share of a style-transfer step (benchmarks/optimize_step.py), so this is worth the few lines.
    """
    shape = ops.shape(x)
    flat = ops.reshape(x, (shape[0], shape[1] * shape[2], shape[3]))
    scale = 1.0 / ops.cast(shape[1] * shape[2], x.dtype) if normalize else ops.cast(1.0, x.dtype)

    @ops.custom_gradient
    def gram(flat):
        def grad(*args, upstream=None):
            upstream = args[0] if upstream is None else upstream
            symmetric = upstream + ops.transpose(upstream, (0, 2, 1))
            return ops.matmul(flat, symmetric) * scale

        return ops.matmul(ops.transpose(flat, (0, 2, 1)), flat) * scale, grad

    return gram(flat)
