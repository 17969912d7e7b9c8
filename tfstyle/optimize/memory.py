"""An estimate of the peak memory of an image optimization, untiled or tiled, before running it.

`estimate_memory` adds up what the process holds at its peak:

- the runtime: Python, TensorFlow and Keras after start-up, plus the backbone's weights (float32);
- the image and the optimizer's state on the full image: L-BFGS-B keeps `2·m` correction vectors of the image's
  size in float64 plus about 10 more work vectors (iterate, gradient, bounds, search direction, …); Adam keeps the
  image, its two moments and the gradient in float32;
- the targets: the content layers' features of the full image (float32);
- with tiling, the full-image gradient and image copies the tiled objective adds up (float32);
- the activations of one forward and backward pass of the pruned backbone at the (tile) size: the sum of the
  output sizes of all its layers × 4 bytes × `BACKWARD_FACTOR`, which accounts for the backward pass' gradients
  and TensorFlow's temporaries and was calibrated on the peak resident memory (VmHWM) of real runs
  (`benchmarks/tiled_memory.py --calibrate`).

Calibration (2-core CPU, TensorFlow 2.x, Keras 3, vgg16_hed with stylize's default layers): see `CALIBRATION`
below. What it means for large outputs (vgg16_hed, 512 px tiles): 2048 px peaks at about 2.5 GiB for the
objective alone, 2.8 GiB with Adam, 7.2 GiB with L-BFGS m = 20; at 4096 px 4.3 GiB (measured: 4.35 GiB), 5.2 GiB
with Adam, 11.8 GiB with L-BFGS m = 5 and 23.1 GiB with m = 20: at 4096 px L-BFGS's float64 history, not the
network, dominates, so use Adam or a small m there.
"""

import math

# Resident memory of the runtime, without the backbone's weights: Python, TensorFlow, Keras, a traced objective and
# the allocator's retained pools (calibrated: see CALIBRATION).
RUNTIME_BYTES = 920 * 2 ** 20
# Peak bytes of one forward + backward pass per byte of the pruned network's layer outputs (float32), calibrated.
BACKWARD_FACTOR = 3.4
# Float64 work vectors L-BFGS-B keeps besides its 2·m correction pairs; float32 image copies for Adam.
_LBFGS_EXTRA_VECTORS = 10
_ADAM_VECTORS = 5
# Full-image float32 arrays besides the optimizer's in a tiled run: the gradient the tiled objective accumulates,
# the image it receives, the TV gradient, tile-assembly buffers, and the run's own copies (content, style, init,
# the loop's last good image). Calibrated on the 4096 px run (4458 MiB measured); 3 was enough up to 2048 px,
# where the runtime dominates.
_TILED_VECTORS = 10
# Measured peaks (VmHWM, MiB) of one process building vgg16_hed (default layers, Gram loss), setting targets of
# the image's size (tiled for tiled runs) and running 1–2 value-and-gradient evaluations, and this module's
# estimate with optimizer=None (benchmarks/tiled_memory.py, --calibrate for the first five rows). Building vgg16_hed
# alone peaks at 783 MiB (38 MiB of weights). A straight line through the untiled 512 and 768 px peaks against the
# activation bytes gives the factor 3.4 (slope) and the runtime (intercept). Estimates are within ±5 % up to 768 px
# untiled and between -1 % and +17 % tiled (the high side at 2048 px); untiled at 1024 px the factor is nearer 2.9
# and the estimate 13 % high (on the safe side).
CALIBRATION = {
    # (mode, size, tile): (measured MiB, estimated MiB)
    ("untiled", 256, None): (1261, 1214),
    ("untiled", 512, None): (2030, 1983),
    ("untiled", 768, None): (3289, 3263),
    ("untiled", 1024, None): (4466, 5057),
    ("tiled", 512, 256): (1179, 1250),
    ("tiled", 768, 256): (1191, 1298),
    ("tiled", 1024, 512): (2004, 2127),
    ("tiled", 2048, 512): (2211, 2583),
    ("tiled", 4096, 512): (4458, 4407),
}


def _extractor(extractor_or_backbone_name):
    if isinstance(extractor_or_backbone_name, str):
        from tfstyle.backbones import FeatureExtractor, get_spec

        spec = get_spec(extractor_or_backbone_name)
        layers = tuple(layer for layer in spec.layers if layer in (*spec.content_layers, *spec.style_layers))
        return FeatureExtractor(spec.name, layers, weights=None)
    return extractor_or_backbone_name


def activation_bytes(extractor, height, width):
    """Bytes of the outputs of every layer of the extractor's pruned network for one (1, H, W, 3) float32 input."""
    import keras

    model = extractor.model
    total = 4 * height * width * 3  # the input (preprocessing output)
    for network in (layer for layer in model.layers if isinstance(layer, keras.Model)):
        outputs = [layer.output for layer in network.layers if not isinstance(layer, keras.layers.InputLayer)]
        probe = keras.Model(network.input, outputs)
        shapes = probe.compute_output_shape((1, height, width, 3))
        total += sum(4 * math.prod(shape) for shape in shapes)
    return total


def estimate_memory(extractor_or_backbone_name, height, width, tile_size=None, optimizer="lbfgs", lbfgs_memory=20,
                    overlap=64):
    """Estimated peak resident memory, in bytes, of optimizing an `height`×`width` image.

    Args:
        extractor_or_backbone_name: a `FeatureExtractor` (its layers), or a registry name (its default layers).
        height, width: image size in pixels.
        tile_size: None for the untiled objective, else the `TiledObjective` tile side.
        optimizer: `"lbfgs"`, `"adam"`, or None for the objective's evaluation alone (no optimizer state).
        lbfgs_memory: L-BFGS correction pairs m.
        overlap: the tiled objective's overlap (a tile never exceeds the image).

    Returns:
        int bytes.

    Example:
        >>> format_bytes(estimate_memory("vgg16_hed", 4096, 4096, tile_size=512, optimizer="adam"))
        '5.24 GiB'
    """
    extractor = _extractor(extractor_or_backbone_name)
    pixels = height * width * 3
    total = RUNTIME_BYTES + 4 * extractor.model.count_params()
    if optimizer == "lbfgs":
        total += 8 * pixels * (2 * lbfgs_memory + _LBFGS_EXTRA_VECTORS)
    elif optimizer == "adam":
        total += 4 * pixels * _ADAM_VECTORS
    elif optimizer is not None:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose lbfgs or adam")
    shapes = extractor.model.compute_output_shape((1, height, width, 3))
    spec = extractor.spec
    total += sum(4 * math.prod(shapes[name]) for name in extractor.layers if name in spec.content_layers)
    if tile_size is None:
        tile_height, tile_width = height, width
    else:
        from tfstyle.optimize.tiling import _strides, split_axis

        total += 4 * pixels * _TILED_VECTORS
        # the largest window: the last one of an axis may be up to one stride longer than the tile
        align = max(_strides(extractor, extractor.layers).values())
        tile_height, tile_width = (max(end - start for start, end in split_axis(length, tile_size, overlap, align)[0])
                                   for length in (height, width))
    total += BACKWARD_FACTOR * activation_bytes(extractor, tile_height, tile_width)
    return int(total)


def format_bytes(count):
    """`1536` → `'1.5 KiB'`, `3.2e9` → `'2.98 GiB'`."""
    count = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(count) < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.3g} {unit}"
        count /= 1024
    return f"{count:.3g} TiB"
