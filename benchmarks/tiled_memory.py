"""Benchmark: peak memory and time of the tiled objective against image size, and the memory estimate's accuracy.

Claim measured: with `tfstyle.optimize.tiling.TiledObjective` the peak resident memory of an objective evaluation
(value and gradient) grows about linearly with the pixel count (a few full-image arrays) instead of with the
backbone's activations at full size, so 2048–4096 px outputs fit a 24 GB CPU machine; and
`tfstyle.optimize.memory.estimate_memory` predicts the peak.

Every measurement runs in a fresh subprocess (one at a time) that builds vgg16_hed with stylize's default layers
(content block4_conv2, style block1_conv1 … block5_conv1, Gram loss), sets content and style targets of the same
size (tiled for tiled runs, so no full-size forward pass ever happens), runs `--evaluations` value-and-gradient
evaluations and reports its peak resident memory (VmHWM of /proc/self/status) and the seconds of its last
evaluation (the first one includes tracing). The untiled reference is `tfstyle.optimize.loop.compile_objective`
on the same `PerceptualLoss` + TV. The estimate printed is `estimate_memory(..., optimizer=None)`: the objective
alone, as measured here (an L-BFGS run adds 2·m float64 image-size vectors: the `+lbfgs` column).

Usage:
    python benchmarks/tiled_memory.py                      # tiled 1024, 2048; untiled 512, 1024
    python benchmarks/tiled_memory.py --sizes 1024 2048 4096
    python benchmarks/tiled_memory.py --calibrate          # runtime baseline, untiled and tiled 256/512/768
TFSTYLE_OFFLINE=1 is set by default (vgg16_hed needs no download).
"""

import argparse
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("TFSTYLE_OFFLINE", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _status(field):
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def _picture(size, seed):
    import numpy as np

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    image = np.stack([np.sin(9 * xx + k) * np.cos(7 * yy - 2 * k) for k in range(3)], axis=-1) * 0.35 + 0.5
    image += rng.normal(0, 0.05, image.shape).astype(np.float32)
    return np.clip(image, 0, 1).astype(np.float32)[None]


def worker(mode, size, tile_size, evaluations):
    """Run in a fresh process: build, set targets, evaluate; print one JSON line."""
    import numpy as np

    from tfstyle import ops
    from tfstyle.backbones import FeatureExtractor, get_spec
    from tfstyle.losses import PerceptualLoss

    spec = get_spec("vgg16_hed")
    layers = tuple(layer for layer in spec.layers if layer in (*spec.content_layers, *spec.style_layers))
    extractor = FeatureExtractor("vgg16_hed", layers)
    result = {"mode": mode, "size": size, "tile": tile_size, "setup_peak": _status("VmHWM")}
    if mode == "baseline":
        result["peak"] = _status("VmHWM")
        result["params"] = extractor.model.count_params()
        print(json.dumps(result))
        return
    criterion = PerceptualLoss(extractor, style_weight=10.0)
    content, style, image = _picture(size, 1), _picture(size, 2), _picture(size, 3)
    tv_weight = 0.1
    if mode == "tiled":
        from tfstyle.optimize.tiling import TiledObjective

        objective = TiledObjective(criterion, tv_weight, tile_size=tile_size, overlap=64)
        objective.set_content(content)
        objective.set_styles([style])
        result["tiles"] = len(objective.layout(size, size).tiles)

        def evaluate(x):
            return objective.value_and_gradient(x)
    else:
        import tensorflow as tf

        from tfstyle.optimize.loop import compile_objective

        criterion.set_content(content)
        criterion.set_styles([style])

        def objective_fn(x):
            terms = criterion(x)
            terms["tv"] = tv_weight * ops.total_variation(x)[0]
            terms["total"] = terms["content"] + terms["style"] + terms["tv"]
            return terms

        compiled = compile_objective(objective_fn, image.shape)

        def evaluate(x):
            terms, gradient = compiled(tf.constant(x))
            return {k: float(v) for k, v in terms.items()}, gradient.numpy()
    result["targets_peak"] = _status("VmHWM")
    seconds = []
    for _ in range(evaluations):
        start = time.perf_counter()
        terms, gradient = evaluate(image)
        seconds.append(time.perf_counter() - start)
        image = np.clip(image - 0.01 * np.sign(gradient), 0, 1).astype(np.float32)
    result.update(peak=_status("VmHWM"), seconds=seconds, total=terms["total"])
    print(json.dumps(result))


def run(mode, size, tile_size, evaluations):
    command = [sys.executable, __file__, "--worker", mode, str(size), str(tile_size or 0), str(evaluations)]
    output = subprocess.run(command, capture_output=True, text=True, check=False)
    lines = [line for line in output.stdout.splitlines() if line.startswith("{")]
    if output.returncode != 0 or not lines:
        raise SystemExit(f"worker {mode} {size} failed:\n{output.stderr[-3000:]}")
    return json.loads(lines[-1])


def report(rows):
    from tfstyle.optimize.memory import estimate_memory, format_bytes

    print(f"{'mode':8} {'size':>5} {'tile':>5} {'tiles':>5} {'peak':>10} {'estimate':>10} {'est/peak':>8} "
          f"{'+lbfgs':>10} {'s/eval':>7} {'s/MP':>6} {'MB/MP':>7}")
    for row in rows:
        size, tile = row["size"], row["tile"] or None
        megapixels = size * size / 1e6
        estimate = estimate_memory("vgg16_hed", size, size, tile_size=tile, optimizer=None)
        with_lbfgs = estimate_memory("vgg16_hed", size, size, tile_size=tile, optimizer="lbfgs")
        seconds = row["seconds"][-1]
        print(f"{row['mode']:8} {size:5d} {tile or '-':>5} {row.get('tiles', 1):5d} {format_bytes(row['peak']):>10} "
              f"{format_bytes(estimate):>10} {estimate / row['peak']:8.2f} {format_bytes(with_lbfgs):>10} "
              f"{seconds:7.1f} {seconds / megapixels:6.1f} {row['peak'] / 2 ** 20 / megapixels:7.0f}",
              flush=True)


def main(raw_args=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1024, 2048], help="tiled output sizes")
    parser.add_argument("--untiled", type=int, nargs="*", default=[512, 1024], help="untiled reference sizes")
    parser.add_argument("--tile", type=int, default=512)
    parser.add_argument("--evaluations", type=int, default=1)
    parser.add_argument("--calibrate", action="store_true")
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(raw_args)
    if args.worker:
        mode, size, tile, evaluations = args.worker
        worker(mode, int(size), int(tile), int(evaluations))
        return
    if args.calibrate:
        baseline = run("baseline", 0, 0, 0)
        print(f"runtime after building vgg16_hed: {baseline['peak'] / 2 ** 20:.0f} MiB peak, "
              f"weights {4 * baseline['params'] / 2 ** 20:.0f} MiB", flush=True)
        plan = [("untiled", s, 0) for s in (256, 512, 768)] + [("tiled", s, 256) for s in (512, 768)]
    else:
        plan = [("untiled", s, 0) for s in args.untiled] + [("tiled", s, args.tile) for s in args.sizes]
    rows = []
    for mode, size, tile in plan:
        rows.append(run(mode, size, tile, args.evaluations if mode == "tiled" or size > 256 else 2))
        print(json.dumps(rows[-1]), flush=True)
    report(rows)


if __name__ == "__main__":
    main()
