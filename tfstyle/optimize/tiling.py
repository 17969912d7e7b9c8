"""Tiled evaluation of the style-transfer objective, for images too large for one forward+backward pass.

`TiledObjective` computes the same `α·content + β·style + γ·TV` as `tfstyle.stylize` and its gradient, but runs
the backbone on overlapping tiles, so the activation memory is that of one tile whatever the image size. Style
statistics stay *global*: the Gram matrix (or the channel means and deviations) of a layer is accumulated over the
whole image, not averaged over per-tile losses, so the result is the untiled objective, not an approximation of it
by many small style transfers.

Tiles and cores. The image is covered by tile windows (`tile_size` pixels, the last one per axis up to one
alignment step larger) whose starts are multiples of the largest feature-map stride `S` of the layers used, so
every tile's layer grids are sub-grids of the whole image's. The windows overlap; each owns a *core*: the pixel
axis is cut at the middle of every overlap, so the cores partition the image and each core lies at least
`overlap` pixels inside its window, except on the image's own borders. At a layer of stride `s`, the global
position `j` (pixel cell `[j·s, (j+1)·s)`) is owned by the tile whose pixel core contains pixel `j·s`: tile k owns
`ceil(b_k/s) ≤ j < ceil(b_{k+1}/s)` for core boundaries `b_k` (the last tile also owns any positions past the last
boundary), so every position of every layer is owned by exactly one tile. Only core features enter the statistics
and the content loss; the rest of the window is receptive-field context. When `overlap` covers the receptive
field of the deepest layer used (plus one stride), every core feature equals the untiled one and the tiled
objective and gradient are the untiled ones up to float rounding; with a smaller overlap (VGG's block5_conv1 sees
±98 px, the default overlap is 64) the features within a few pixels of a cut see zero padding instead of image
(no blending is applied: there is nothing to blend, see below).

Two passes per evaluation:
1. No gradient: each tile's core sums (`Σ f fᵀ` for the Gram loss, `Σ f` and `Σ f²` for mean/std) are added up
   in float64; the style loss and its derivative `D_l = ∂L/∂(Σ_l)` with respect to each global sum are computed on
   these small C×C (or C) arrays.
2. Per tile, the surrogate `Σ_l ⟨D_l, Σ_l,tile⟩ + content loss of the core + …` is backpropagated to the tile's
   pixels. Its gradient is exactly the tile's share of `∂L/∂image` (the chain rule through the global sums), and
   the shares of all tiles are *added* into the full gradient, overlap included: a pixel near a cut influences core
   features of both neighbouring tiles, and both contributions belong to its gradient. (Keeping only each tile's
   core pixels would drop the second one and leave a seam in the gradient.) Every feature is counted once, by its
   owner, so no weights or feathering are needed.
TV is computed on the full image with NumPy (it is cheap).

Supported: a single-backbone `tfstyle.losses.PerceptualLoss` with `ContentLoss` and `GramStyleLoss` or
`MeanStdStyleLoss`, on backbones whose layer grids are the input grid divided by a stride (the VGGs; checked).
The MMD loss compares sets of feature vectors and has no global statistic that tiles can add up: it raises. Style
masks (spatial control) are not supported yet and raise (they would need mask-weighted sums per region).
"""

import dataclasses
import math

import numpy as np
import tensorflow as tf

from tfstyle.losses.content import ContentLoss
from tfstyle.losses.style import GramStyleLoss, MeanStdStyleLoss, MMDStyleLoss
from tfstyle.ops.variation import total_variation

# Below this, a target's energy is treated as zero and left unscaled (as in `PerceptualLoss`).
_TINY = 1e-12
# Side of the probe image whose output shapes give each layer's stride.
_PROBE = 512


@dataclasses.dataclass(frozen=True)
class Tile:
    """One tile: its window and its core, as pixel rectangles `(top, bottom, left, right)` (end-exclusive)."""

    window: tuple
    core: tuple


def split_axis(length, tile_size, overlap, align=1):
    """Cut one image axis into overlapping windows and the cores they own.

    Args:
        length: pixels along the axis.
        tile_size: window length (windows are `tile_size` long, the last one up to `align − 1` longer).
        overlap: minimum distance between a core and an inner window edge.
        align: window starts are multiples of it (the largest feature stride of the layers used).

    Returns:
        `(windows, cores)`: lists of `(start, end)` pixel ranges; the cores partition `[0, length)`.
    """
    if length <= tile_size:
        return [(0, length)], [(0, length)]
    step = (tile_size - 2 * overlap) // align * align
    if step < align:
        raise ValueError(f"tile_size must exceed 2·overlap by at least the feature stride {align}; received "
                         f"tile_size={tile_size}, overlap={overlap}")
    last = (length - tile_size) // align * align
    starts = [0]
    while starts[-1] + tile_size < length:
        candidate = min(starts[-1] + step, last)
        if candidate <= starts[-1]:
            break  # the last window is extended to the image edge instead (by less than `align`)
        starts.append(candidate)
    windows = [(start, start + tile_size) for start in starts[:-1]] + [(starts[-1], length)]
    cuts = [(windows[k + 1][0] + windows[k][1]) // 2 for k in range(len(windows) - 1)]
    bounds = [0, *cuts, length]
    return windows, [(bounds[k], bounds[k + 1]) for k in range(len(windows))]


def tile_grid(height, width, tile_size=512, overlap=64, align=1):
    """The tiles covering a `height`×`width` image (see `split_axis`); their cores partition the image.

    Example:
        >>> tiles = tile_grid(64, 96, tile_size=48, overlap=16)
        >>> len(tiles), tiles[0]
        (8, Tile(window=(0, 48, 0, 48), core=(0, 32, 0, 32)))
    """
    rows = split_axis(height, tile_size, overlap, align)
    cols = split_axis(width, tile_size, overlap, align)
    return [Tile((top, bottom, left, right), (core_top, core_bottom, core_left, core_right))
            for (top, bottom), (core_top, core_bottom) in zip(*rows)
            for (left, right), (core_left, core_right) in zip(*cols)]


def _owned(start, end, stride, size, is_last):
    """Global layer positions owned by the pixel core `[start, end)` at a layer of `stride` and `size` positions."""
    first = min(-(-start // stride), size)
    stop = size if is_last else min(-(-end // stride), size)
    return first, stop


class _Layout:
    """Tiles of one image shape with, for every layer, each tile's grid offset and core in its local grid."""

    def __init__(self, extractor, layers, strides, height, width, tile_size, overlap):
        align = max(strides.values())
        self.height, self.width = height, width
        self.tiles = tile_grid(height, width, tile_size, overlap, align)
        self.grid = _output_shapes(extractor, height, width)  # {layer: (1, h, w, C)} of the whole image
        last_row = max(tile.core[1] for tile in self.tiles)
        last_col = max(tile.core[3] for tile in self.tiles)
        shapes = {}
        self.offsets, self.cores = [], []
        for tile in self.tiles:
            top, bottom, left, right = tile.window
            size = (bottom - top, right - left)
            if size not in shapes:
                shapes[size] = _output_shapes(extractor, *size)
            offsets, cores = {}, {}
            for name in layers:
                stride = strides[name]
                _, grid_h, grid_w, _ = self.grid[name]
                _, tile_h, tile_w, _ = shapes[size][name]
                row0, col0 = top // stride, left // stride
                rows = _owned(tile.core[0], tile.core[1], stride, grid_h, tile.core[1] == last_row)
                cols = _owned(tile.core[2], tile.core[3], stride, grid_w, tile.core[3] == last_col)
                core = (rows[0] - row0, rows[1] - row0, cols[0] - col0, cols[1] - col0)
                fits = (0 <= core[0] <= core[1] <= tile_h and 0 <= core[2] <= core[3] <= tile_w
                        and row0 + tile_h <= grid_h and col0 + tile_w <= grid_w)
                if not fits:
                    raise ValueError(f"layer {name} of {extractor.name} does not map tiles onto the image's feature "
                                     f"grid (its grid is not the input grid divided by a stride); tiling supports "
                                     f"VGG-like backbones")
                offsets[name] = (row0, col0, tile_h, tile_w)
                cores[name] = core
            self.offsets.append(offsets)
            self.cores.append(cores)

    def owned_counts(self, name):
        """How many positions of layer `name` each tile owns (they sum to the layer's grid size)."""
        return [(c[1] - c[0]) * (c[3] - c[2]) for c in (cores[name] for cores in self.cores)]


def _output_shapes(extractor, height, width):
    return {name: tuple(shape) for name, shape in extractor.model.compute_output_shape((1, height, width, 3)).items()}


def _strides(extractor, layers):
    """Each layer's feature stride (a power of two), from its output size on a probe image."""
    shapes = _output_shapes(extractor, _PROBE, _PROBE)
    return {name: 2 ** round(math.log2(_PROBE / shapes[name][1])) for name in layers}


def _crop(features, core):
    return features[:, core[0]:core[1], core[2]:core[3], :]


class TiledObjective:
    """Value and gradient of the style-transfer objective of a large image, computed tile by tile.

    Computes `L = α·content + β·style + γ·TV` exactly as `tfstyle.stylize` does with `criterion` and `tv_weight`,
    with global style statistics (see the module docstring for tiles, cores and the two passes). Peak memory is
    that of one tile's forward and backward pass plus a few full-image float arrays
    (`tfstyle.optimize.memory.estimate_memory`).

    Args:
        criterion: a `tfstyle.losses.PerceptualLoss` (Gram or mean/std style loss) whose targets are set, or will
            be set with `set_content` / `set_styles` below.
        tv_weight: γ.
        tile_size: tile side in pixels (windows are squares of this side, clipped to the image).
        overlap: context around each core, in pixels; exact results need it to cover the receptive field of the
            deepest layer used plus one stride.

    Example:
        >>> objective = TiledObjective(criterion, tv_weight=0.1, tile_size=512, overlap=64)
        >>> objective.set_content(content[None]); objective.set_styles([style[None]])   # tiled targets
        >>> terms, gradient = objective.value_and_gradient(image[None])   # floats, (1, H, W, 3) float32
    """

    def __init__(self, criterion, tv_weight, tile_size=512, overlap=64):
        if not hasattr(criterion, "extractor"):
            raise ValueError(f"TiledObjective needs a single-backbone PerceptualLoss; received "
                             f"{type(criterion).__name__}")
        if isinstance(criterion.style_loss, MMDStyleLoss):
            raise ValueError("the MMD style loss cannot be tiled (it compares sets of feature vectors, which have no "
                             "global statistic that tiles can add up); use style_loss='gram' or 'meanstd', or no "
                             "tiling")
        if not isinstance(criterion.style_loss, (GramStyleLoss, MeanStdStyleLoss)):
            raise ValueError(f"tiling supports the Gram and mean/std style losses; received "
                             f"{type(criterion.style_loss).__name__}")
        if not isinstance(criterion.content_loss, ContentLoss):
            raise ValueError(f"tiling supports ContentLoss; received {type(criterion.content_loss).__name__}")
        _check_no_masks(criterion)
        if int(tile_size) < 1 or int(overlap) < 0:
            raise ValueError(f"tile_size must be positive and overlap non-negative; received "
                             f"tile_size={tile_size}, overlap={overlap}")
        self.criterion = criterion
        self.extractor = criterion.extractor
        self.tv_weight = float(tv_weight)
        self.tile_size = int(tile_size)
        self.overlap = int(overlap)
        self.gram = isinstance(criterion.style_loss, GramStyleLoss)
        self.content_layers = dict(criterion.content_layers)
        self.style_layers = dict(criterion.style_layers)
        self.layers = tuple(name for name in self.extractor.layers
                            if name in self.content_layers or name in self.style_layers)
        self.strides = _strides(self.extractor, self.layers)
        # Targets as PerceptualLoss stores them: content {layer: (features, scale)}, style [(blend, {layer:
        # (representation, scale)})]. Copied from the criterion; `set_content`/`set_styles` compute them tiled.
        self.content_targets = criterion._content_targets
        self.style_targets = criterion._style_targets
        self._layouts = {}
        self._statistics_fn = tf.function(self._statistics)
        self._features_fn = tf.function(self._features)
        self._surrogate_fn = tf.function(self._surrogate_gradient)

    # ----------------------------------------------------------------------------------------------------- layout
    def layout(self, height, width):
        """The `_Layout` (tiles, per-layer offsets and cores) of an image shape, computed once."""
        key = (int(height), int(width))
        if key not in self._layouts:
            self._layouts[key] = _Layout(self.extractor, self.layers, self.strides, *key, self.tile_size,
                                         self.overlap)
        return self._layouts[key]

    def _tiles(self, image, layout):
        for index, tile in enumerate(layout.tiles):
            top, bottom, left, right = tile.window
            cores = layout.cores[index]
            bounds = tf.constant([cores[name] for name in self.layers], tf.int32)
            yield index, tf.constant(image[:, top:bottom, left:right, :]), bounds

    # ---------------------------------------------------------------------------------------- traced tile passes
    def _style_sums(self, features, bounds):
        sums = []
        for name in self.style_layers:
            core = _crop(features[name], bounds[self.layers.index(name)])
            flat = tf.reshape(core, (-1, tf.shape(core)[-1]))
            if self.gram:
                sums.append((tf.matmul(flat, flat, transpose_a=True),))
            else:
                sums.append((tf.reduce_sum(flat, axis=0), tf.reduce_sum(tf.square(flat), axis=0)))
        return sums

    def _statistics(self, tile, bounds):
        return self._style_sums(self.extractor(tile), bounds)

    def _features(self, tile, bounds):
        features = self.extractor(tile)
        return {name: _crop(features[name], bounds[self.layers.index(name)]) for name in self.layers}

    def _surrogate_gradient(self, tile, bounds, directions, content_windows, content_coefficients):
        with tf.GradientTape() as tape:
            tape.watch(tile)
            features = self.extractor(tile)
            sums = self._style_sums(features, bounds)
            surrogate = tf.constant(0.0, tf.float32)
            for layer_sums, layer_directions in zip(sums, directions):
                for value, direction in zip(layer_sums, layer_directions):
                    surrogate += tf.reduce_sum(value * direction)
            content_sums = []
            for index, name in enumerate(self.content_layers):
                core = bounds[self.layers.index(name)]
                difference = _crop(features[name], core) - _crop(content_windows[index], core)
                content_sums.append(tf.reduce_sum(tf.square(difference)))
                surrogate += content_coefficients[index] * content_sums[-1]
        return tape.gradient(surrogate, tile), content_sums

    # ---------------------------------------------------------------------------------------------------- targets
    def set_content(self, image):
        """Compute the content targets of an RGB batch (1, H, W, 3) tile by tile (forward passes only).

        Same targets as `PerceptualLoss.set_content` (exactly, with enough overlap), without its full-size
        forward pass. The criterion itself is not changed.
        """
        image = np.asarray(image, np.float32)
        layout = self.layout(*image.shape[1:3])
        assembled = {name: np.zeros(layout.grid[name], np.float32) for name in self.content_layers}
        for index, tile, bounds in self._tiles(image, layout):
            features = self._features_fn(tile, bounds)
            for name in self.content_layers:
                row0, col0, _, _ = layout.offsets[index][name]
                core = layout.cores[index][name]
                assembled[name][:, row0 + core[0]:row0 + core[1], col0 + core[2]:col0 + core[3], :] = \
                    features[name].numpy()
        targets = {}
        for name, target in assembled.items():
            energy = float(np.mean(np.square(target, dtype=np.float64)))
            scale = 1.0 / energy if self.criterion.normalize and energy > _TINY else 1.0
            targets[name] = (tf.constant(target), scale)
        self.content_targets = targets

    def set_styles(self, images, blend_weights=None):
        """Compute the style targets of style images (1, H_k, W_k, 3) tile by tile, as `PerceptualLoss.set_styles`.

        The global Gram matrices (or means and deviations) are accumulated over tile cores, so large style images
        never need a full-size forward pass. The criterion itself is not changed.
        """
        if blend_weights is None:
            blend_weights = [1.0] * len(images)
        if len(blend_weights) != len(images) or any(w < 0 for w in blend_weights) or sum(blend_weights) <= 0:
            raise ValueError(f"need one non-negative blend weight per style image; received {list(blend_weights)} "
                             f"for {len(images)} images")
        total = float(sum(blend_weights))
        style_targets = []
        for image, blend in zip(images, blend_weights):
            image = np.asarray(image, np.float32)
            sums, layout = self._global_sums(image)
            targets = {}
            for name, layer_sums in zip(self.style_layers, sums):
                count = layout.grid[name][1] * layout.grid[name][2]
                if self.gram:
                    representation = (tf.constant((layer_sums[0] / count)[None], tf.float32),)
                else:
                    mean = layer_sums[0] / count
                    variance = np.maximum(layer_sums[1] / count - mean ** 2, 0.0)
                    std = np.sqrt(variance + self.criterion.style_loss.epsilon)
                    representation = (tf.constant(mean[None], tf.float32), tf.constant(std[None], tf.float32))
                representation = representation[0] if self.gram else representation
                channels = layout.grid[name][3]
                zeros = tf.zeros((1, 1, 1, channels), tf.float32)
                energy = float(np.mean(self.criterion.style_loss.compare(zeros, representation).numpy()))
                scale = 1.0 / energy if self.criterion.normalize and energy > _TINY else 1.0
                targets[name] = (representation, scale)
            style_targets.append((float(blend) / total, targets))
        self.style_targets = style_targets

    def _global_sums(self, image):
        """Pass 1: the style layers' core sums over all tiles, in float64."""
        layout = self.layout(*image.shape[1:3])
        totals = None
        for _, tile, bounds in self._tiles(image, layout):
            sums = [[value.numpy().astype(np.float64) for value in layer] for layer in self._statistics_fn(tile,
                                                                                                          bounds)]
            totals = sums if totals is None else [[a + b for a, b in zip(x, y)] for x, y in zip(totals, sums)]
        return totals, layout

    # ------------------------------------------------------------------------------------------------ evaluation
    def _style_terms(self, sums, layout):
        """Per-layer style terms and their derivatives with respect to the global sums (float64, on the host)."""
        terms, directions = {}, []
        for (name, layer_weight), layer_sums in zip(self.style_layers.items(), sums):
            count = layout.grid[name][1] * layout.grid[name][2]
            channels = layout.grid[name][3]
            value = 0.0
            if self.gram:
                gram = layer_sums[0] / count
                derivative = np.zeros_like(gram)
                for blend, targets in self.style_targets:
                    target, scale = targets[name]
                    coefficient = self.criterion.style_weight * layer_weight * blend * scale
                    difference = gram - np.asarray(target, np.float64)[0]
                    value += coefficient * 0.25 * np.mean(np.square(difference))
                    derivative += coefficient * 0.5 * difference / channels ** 2
                directions.append((tf.constant(derivative / count, tf.float32),))
            else:
                epsilon = self.criterion.style_loss.epsilon
                mean = layer_sums[0] / count
                variance = np.maximum(layer_sums[1] / count - mean ** 2, 0.0)
                std = np.sqrt(variance + epsilon)
                d_mean, d_std = np.zeros_like(mean), np.zeros_like(std)
                for blend, targets in self.style_targets:
                    (target_mean, target_std), scale = targets[name]
                    coefficient = self.criterion.style_weight * layer_weight * blend * scale
                    mean_difference = mean - np.asarray(target_mean, np.float64)[0]
                    std_difference = std - np.asarray(target_std, np.float64)[0]
                    value += coefficient * (np.mean(np.square(mean_difference)) + np.mean(np.square(std_difference)))
                    d_mean += coefficient * 2.0 * mean_difference / channels
                    d_std += coefficient * 2.0 * std_difference / channels
                d_variance = d_std / (2.0 * std)
                d_sum = (d_mean - 2.0 * mean * d_variance) / count
                d_squares = d_variance / count
                directions.append((tf.constant(d_sum, tf.float32), tf.constant(d_squares, tf.float32)))
            terms[f"style/{name}"] = float(value)
        return terms, directions

    def value_and_gradient(self, image):
        """Loss terms and the gradient of `terms["total"]` for one image.

        Args:
            image: numpy (1, H, W, 3) float32 in [0, 1].

        Returns:
            `(terms, gradient)`: `terms` a dict of Python floats with `total`, `content`, `style`, `tv`,
            `content/<layer>` and `style/<layer>` (the same entries as stylize's objective); `gradient` a numpy
            float32 array (1, H, W, 3).
        """
        if self.content_targets is None or self.style_targets is None:
            raise RuntimeError("set the targets first: criterion.set_content/set_styles, or this object's "
                               "set_content/set_styles (tiled)")
        _check_no_masks(self.criterion)
        image = np.asarray(image, np.float32)
        if image.ndim != 4 or image.shape[0] != 1 or image.shape[-1] != 3:
            raise ValueError(f"image must have shape (1, H, W, 3); received {image.shape}")
        sums, layout = self._global_sums(image)
        terms, directions = self._style_terms(sums, layout) if self.style_layers else ({}, [])
        coefficients = []
        for name, layer_weight in self.content_layers.items():
            _, scale = self.content_targets[name]
            count = int(np.prod(layout.grid[name][1:]))
            coefficients.append(self.criterion.content_weight * layer_weight * scale / count)
        coefficients_tensor = tf.constant(coefficients, tf.float32)
        content_targets = [self.content_targets[name][0] for name in self.content_layers]
        content = np.zeros(len(self.content_layers))
        gradient = np.zeros(image.shape, np.float32)
        for index, tile, bounds in self._tiles(image, layout):
            windows = []
            for name, target in zip(self.content_layers, content_targets):
                row0, col0, height, width = layout.offsets[index][name]
                windows.append(target[:, row0:row0 + height, col0:col0 + width, :])
            tile_gradient, content_sums = self._surrogate_fn(tile, bounds, directions, windows, coefficients_tensor)
            top, bottom, left, right = layout.tiles[index].window
            gradient[:, top:bottom, left:right, :] += tile_gradient.numpy()
            content += [float(value) for value in content_sums]
        for index, name in enumerate(self.content_layers):
            terms[f"content/{name}"] = float(coefficients[index] * content[index])
        tv, tv_gradient = total_variation_and_gradient(image)
        gradient += self.tv_weight * tv_gradient
        terms["content"] = sum(terms[f"content/{name}"] for name in self.content_layers)
        terms["style"] = sum(terms[f"style/{name}"] for name in self.style_layers)
        terms["tv"] = self.tv_weight * tv
        terms["total"] = terms["content"] + terms["style"] + terms["tv"]
        return terms, gradient


def _check_no_masks(criterion):
    if getattr(criterion, "_style_masks", None) is not None:
        raise ValueError("style masks are not supported by the tiled objective yet; run without tiling")


def total_variation_and_gradient(image):
    """`tfstyle.ops.total_variation` of a (1, H, W, C) image and its gradient, on the full image (cheap: a few
    image-size arrays, no network)."""
    image = tf.constant(np.asarray(image, np.float32))
    with tf.GradientTape() as tape:
        tape.watch(image)
        value = total_variation(image)[0]
    return float(value), tape.gradient(value, image).numpy()
