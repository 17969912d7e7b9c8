"""Tests of tfstyle.ops.colour: YIQ golden values, the statistics each colour transfer promises, shapes and errors."""

import doctest
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from tfstyle.errors import ImageError, OptionError
from tfstyle.ops import colour
from tfstyle.ops.colour import (
    COLOR_MODE_DESCRIPTIONS,
    COLOR_MODES,
    RGB_TO_YIQ,
    YIQ_TO_RGB,
    coral,
    match_histograms,
    match_luminance,
    rgb_to_yiq,
    transfer_luminance,
    yiq_to_rgb,
)

RNG = np.random.default_rng(2017)


# --- independent references -------------------------------------------------------------------------------------


def np_yiq(rgb):
    """YIQ of RGB pixels, written out from the NTSC coefficients (not from the library's matrix)."""
    r, g, b = np.moveaxis(np.asarray(rgb, np.float64), -1, 0)
    y = 0.299 * r + 0.587 * g + 0.114 * b
    i = 0.5959 * r - 0.2746 * g - 0.3213 * b
    q = 0.2115 * r - 0.5227 * g + 0.3112 * b
    return np.stack([y, i, q], axis=-1)


def mean_cov(image):
    pixels = np.asarray(image, np.float64).reshape(-1, 3)
    return pixels.mean(axis=0), np.cov(pixels, rowvar=False, bias=True)


def correlated_image(shape, mean, mixing, rng=RNG):
    """Pixels `mean + mixing @ u` with u uniform in [−1, 1]³: a full-rank colour covariance, values near `mean`."""
    u = rng.uniform(-1.0, 1.0, size=(*shape, 3))
    return (np.asarray(mean) + u @ np.asarray(mixing).T).astype(np.float32)


# mild, correlated colour distributions that stay well inside [0, 1], so that no clipping happens
STYLE = correlated_image((24, 20), [0.45, 0.5, 0.55], [[0.10, 0.03, 0.00], [0.02, 0.08, 0.02], [0.00, 0.04, 0.09]])
CONTENT = correlated_image((16, 28), [0.55, 0.45, 0.4], [[0.06, -0.02, 0.01], [0.03, 0.07, 0.00], [0.01, 0.02, 0.05]])


# --- YIQ ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rgb, yiq",
    [
        ((1.0, 0.0, 0.0), (0.299, 0.5959, 0.2115)),  # red: first column
        ((0.0, 1.0, 0.0), (0.587, -0.2746, -0.5227)),  # green: second column
        ((0.0, 0.0, 1.0), (0.114, -0.3213, 0.3112)),  # blue: third column
        ((1.0, 1.0, 1.0), (1.0, 0.0, 0.0)),  # white: Y row sums to 1, chroma rows to 0
        ((0.0, 0.0, 0.0), (0.0, 0.0, 0.0)),  # black
        ((0.25, 0.25, 0.25), (0.25, 0.0, 0.0)),  # grey: Y = value, no chroma
        ((1.0, 1.0, 0.0), (0.886, 0.3213, -0.3112)),  # yellow = white − blue
    ],
)
def test_yiq_golden_values(rgb, yiq):
    np.testing.assert_allclose(rgb_to_yiq(np.array(rgb)), yiq, atol=1e-7)
    np.testing.assert_allclose(yiq_to_rgb(np.array(yiq)), rgb, atol=1e-6)


def test_yiq_matrices():
    np.testing.assert_array_equal(
        RGB_TO_YIQ, [[0.299, 0.587, 0.114], [0.5959, -0.2746, -0.3213], [0.2115, -0.5227, 0.3112]]
    )
    np.testing.assert_allclose(YIQ_TO_RGB @ RGB_TO_YIQ, np.eye(3), atol=1e-14)
    # the usual 3-decimal statement of the inverse
    np.testing.assert_allclose(YIQ_TO_RGB, [[1, 0.956, 0.621], [1, -0.272, -0.647], [1, -1.107, 1.704]], atol=5e-4)
    assert not RGB_TO_YIQ.flags.writeable and not YIQ_TO_RGB.flags.writeable


def test_yiq_round_trip_and_reference():
    image = RNG.uniform(size=(5, 7, 3)).astype(np.float32)
    yiq = rgb_to_yiq(image)
    assert yiq.shape == image.shape and yiq.dtype == np.float32
    np.testing.assert_allclose(yiq, np_yiq(image), atol=1e-6)
    np.testing.assert_allclose(yiq_to_rgb(yiq), image, atol=1e-6)
    # scikit-image derives I and Q from the 33° rotation of U, V; the 4-decimal NTSC table agrees to 1e-4
    from skimage.color import rgb2yiq

    np.testing.assert_allclose(yiq, rgb2yiq(image), atol=1e-4)


def test_yiq_accepts_any_leading_shape():
    batch = RNG.uniform(size=(2, 3, 4, 3))
    assert rgb_to_yiq(batch).shape == (2, 3, 4, 3)
    assert yiq_to_rgb(batch[0, 0, 0]).shape == (3,)


# --- luminance-only transfer -------------------------------------------------------------------------------------


def test_transfer_luminance_takes_stylized_y_and_content_iq():
    stylized = correlated_image(CONTENT.shape[:2], [0.5, 0.5, 0.5], 0.08 * np.eye(3))
    out = transfer_luminance(stylized, CONTENT)
    assert out.min() > 0.0 and out.max() < 1.0  # no clipping, so the identities are exact
    out_yiq, stylized_yiq, content_yiq = np_yiq(out), np_yiq(stylized), np_yiq(CONTENT)
    np.testing.assert_allclose(out_yiq[..., 0], stylized_yiq[..., 0], atol=1e-6)
    np.testing.assert_allclose(out_yiq[..., 1:], content_yiq[..., 1:], atol=1e-6)


def test_transfer_luminance_of_grey_stylized_restores_content_colours():
    content = RNG.uniform(size=(9, 11, 3)).astype(np.float32)  # colourful, full range
    grey_version = np.repeat(np_yiq(content)[..., :1], 3, axis=-1).astype(np.float32)
    np.testing.assert_allclose(transfer_luminance(grey_version, content), content, atol=1e-6)


def test_transfer_luminance_keeps_content_hue_on_a_grey_stylized_image():
    content = np.array([[[0.6, 0.5, 0.4], [0.3, 0.4, 0.5]]], np.float32)
    stylized = np.full_like(content, 0.4)
    out = transfer_luminance(stylized, content)
    # the content's chroma is kept, so each pixel is its content colour shifted by the same amount in R, G and B
    shift = out - content
    np.testing.assert_allclose(shift, shift[..., :1].repeat(3, axis=-1), atol=1e-6)
    np.testing.assert_allclose(np_yiq(out)[..., 0], 0.4, atol=1e-6)


def test_transfer_luminance_needs_equal_shapes():
    with pytest.raises(ImageError) as info:
        transfer_luminance(np.zeros((4, 5, 3), np.float32), np.zeros((4, 6, 3), np.float32))
    assert str(info.value) == (
        "stylized and content must have the same shape; Received: stylized.shape=(4, 5, 3), content.shape=(4, 6, 3)"
    )


def test_match_luminance_is_grey_with_content_y_statistics():
    out = match_luminance(STYLE, CONTENT)
    assert out.shape == STYLE.shape
    np.testing.assert_array_equal(out[..., 0], out[..., 1])
    np.testing.assert_array_equal(out[..., 0], out[..., 2])
    y_out, y_style, y_content = np_yiq(out)[..., 0], np_yiq(STYLE)[..., 0], np_yiq(CONTENT)[..., 0]
    np.testing.assert_allclose(y_out.mean(), y_content.mean(), atol=1e-6)
    np.testing.assert_allclose(y_out.std(), y_content.std(), atol=1e-6)
    # a linear map with positive slope: the style's luminance ordering survives
    np.testing.assert_array_equal(np.argsort(y_out, axis=None), np.argsort(y_style, axis=None))


def test_match_luminance_golden_and_flat_style():
    style = np.array([[[0.0] * 3, [1.0] * 3]], np.float32)  # Y: μ 0.5, σ 0.5
    content = np.array([[[0.4] * 3, [0.6] * 3], [[0.5] * 3, [0.5] * 3]], np.float32)  # Y: μ 0.5, σ √0.005
    sigma = np.sqrt(0.005)
    np.testing.assert_allclose(match_luminance(style, content)[0, :, 0], [0.5 - sigma, 0.5 + sigma], atol=1e-6)
    flat = match_luminance(np.full((3, 3, 3), 0.2, np.float32), content)
    np.testing.assert_allclose(flat, 0.5, atol=1e-6)


# --- histogram matching ------------------------------------------------------------------------------------------


def test_match_histograms_matches_each_channel_quantiles():
    style = RNG.uniform(size=(12, 10, 3)).astype(np.float32)
    content = RNG.beta(5.0, 2.0, size=(8, 15, 3)).astype(np.float32)  # same pixel count, another distribution
    out = match_histograms(style, content)
    assert out.shape == style.shape
    for k in range(3):
        np.testing.assert_allclose(np.sort(out[..., k], axis=None), np.sort(content[..., k], axis=None), atol=1e-6)
        # a monotone map: each channel keeps the style's rank order
        np.testing.assert_array_equal(np.argsort(out[..., k], axis=None), np.argsort(style[..., k], axis=None))


def test_match_histograms_different_sizes_matches_quantiles_approximately():
    style = RNG.uniform(size=(40, 30, 3)).astype(np.float32)
    content = RNG.beta(2.0, 5.0, size=(20, 25, 3)).astype(np.float32)
    out = match_histograms(style, content)
    levels = np.linspace(0.05, 0.95, 19)
    for k in range(3):
        np.testing.assert_allclose(np.quantile(out[..., k], levels), np.quantile(content[..., k], levels), atol=0.01)


# --- CORAL -------------------------------------------------------------------------------------------------------


def test_coral_matches_content_mean_and_covariance():
    out = coral(STYLE, CONTENT)
    assert out.shape == STYLE.shape
    assert out.min() > 0.0 and out.max() < 1.0  # no clipping
    out_mean, out_cov = mean_cov(out)
    content_mean, content_cov = mean_cov(CONTENT)
    assert np.linalg.eigvalsh(content_cov).min() > 1e-4 and np.linalg.eigvalsh(mean_cov(STYLE)[1]).min() > 1e-4
    np.testing.assert_allclose(out_mean, content_mean, atol=1e-6)
    np.testing.assert_allclose(out_cov, content_cov, atol=2e-5)  # O(eps) with eps = 1e-5
    out_mean, out_cov = mean_cov(coral(STYLE, CONTENT, eps=0.0))
    np.testing.assert_allclose(out_mean, content_mean, atol=1e-6)
    np.testing.assert_allclose(out_cov, content_cov, atol=1e-7)


def test_coral_covariance_with_eps_is_as_documented():
    eps = 1e-3
    _, style_cov = mean_cov(STYLE)
    _, content_cov = mean_cov(CONTENT)
    c = content_cov + eps * np.eye(3)
    s = style_cov + eps * np.eye(3)
    w, v = np.linalg.eigh(c)
    c_half = v @ np.diag(np.sqrt(w)) @ v.T
    _, out_cov = mean_cov(coral(STYLE, CONTENT, eps=eps))
    np.testing.assert_allclose(out_cov, c - eps * c_half @ np.linalg.inv(s) @ c_half, atol=1e-7)


def test_coral_golden_uncorrelated_channels():
    # pixel deviations from the columns of a 4 × 4 Hadamard matrix: zero mean, orthogonal, so both covariances are
    # diagonal and CORAL is per-channel standardisation, x' = σ_c/σ_s (x − μ_s) + μ_c
    signs = np.array([[1, 1, 1], [-1, 1, -1], [1, -1, -1], [-1, -1, 1]], np.float64)
    style_mean, style_std = np.array([0.3, 0.5, 0.4]), np.array([0.1, 0.05, 0.2])
    content_mean, content_std = np.array([0.6, 0.5, 0.7]), np.array([0.2, 0.1, 0.05])
    style = (style_mean + signs * style_std).reshape(2, 2, 3).astype(np.float32)
    content = (content_mean + signs[::-1] * content_std).reshape(2, 2, 3).astype(np.float32)
    expected = (content_mean + signs * content_std).reshape(2, 2, 3)
    np.testing.assert_allclose(coral(style, content, eps=0.0), expected, atol=1e-6)


def test_coral_golden_rank_one_case():
    # both images vary along (1, 1, −1) only, the content twice as much: x' = 2 (x − μ_s) + μ_c (pseudo-inverse)
    style = np.array([[[0.2, 0.4, 0.5], [0.4, 0.6, 0.3]]], np.float32)  # μ (0.3, 0.5, 0.4), deviations ±0.1
    content = np.array([[[0.4, 0.4, 0.9], [0.8, 0.8, 0.5]]], np.float32)  # μ (0.6, 0.6, 0.7), deviations ±0.2
    out = coral(style, content, eps=0.0)
    np.testing.assert_allclose(out, 2.0 * (style - [0.3, 0.5, 0.4]) + [0.6, 0.6, 0.7], atol=1e-6)


def test_coral_is_identity_when_style_is_content():
    image = RNG.uniform(size=(10, 9, 3)).astype(np.float32)
    np.testing.assert_allclose(coral(image, image), image, atol=1e-6)


def test_coral_on_degenerate_style_images_is_finite():
    grey_style = np.repeat(RNG.uniform(size=(6, 6, 1)), 3, axis=-1).astype(np.float32)  # rank-1 covariance
    for eps in (1e-5, 0.0):
        out = coral(grey_style, CONTENT, eps=eps)
        assert np.isfinite(out).all()
        np.testing.assert_allclose(out.reshape(-1, 3).mean(axis=0), CONTENT.reshape(-1, 3).mean(axis=0), atol=1e-3)
    flat = coral(np.full((4, 4, 3), 0.7, np.float32), CONTENT)
    np.testing.assert_allclose(flat, np.broadcast_to(CONTENT.reshape(-1, 3).mean(axis=0), flat.shape), atol=1e-6)


@pytest.mark.parametrize("eps", [-1e-5, float("nan"), float("inf"), "0.1", True, None])
def test_coral_rejects_bad_eps(eps):
    with pytest.raises(OptionError) as info:
        coral(STYLE, CONTENT, eps=eps)
    assert str(info.value) == f"eps must be a finite number >= 0; Received: eps={eps!r}"


# --- all functions -----------------------------------------------------------------------------------------------

TRANSFERS = {
    # transfer_luminance combines pixel by pixel: give it a stylized image of the content's size
    "transfer_luminance": lambda style, content: transfer_luminance(style[: len(content), : content.shape[1]], content),
    "match_luminance": match_luminance,
    "match_histograms": match_histograms,
    "coral": coral,
}


@pytest.mark.parametrize("name", list(TRANSFERS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_shape_dtype_range_and_inputs_untouched(name, dtype):
    # saturated, full-range images of different sizes: results must be clipped into [0, 1]
    style = RNG.uniform(size=(21, 17, 3)).astype(dtype)
    content = (RNG.uniform(size=(13, 9, 3)) ** np.array([0.2, 1.0, 5.0])).astype(dtype)
    style_copy, content_copy = style.copy(), content.copy()
    out = TRANSFERS[name](style, content)
    expected_shape = content.shape if name == "transfer_luminance" else style.shape
    assert out.shape == expected_shape
    assert out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    np.testing.assert_array_equal(style, style_copy)
    np.testing.assert_array_equal(content, content_copy)


@pytest.mark.parametrize("function", [transfer_luminance, match_luminance, match_histograms, coral])
def test_bad_images_are_rejected(function):
    good = np.zeros((4, 4, 3), np.float32)
    with pytest.raises(ImageError) as info:
        function(np.zeros((4, 4, 3), np.uint8), good)
    assert str(info.value) == (
        "stylized" if function is transfer_luminance else "style"
    ) + (
        " must be a float array with values in [0, 1] (tfstyle.load_image converts 8-bit images); "
        "Received: dtype=uint8"
    )
    with pytest.raises(ImageError) as info:
        function(good, np.zeros((4, 4, 4), np.float32))
    assert str(info.value) == "content must have 3 channels in its last axis; Received: shape=(4, 4, 4)"
    with pytest.raises(ImageError) as info:
        function(good, np.zeros((2, 4, 4, 3), np.float32))
    assert str(info.value) == "content must be a non-empty H x W x 3 image; Received: shape=(2, 4, 4, 3)"


def test_color_modes():
    assert COLOR_MODES == ("luminance", "histogram", "coral")
    assert tuple(COLOR_MODE_DESCRIPTIONS) == COLOR_MODES
    assert COLOR_MODE_DESCRIPTIONS["luminance"].startswith("post-processing: ")
    assert COLOR_MODE_DESCRIPTIONS["histogram"].startswith("pre-processing: ")
    assert COLOR_MODE_DESCRIPTIONS["coral"].startswith("pre-processing: ")


def test_docstring_examples():
    result = doctest.testmod(colour, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_module_imports_neither_tensorflow_nor_keras():
    # load the file on its own (not through tfstyle.ops, whose other modules use keras) and run every function
    path = pathlib.Path(colour.__file__)
    code = (
        "import importlib.util, sys\n"
        "import numpy as np\n"
        f"spec = importlib.util.spec_from_file_location('colour_alone', {str(path)!r})\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "x = np.random.default_rng(0).uniform(size=(8, 8, 3))\n"
        "for f in (module.transfer_luminance, module.match_luminance, module.match_histograms, module.coral):\n"
        "    f(x, x)\n"
        "assert not {'tensorflow', 'keras'} & set(sys.modules), sorted({'tensorflow', 'keras'} & set(sys.modules))\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
