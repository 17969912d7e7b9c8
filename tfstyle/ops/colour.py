"""Colour preservation for style transfer: luminance-only transfer, histogram matching and CORAL.

These functions run before or after the style-transfer optimization, on numpy images of shape H × W × 3 with float
values in [0, 1]; they return new float32 arrays of the same kind. They need no TensorFlow (numpy only; scikit-image
is imported when `match_histograms` is called). Style and content may differ in size, except in
`transfer_luminance`, which combines two images pixel by pixel.

Two ways to keep the content's colours (Gatys et al. 2017, colour control):

- post-processing, "luminance": stylize as usual, then `transfer_luminance(result, content)` keeps the result's
  luminance Y and puts back the content's chroma (I, Q). The pre-processing variant of luminance-only transfer
  stylizes with the grey `match_luminance(style, content)` as the style image and then applies
  `transfer_luminance` all the same.
- pre-processing, "histogram" or "coral": recolour the style image to the content's colours first
  (`match_histograms(style, content)` or `coral(style, content)`), then stylize with the recoloured style.

Reference:
    Gatys, Ecker, Bethge, Hertzmann & Shechtman, "Controlling Perceptual Factors in Neural Style Transfer",
    CVPR 2017 (colour control); Huang & Belongie, "Arbitrary Style Transfer in Real-time with Adaptive Instance
    Normalization", ICCV 2017 (colour control with CORAL); Sun, Feng & Saenko, "Return of Frustratingly Easy
    Domain Adaptation", AAAI 2016 (CORAL).
"""

import numbers

import numpy as np

from tfstyle.errors import ImageError, OptionError

COLOR_MODES = ("luminance", "histogram", "coral")
"""The colour-preservation modes; `COLOR_MODE_DESCRIPTIONS[mode]` says in one line what each one does and when."""

COLOR_MODE_DESCRIPTIONS = {
    "luminance": "post-processing: stylize, then transfer_luminance(result, content) keeps the content's chroma (I, Q)",
    "histogram": "pre-processing: stylize with match_histograms(style, content), the style with the content's colours",
    "coral": "pre-processing: stylize with coral(style, content), the style with the content's colour mean and "
    "covariance",
}
"""One line per mode of `COLOR_MODES`: pre-processing recolours the style image, post-processing fixes the result."""

# NTSC (FCC 1953) YIQ, rows Y, I, Q, as usually tabulated to 4 decimals. Each chroma row sums to 0, so grey
# pixels (R = G = B) have I = Q = 0, and the Y row sums to 1, so a grey pixel of value v has Y = v.
RGB_TO_YIQ = np.array(
    [
        [0.299, 0.587, 0.114],
        [0.5959, -0.2746, -0.3213],
        [0.2115, -0.5227, 0.3112],
    ]
)
"""NTSC RGB → YIQ matrix (float64): `[Y, I, Q]ᵀ = RGB_TO_YIQ @ [R, G, B]ᵀ`."""

YIQ_TO_RGB = np.linalg.inv(RGB_TO_YIQ)
"""Exact inverse of `RGB_TO_YIQ` (float64): `[R, G, B]ᵀ = YIQ_TO_RGB @ [Y, I, Q]ᵀ`."""

RGB_TO_YIQ.setflags(write=False)
YIQ_TO_RGB.setflags(write=False)


def rgb_to_yiq(image):
    """Converts RGB to NTSC YIQ: Y is the luminance, I and Q the chroma.

    `[Y, I, Q] = RGB_TO_YIQ @ [R, G, B]` per pixel, with

        Y = 0.299  R + 0.587  G + 0.114  B
        I = 0.5959 R − 0.2746 G − 0.3213 B
        Q = 0.2115 R − 0.5227 G + 0.3112 B

    Args:
        image: float array of shape (..., 3), RGB, usually in [0, 1].

    Returns:
        float32 array of the same shape: Y in [0, 1], I in [−0.5959, 0.5959], Q in [−0.5227, 0.5227] for RGB in
        [0, 1]. No clipping.

    Example:
        >>> rgb_to_yiq(np.array([1.0, 0.0, 0.0]))                # pure red
        array([0.299 , 0.5959, 0.2115], dtype=float32)

    Reference:
        NTSC colour television standard (FCC, 1953); Gatys et al., "Controlling Perceptual Factors in Neural Style
        Transfer", CVPR 2017 (luminance-only transfer in YIQ).
    """
    return _rgb_to_yiq64(_float_array(image, "image")).astype(np.float32)


def yiq_to_rgb(image):
    """Converts NTSC YIQ back to RGB with the exact inverse of the `rgb_to_yiq` matrix.

    `[R, G, B] = YIQ_TO_RGB @ [Y, I, Q]` per pixel, `YIQ_TO_RGB = inv(RGB_TO_YIQ)` ≈

        R = Y + 0.956 I + 0.621 Q
        G = Y − 0.272 I − 0.647 Q
        B = Y − 1.107 I + 1.704 Q

    Args:
        image: float array of shape (..., 3), YIQ.

    Returns:
        float32 RGB array of the same shape. No clipping: YIQ values that come from no RGB colour in [0, 1] give
        values outside [0, 1].

    Example:
        >>> yiq_to_rgb(np.array([0.5, 0.0, 0.0])).round(6)       # mid grey
        array([0.5, 0.5, 0.5], dtype=float32)

    Reference:
        NTSC colour television standard (FCC, 1953).
    """
    return _yiq_to_rgb64(_float_array(image, "image")).astype(np.float32)


def transfer_luminance(stylized, content):
    """Combines the stylized image's luminance with the content's chroma: luminance-only transfer, post-processing.

    `YIQ(out) = (Y(stylized), I(content), Q(content))`, converted back to RGB and clipped to [0, 1]. Gatys et al.
    stylize the luminance channels only; with a colour style image, the stylized colours are discarded here and
    replaced by the content's.

    Args:
        stylized: the style-transfer result, float array (H, W, 3) in [0, 1].
        content: the content image, float array of the same shape.

    Returns:
        float32 array (H, W, 3) in [0, 1].

    Example:
        >>> content = np.array([[[0.6, 0.5, 0.4]]])              # a light brown pixel, Y = 0.5185
        >>> stylized = np.full((1, 1, 3), 0.4)                   # a grey pixel, Y = 0.4
        >>> transfer_luminance(stylized, content).round(6)       # the content's colour, darker by 0.1185
        array([[[0.4815, 0.3815, 0.2815]]], dtype=float32)

    Reference:
        Gatys et al., "Controlling Perceptual Factors in Neural Style Transfer", CVPR 2017 (luminance-only
        transfer).
    """
    stylized = _rgb_image(stylized, "stylized")
    content = _rgb_image(content, "content")
    if stylized.shape != content.shape:
        raise ImageError(
            "stylized and content must have the same shape; "
            f"Received: stylized.shape={stylized.shape}, content.shape={content.shape}"
        )
    yiq = _rgb_to_yiq64(content)
    yiq[..., 0] = _rgb_to_yiq64(stylized)[..., 0]
    return _clipped(_yiq_to_rgb64(yiq))


def luminance(image):
    """The luminance Y of an RGB image, replicated to three channels (a grey RGB image), clipped to [0, 1].

    Example:
        >>> luminance(np.array([[[1.0, 0.0, 0.0]]]))[0, 0].round(3)
        array([0.299, 0.299, 0.299], dtype=float32)
    """
    y = _rgb_to_yiq64(_rgb_image(image, "image"))[..., 0]
    return _clipped(np.repeat(y[..., None], 3, axis=-1))


def match_luminance(style, content):
    """The style image as grey, its luminance matched to the content's: luminance-only transfer, pre-processing.

    `Y_s' = σ_c / σ_s · (Y_s − μ_s) + μ_c` with μ, σ the mean and standard deviation of the luminance Y over the
    pixels of each image, replicated to three channels (R = G = B = Y_s', whose luminance is Y_s') and clipped to
    [0, 1]. A flat style image (σ_s = 0) gives a flat image of value μ_c. Stylize with this image as the style, then
    apply `transfer_luminance(result, content)` to put the content's chroma back.

    Args:
        style: the style image, float array (H_s, W_s, 3) in [0, 1].
        content: the content image, float array (H_c, W_c, 3) in [0, 1]; its size may differ from the style's.

    Returns:
        float32 array of the style's shape, grey (all three channels equal), in [0, 1].

    Example:
        >>> style = np.array([[[0.0] * 3, [1.0] * 3]])          # Y = 0 and 1: μ = 0.5, σ = 0.5
        >>> content = np.array([[[0.4] * 3, [0.6] * 3]])        # Y = 0.4 and 0.6: μ = 0.5, σ = 0.1
        >>> match_luminance(style, content)[..., 0].round(6)
        array([[0.4, 0.6]], dtype=float32)

    Reference:
        Gatys et al., "Controlling Perceptual Factors in Neural Style Transfer", CVPR 2017 (luminance
        matching of the style to the content).
    """
    style_y = _rgb_to_yiq64(_rgb_image(style, "style"))[..., 0]
    content_y = _rgb_to_yiq64(_rgb_image(content, "content"))[..., 0]
    style_std = style_y.std()
    if style_std > 0.0:
        matched = content_y.std() / style_std * (style_y - style_y.mean()) + content_y.mean()
    else:
        matched = np.full_like(style_y, content_y.mean())
    return _clipped(np.repeat(matched[..., None], 3, axis=-1))


def match_histograms(style, content):
    """The style image recoloured so that each RGB channel's histogram matches the content's.

    Per channel k, `out_k = F_{c,k}⁻¹(F_{s,k}(style_k))` with F the empirical cumulative distribution of the channel's
    values (quantile mapping, `skimage.exposure.match_histograms(style, content, channel_axis=-1)`), clipped to
    [0, 1]. The channels are matched independently, so correlations between them are not; see `coral` for that.

    Args:
        style: the style image, float array (H_s, W_s, 3) in [0, 1].
        content: the content image, float array (H_c, W_c, 3) in [0, 1]; its size may differ from the style's.

    Returns:
        float32 array of the style's shape in [0, 1]. For images of equal size with distinct values per channel,
        each output channel holds exactly the content channel's values, in the style's rank order.

    Example:
        >>> style = np.array([[[0.1] * 3, [0.9] * 3, [0.5] * 3]])
        >>> content = np.array([[[0.2, 0.3, 0.4], [0.6, 0.7, 0.8], [0.4, 0.5, 0.6]]])
        >>> match_histograms(style, content)[0, :, 0].round(6)  # red: 0.2 < 0.4 < 0.6, in the style's order
        array([0.2, 0.6, 0.4], dtype=float32)

    Reference:
        Gatys et al., "Controlling Perceptual Factors in Neural Style Transfer", CVPR 2017 (colour histogram
        matching of the style to the content).
    """
    from skimage.exposure import match_histograms as skimage_match_histograms

    style = _rgb_image(style, "style")
    content = _rgb_image(content, "content")
    return _clipped(skimage_match_histograms(style, content, channel_axis=-1))


def coral(style, content, eps=1e-5):
    """The style image recoloured to the content's colour mean and covariance (CORAL colour transfer).

    With the pixels as RGB vectors x, per image the mean μ and the regularised covariance
    `Σ = (1/N) Σ_i (x_i − μ)(x_i − μ)ᵀ + eps·I` (N pixels):

        x' = Σ_c^{1/2} Σ_s^{−1/2} (x − μ_s) + μ_c

    then clipped to [0, 1]. The matrix square roots are symmetric, from the eigendecomposition `Σ = V diag(λ) Vᵀ`,
    `Σ^{±1/2} = V diag(λ^{±1/2}) Vᵀ`. Before clipping, x' has mean μ_c and covariance
    `Σ_c − eps·Σ_c^{1/2} Σ_s⁻¹ Σ_c^{1/2}` (both Σ regularised): the content's own covariance up to O(eps).

    Choice of eps (the published code adds "+ I"): Huang & Belongie's code (`coral` in `lib/utils.lua`, and the
    pytorch-AdaIN port) first standardises each channel, then adds the identity to the *unnormalised* scatter matrix
    `Z Zᵀ = (N − 1)·R` (R: the 3 × 3 correlation matrix), recolours with `sqrt(Z_c Z_cᵀ + I)·inv(sqrt(Z_s Z_sᵀ + I))`
    and multiplies by the content's channel standard deviations. The image scale ([0, 1] or [0, 255]) does not
    matter there, and the "+ I" is the tiny regulariser `R + I/(N − 1)`: 4e-6 relative at 512 × 512. Adding I to the
    covariance of [0, 1] pixels instead (typical variances 0.01–0.1) would swamp it and leave the colours almost
    unchanged. Here the covariance of the [0, 1] pixels is used as it stands, and eps = 1e-5 is about 1e-4 of a
    typical variance: negligible, yet enough to keep `Σ_s^{−1/2}` finite for grey or flat style images (rank-deficient
    Σ_s). Dividing by N also avoids a size dependence of the published code: with N_s ≠ N_c pixels its transfer is
    scaled by about sqrt((N_c − 1) / (N_s − 1)), so the output's contrast is wrong when the images differ in size.
    The map itself is the formula above (symmetric roots of the covariances), not the published
    `D_c R_c^{1/2} R_s^{−1/2} D_s⁻¹` (D: diagonal of standard deviations); both give mean μ_c and covariance Σ_c and
    differ by a rotation in whitened colour space.

    Args:
        style: the style image, float array (H_s, W_s, 3) in [0, 1].
        content: the content image, float array (H_c, W_c, 3) in [0, 1]; its size may differ from the style's.
        eps: non-negative number added to the diagonal of both covariances (in units of squared [0, 1] values).
            With eps = 0, a singular Σ_s is pseudo-inverted.

    Returns:
        float32 array of the style's shape in [0, 1].

    Example:
        >>> rng = np.random.default_rng(0)
        >>> style, content = rng.uniform(0.3, 0.5, (32, 32, 3)), rng.uniform(0.5, 0.7, (16, 16, 3))
        >>> out = coral(style, content)
        >>> bool(np.allclose(out.reshape(-1, 3).mean(0), content.reshape(-1, 3).mean(0), atol=1e-6))
        True

    Reference:
        Huang & Belongie, "Arbitrary Style Transfer in Real-time with Adaptive Instance Normalization", ICCV 2017
        (colour control); Sun, Feng & Saenko, "Return of Frustratingly Easy Domain Adaptation", AAAI 2016.
    """
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not np.isfinite(eps) or eps < 0:
        raise OptionError(f"eps must be a finite number >= 0; Received: eps={eps!r}")
    style = _rgb_image(style, "style")
    content = _rgb_image(content, "content")
    style_pixels = style.reshape(-1, 3)
    content_pixels = content.reshape(-1, 3)
    style_mean, style_cov = _mean_cov(style_pixels, eps)
    content_mean, content_cov = _mean_cov(content_pixels, eps)
    transform = _symmetric_power(content_cov, 0.5) @ _symmetric_power(style_cov, -0.5)
    recoloured = (style_pixels - style_mean) @ transform.T + content_mean
    return _clipped(recoloured.reshape(style.shape))


# --- helpers ---------------------------------------------------------------------------------------------------------


def _float_array(image, name):
    """`image` as a float64 array of shape (..., 3), or an `ImageError` naming the argument."""
    array = np.asarray(image)
    if not np.issubdtype(array.dtype, np.floating):
        raise ImageError(
            f"{name} must be a float array with values in [0, 1] (tfstyle.load_image converts 8-bit images); "
            f"Received: dtype={array.dtype}"
        )
    if array.ndim < 1 or array.shape[-1] != 3:
        raise ImageError(f"{name} must have 3 channels in its last axis; Received: shape={array.shape}")
    return array.astype(np.float64)


def _rgb_image(image, name):
    """`image` as a float64 (H, W, 3) array with at least one pixel, or an `ImageError` naming the argument."""
    array = _float_array(image, name)
    if array.ndim != 3 or array.shape[0] == 0 or array.shape[1] == 0:
        raise ImageError(f"{name} must be a non-empty H x W x 3 image; Received: shape={array.shape}")
    return array


def _rgb_to_yiq64(image):
    return image @ RGB_TO_YIQ.T


def _yiq_to_rgb64(image):
    return image @ YIQ_TO_RGB.T


def _clipped(image):
    return np.clip(image, 0.0, 1.0).astype(np.float32)


def _mean_cov(pixels, eps):
    """Mean (3,) and covariance (3, 3) of N × 3 pixels, normalised by N, plus eps on the diagonal."""
    mean = pixels.mean(axis=0)
    centred = pixels - mean
    cov = centred.T @ centred / len(pixels) + eps * np.eye(3)
    return mean, cov


def _symmetric_power(matrix, power):
    """`matrix ** power` of a symmetric positive semi-definite matrix; for power < 0, zero eigenvalues stay zero."""
    eigenvalues, eigenvectors = np.linalg.eigh(matrix)
    eigenvalues = np.clip(eigenvalues, 0.0, None)
    # rounding leaves eigenvalues ~1e-16·λ_max where the exact ones are 0: treat those as 0 (pseudo-inverse)
    keep = eigenvalues > eigenvalues.max() * 1e-12
    scaled = np.zeros_like(eigenvalues)
    scaled[keep] = eigenvalues[keep] ** power
    return (eigenvectors * scaled) @ eigenvectors.T
