"""Benchmark: the speed of tfstyle's AdaIN path against the bare networks and against `tfstyle.stylize`.

Claims measured (issue 4; DESIGN.md, "Performance: how it is measured"):
  1. Stylizing one image (512 px by default) with `tfstyle.adain`, the way the CLI does it, costs at most 1.10x
     the bare encoder+decoder forward pass of the same networks on the same inputs. Two tfstyle calls are timed:
     *new style*: `tfstyle.adain.transfer(model, content, style, max_size=1024)` (a fresh `AdaINStylizer`: the
     style is encoded in the call, as in `tfstyle adain CONTENT STYLE -o OUT`), and *cached style*: one
     `AdaINStylizer` called again and again (its style features are cached after the first call, as for a folder
     or a video). References: *bare* = one `tf.function` over the Keras calls `encoder(content)`,
     `encoder(style)`, the AdaIN layer and `decoder` on the content as the encoder sees it (reflection padded by
     the default 16 px `border`: 544 px for 512), output fetched to NumPy; *bare, cached style* = the same
     with the style features computed once beforehand (the like-for-like reference of the cached call).
     A breakdown (`--no-breakdown` skips it) times the encoder and the decoder alone, called eagerly
     (`model.encode`, `model.decode`) and inside a `tf.function`: the reason `AdaINStylizer` traces them.
  2. AdaIN is at least 100x faster than `tfstyle.stylize` on the same pair at the same size (its default
     settings, backbone vgg16_hed: L-BFGS, 500 steps). A full run takes 30+ minutes at 512 px on these machines, so
     `--stylize-steps N` iterations are timed and the call is **extrapolated** to the default step count:
     setup + first iteration (tracing) + (steps - 1) x mean later iteration + finish; `--stylize-full` runs all
     steps and measures the call. Before the timed call, a short stylize call at 128 px builds the cached
     backbone (as the AdaIN side excludes building its model). The AdaIN reference of this section is the
     new-style `transfer` call, run once after every timed stylize iteration (A, B, A, B ...), inside the
     stylize call's step callback; that time is excluded from the stylize timings.
  3. Images per second through the AdaIN path for batches (1, 4, 8 at 256 and 512 px by default):
     an `AdaINStylizer` with its style cached, given a (B, H, W, 3) batch (what `transfer_folder` and
     `transfer_video` do with `--batch-size B`), against the bare cached-style pass on the same batch.

Method: everything runs in one process. Each contender is traced and called once before timing. Rounds run one
call of every contender of a section, in an order rotated from round to round (A, B, A, B ...); a ratio is
computed within each round (calls seconds apart) and reported as the median over rounds, with the min-max of the
per-repetition medians. Absolute times are context only (2 shared CPU cores). Inputs: `sample:astronaut` (content)
and `sample:waves` (style), both resized to the size's long side with `tfstyle.io.resize_image`.

The decoder: `--decoder NAME|PATH` (default vgg16_hed, the shipped name). When no shipped decoder of that name is
present, an untrained decoder behind the same encoder is used (printed): the speed does not depend on the weights.

Usage:
    python benchmarks/adain_speed.py                   # default run (about 30 min on 2 cores shared with training)
    python benchmarks/adain_speed.py --batch-px 256    # claim 3 at 256 px only (15 min on 2 busy cores)
    python benchmarks/adain_speed.py --quick           # smoke run: 256 px, 1 repetition (2-2.5 min on 2 busy cores)
    python benchmarks/adain_speed.py --stylize-full    # run stylize's 500 steps (30 min to 2 h more at 512 px)
    python benchmarks/adain_speed.py --markdown docs/benchmarks.md    # also write the section there
TFSTYLE_OFFLINE=1 is set by default (the offline backbone vgg16_hed needs no download).
"""

import argparse
import contextlib
import datetime
import os
import platform
import shlex
import sys
import time

os.environ.setdefault("TFSTYLE_OFFLINE", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

SECTION_BEGIN = "<!-- adain_speed:begin -->"
SECTION_END = "<!-- adain_speed:end -->"
CLI_MAX_SIZE = 1024  # `tfstyle adain --max-size` default (no effect at these sizes, passed as the CLI does)
WARMUP_SIZE = 128  # the stylize call that builds the cached backbone before the timed one
TARGET_OVERHEAD = 1.10
TARGET_SPEEDUP = 100.0


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=512, help="long side of claims 1 and 2 in pixels (default 512)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per repetition in claim 1 (default 2)")
    parser.add_argument("--repeats", type=int, default=3, help="repetitions in claim 1 (default 3)")
    parser.add_argument("--decoder", default="vgg16_hed",
                        help="shipped decoder name or .weights.h5 path (default vgg16_hed; an untrained decoder "
                             "is used when no shipped decoder of that name exists)")
    parser.add_argument("--content", default="sample:astronaut")
    parser.add_argument("--style", default="sample:waves")
    parser.add_argument("--stylize-backbone", default="vgg16_hed", help="backbone of tfstyle.stylize (vgg16_hed)")
    parser.add_argument("--stylize-steps", type=int, default=10,
                        help="stylize iterations timed before extrapolating to the default count (default 10)")
    parser.add_argument("--stylize-full", action="store_true",
                        help="run stylize's full default step count and measure it (30+ min at 512 px)")
    parser.add_argument("--no-stylize", dest="stylize", action="store_false", help="skip claim 2")
    parser.add_argument("--no-breakdown", dest="breakdown", action="store_false",
                        help="skip the eager-vs-traced breakdown of claim 1 (encoder and decoder alone)")
    parser.add_argument("--batch-px", default="256,512", help="sizes of claim 3, comma-separated (default 256,512)")
    parser.add_argument("--batch-sizes", default="1,4,8", help="batch sizes of claim 3 (default 1,4,8)")
    parser.add_argument("--batch-rounds", type=int, default=2,
                        help="rounds per (size, batch) in claim 3, one per repetition (default 2)")
    parser.add_argument("--no-batches", dest="batches", action="store_false", help="skip claim 3")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 256 px, 1 repetition x 2 rounds, 3 stylize steps, batches 1,4 at 128 px")
    parser.add_argument("--markdown", metavar="PATH",
                        help="also write the report into PATH, replacing its adain_speed section (or appending)")
    args = parser.parse_args(argv)
    if args.quick:
        args.size, args.rounds, args.repeats, args.stylize_steps = 256, 2, 1, 3
        args.batch_px, args.batch_sizes, args.batch_rounds = "128", "1,4", 1
    args.batch_px = [int(s) for s in args.batch_px.split(",") if s.strip()]
    args.batch_sizes = [int(s) for s in args.batch_sizes.split(",") if s.strip()]
    if min(args.rounds, args.repeats, args.stylize_steps, args.batch_rounds, *args.batch_sizes) < 1:
        parser.error("need --rounds, --repeats, --stylize-steps, --batch-rounds and batch sizes >= 1")
    if args.stylize_steps < 2:
        parser.error("need --stylize-steps >= 2 (the first iteration includes tracing)")
    if min([args.size, *args.batch_px]) < 32:
        parser.error("sizes must be at least 32 px")
    return args


# --------------------------------------------------------------------------------------------------------------
# Model, inputs and contenders
# --------------------------------------------------------------------------------------------------------------


def load_model(name_or_path):
    """The AdaINModel of a decoder; an untrained decoder when no shipped decoder of that name exists.

    Returns `(model, note)`; `note` says which decoder was used.
    """
    from tfstyle.adain import ENCODER_BACKBONES, AdaINModel, resolve_decoder
    from tfstyle.adain.pretrained import is_decoder_path
    from tfstyle.errors import WeightsError

    try:
        return resolve_decoder(name_or_path), f"decoder `{name_or_path}` (trained weights)"
    except WeightsError as error:
        if is_decoder_path(name_or_path):  # a file the user named must exist: no silent stand-in
            raise SystemExit(f"adain_speed: {error}") from None
        backbone = name_or_path if name_or_path in ENCODER_BACKBONES else "vgg16_hed"
        print(f"NOTE: {error}\nNOTE: using an UNTRAINED decoder behind the {backbone} encoder (relu4_1, width 1.0): "
              "the speed does not depend on the weights, the images are not meaningful.", flush=True)
        return AdaINModel(backbone), f"untrained decoder behind {backbone} (no shipped `{name_or_path}` decoder)"


class Inputs:
    """The content and style images, loaded once and resized per size."""

    def __init__(self, content, style):
        from tfstyle import load_image

        self.content_full, self.style_full = load_image(content), load_image(style)

    def at(self, size):
        from tfstyle.io import resize_image

        return resize_image(self.content_full, long_side=size), resize_image(self.style_full, long_side=size)


def timed(run):
    """A zero-argument call turned into one that returns its seconds."""

    def call():
        start = time.perf_counter()
        run()
        return time.perf_counter() - start

    return call


def network_input(stylizer, contents):
    """The (B, H, W, 3) contents as the stylizer's encoder sees them: reflection padded by its `border` (16 px by
    default, against the decoder's edge frame) and up to a multiple of the downsampling factor. The bare passes
    take this input, so that both sides run the networks on the same pixels."""
    (top, bottom), (left, right) = stylizer._padding(*contents.shape[1:3])
    return np.pad(contents, ((0, 0), (top, bottom), (left, right), (0, 0)), mode="reflect")


def bare_pass(model, content_shape, style_shape):
    """The bare forward pass g(AdaIN(f(c), f(s))) as one tf.function over the model's Keras calls."""
    import tensorflow as tf

    layer = model.encoder_layer

    @tf.function(input_signature=[tf.TensorSpec(content_shape, tf.float32), tf.TensorSpec(style_shape, tf.float32)])
    def forward(content, style):
        t = model.adain([model.encoder(content, training=False)[layer], model.encoder(style, training=False)[layer]])
        return model.decoder(t, training=False)

    return forward


def bare_pass_cached(model, content_shape, style_features):
    """The bare forward pass with the style features computed beforehand: g(AdaIN(f(c), fixed f(s)))."""
    import tensorflow as tf

    layer = model.encoder_layer

    @tf.function(input_signature=[tf.TensorSpec(content_shape, tf.float32),
                                  tf.TensorSpec(style_features.shape, tf.float32)])
    def forward(content, style_features):
        t = model.adain([model.encoder(content, training=False)[layer], style_features])
        return model.decoder(t, training=False)

    return forward


def style_features_of(model, style):
    return model.encode(style[None])[model.encoder_layer]


def single_contenders(model, content, style):
    """Claim 1's contenders on one (content, style) pair, each already traced and called once."""
    from tfstyle.adain import AdaINStylizer, transfer

    stylizer = AdaINStylizer(model, style, max_size=CLI_MAX_SIZE)
    content_batch, style_batch = network_input(stylizer, content[None]), style[None]
    forward = bare_pass(model, content_batch.shape, style_batch.shape)
    features = style_features_of(model, style)
    forward_cached = bare_pass_cached(model, content_batch.shape, features)
    contenders = {
        "bare": lambda: forward(content_batch, style_batch).numpy(),
        "new_style": lambda: transfer(model, content, style, max_size=CLI_MAX_SIZE),
        "bare_cached": lambda: forward_cached(content_batch, features).numpy(),
        "cached": lambda: stylizer(content),
    }
    for run in contenders.values():
        run()  # trace (tf.function) or first eager call (kernels, the stylizer's style cache)
    return {name: timed(run) for name, run in contenders.items()}


def breakdown_contenders(model, content, style):
    """The encoder and the decoder alone, called eagerly (as `AdaINStylizer` calls them) and in a tf.function."""
    import tensorflow as tf

    layer = model.encoder_layer
    content_batch = content[None]
    target = model.adain([model.encode(content_batch)[layer], style_features_of(model, style)])

    @tf.function
    def encoder(images):
        return model.encoder(images, training=False)[layer]

    @tf.function
    def decoder(features):
        return model.decoder(features, training=False)

    contenders = {
        "encoder_eager": lambda: model.encode(content_batch)[layer].numpy(),
        "encoder_traced": lambda: encoder(content_batch).numpy(),
        "decoder_eager": lambda: model.decode(target).numpy(),
        "decoder_traced": lambda: decoder(target).numpy(),
    }
    for run in contenders.values():
        run()
    return {name: timed(run) for name, run in contenders.items()}


def batch_contenders(model, content, style, batch):
    """Claim 3's contenders: a cached-style AdaINStylizer on a batch, and the bare cached-style pass."""
    from tfstyle.adain import AdaINStylizer

    contents = np.repeat(content[None], batch, axis=0)
    features = style_features_of(model, style)
    stylizer = AdaINStylizer(model, style, max_size=CLI_MAX_SIZE)
    padded = network_input(stylizer, contents)
    forward_cached = bare_pass_cached(model, padded.shape, features)
    contenders = {
        "bare_cached": lambda: forward_cached(padded, features).numpy(),
        "cached": lambda: stylizer(contents),
    }
    for run in contenders.values():
        run()
    return {name: timed(run) for name, run in contenders.items()}


def interleave(contenders, rounds, per_rep):
    """Run `rounds` rounds; each calls every contender once, in an order rotated from round to round."""
    names = list(contenders)
    samples = {name: [] for name in names}
    for r in range(rounds):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            samples[name].append(contenders[name]())
        if (r + 1) % per_rep == 0:
            shown = "  ".join(f"{name} {np.median(values[-per_rep:]):.2f}" for name, values in samples.items())
            print(f"  repetition {(r + 1) // per_rep}: s/call  {shown}", flush=True)
    return {name: np.asarray(values) for name, values in samples.items()}


def ratio(samples, name, reference, per_rep):
    """(median over rounds, min, max of the per-repetition medians) of name/reference taken within each round."""
    per_round = samples[name] / samples[reference]
    per_repetition = np.median(per_round.reshape(-1, per_rep), axis=1)
    return float(np.median(per_round)), float(per_repetition.min()), float(per_repetition.max())


# --------------------------------------------------------------------------------------------------------------
# Claims
# --------------------------------------------------------------------------------------------------------------


def claim_single(args, model, inputs):
    size = args.size
    content, style = inputs.at(size)
    rounds = args.rounds * args.repeats
    print(f"\n== claim 1, {size} px: one image, tfstyle vs the bare pass; {args.repeats} repetitions x "
          f"{args.rounds} rounds ==", flush=True)
    start = time.perf_counter()
    contenders = single_contenders(model, content, style)
    print(f"  setup (trace and one call of each) {time.perf_counter() - start:.0f} s", flush=True)
    samples = interleave(contenders, rounds, args.rounds)
    del contenders
    result = {
        "size": size, "content_shape": content.shape, "style_shape": style.shape, "rounds": rounds,
        "seconds": {name: float(np.median(values)) for name, values in samples.items()},
        "ratios": {
            "new_style/bare": ratio(samples, "new_style", "bare", args.rounds),
            "cached/bare_cached": ratio(samples, "cached", "bare_cached", args.rounds),
            "cached/bare": ratio(samples, "cached", "bare", args.rounds),
        },
        "breakdown": None,
    }
    if args.breakdown:
        print(f"  breakdown: encoder and decoder alone, eager vs traced; {args.repeats} rounds", flush=True)
        samples = interleave(breakdown_contenders(model, content, style), args.repeats, 1)
        result["breakdown"] = {
            "rounds": args.repeats,
            "seconds": {name: float(np.median(values)) for name, values in samples.items()},
            "ratios": {part: ratio(samples, f"{part}_eager", f"{part}_traced", 1) for part in ("encoder", "decoder")},
        }
    return result


def claim_stylize(args, model, inputs):
    """tfstyle.stylize (defaults, backbone vgg16_hed) timed iteration by iteration, AdaIN calls in between."""
    import tfstyle
    from tfstyle.adain import transfer
    from tfstyle.optimize.callbacks import Callback
    from tfstyle.optimize.pyramid import default_schedule
    from tfstyle.optimize.stylize import DEFAULTS

    size, backbone = args.size, args.stylize_backbone
    content, style = inputs.at(size)
    levels, counts = default_schedule(size)
    # the default run is coarse to fine; its cost in iterations at `size`, a step costing about its pixel count
    default_steps = max(2, round(sum(count * (level / size) ** 2 for level, count in zip(levels, counts))))
    steps = default_steps if args.stylize_full else args.stylize_steps
    interleaved = min(args.stylize_steps, steps)
    print(f"\n== claim 2, {size} px: tfstyle.stylize (defaults, backbone {backbone}, {DEFAULTS['optimizer']}) "
          f"{'all ' + str(steps) if args.stylize_full else steps} iterations, an AdaIN call after each of the "
          f"first {interleaved} ==", flush=True)
    start = time.perf_counter()
    tfstyle.stylize(content, style, size=WARMUP_SIZE, steps=1, backbone=backbone, progress=False, verbose=False)
    warm = time.perf_counter() - start
    print(f"  warm-up stylize call at {WARMUP_SIZE} px (builds the cached backbone) {warm:.0f} s", flush=True)
    run_adain = timed(lambda: transfer(model, content, style, max_size=CLI_MAX_SIZE))
    run_adain()  # warm at this size (the claim-1 calls may have run at another size)

    record = {"steps": [], "adain": [], "in_callback": 0.0}

    class Interleave(Callback):
        def on_begin(self, planned):
            self.released = record["begin"] = time.perf_counter()

        def on_step(self, info):
            now = time.perf_counter()
            record["steps"].append(now - self.released)
            if len(record["adain"]) < interleaved:
                record["adain"].append(run_adain())
            if len(record["steps"]) % 10 == 0 or len(record["steps"]) <= interleaved:
                print(f"  iteration {len(record['steps'])}: {record['steps'][-1]:.2f} s"
                      + (f", AdaIN call {record['adain'][-1]:.2f} s" if len(record["steps"]) <= interleaved else ""),
                      flush=True)
            self.released = time.perf_counter()
            record["in_callback"] += self.released - now

    call_start = time.perf_counter()
    result = tfstyle.stylize(content, style, size=size, steps=steps, backbone=backbone, progress=False,
                             verbose=False, callbacks=[Interleave()])
    call_end = time.perf_counter()
    durations = np.asarray(record["steps"])
    done = len(durations)
    if done < 2:
        raise RuntimeError(f"stylize stopped after {done} iteration(s) ({result.info['reason']}): cannot extrapolate")
    setup = record["begin"] - call_start
    finish = call_end - (record["begin"] + durations.sum() + record["in_callback"])
    later = durations[1:interleaved]  # the iterations measured next to AdaIN calls, tracing excluded
    extrapolated = setup + durations[0] + (default_steps - 1) * float(later.mean()) + finish
    adain = np.asarray(record["adain"])
    summary = {
        "size": size, "backbone": backbone, "default_steps": default_steps, "timed_steps": interleaved,
        "optimizer": DEFAULTS["optimizer"], "steps_done": done, "reason": result.info["reason"],
        "setup": setup, "first": float(durations[0]), "later_mean": float(later.mean()),
        "later_median": float(np.median(later)), "finish": finish, "extrapolated": extrapolated,
        "adain": float(np.median(adain)), "adain_min": float(adain.min()), "adain_max": float(adain.max()),
        "iteration_per_adain": float(np.median(durations[1:interleaved] / adain[1:interleaved])),
        "warmup": warm,
    }
    summary["speedup_extrapolated"] = extrapolated / summary["adain"]
    summary["speedup_extrapolated_range"] = (extrapolated / summary["adain_max"], extrapolated / summary["adain_min"])
    if args.stylize_full:
        measured = call_end - call_start - record["in_callback"]
        summary["measured"] = measured
        summary["speedup_measured"] = measured / summary["adain"]
    return summary


def claim_batches(args, model, inputs):
    results = []
    for size in args.batch_px:
        content, style = inputs.at(size)
        for batch in args.batch_sizes:
            print(f"\n== claim 3, {size} px, batch {batch}: cached-style AdaINStylizer vs the bare cached-style pass; "
                  f"{args.batch_rounds} rounds ==", flush=True)
            contenders = batch_contenders(model, content, style, batch)
            samples = interleave(contenders, args.batch_rounds, 1)
            seconds = {name: float(np.median(values)) for name, values in samples.items()}
            results.append({"size": size, "shape": content.shape, "batch": batch, "rounds": args.batch_rounds,
                            "seconds": seconds,
                            "images_per_second": {name: batch / value for name, value in seconds.items()},
                            "ratio": ratio(samples, "cached", "bare_cached", 1)})
            del contenders
    return results


# --------------------------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------------------------


def fmt_ratio(value):
    mid, low, high = value
    return f"**{mid:.2f}×** ({low:.2f}–{high:.2f})"


def fmt_s(seconds):
    return f"{seconds:.2f} s" if seconds < 100 else f"{seconds / 60:.1f} min"


def verdict(value, target, at_most=True):
    ok = value <= target if at_most else value >= target
    return "met" if ok else "NOT met"


def machine_lines():
    import keras
    import tensorflow as tf

    import tfstyle

    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",) * 3
    return [
        f"- machine: {os.cpu_count()} CPU cores ({cpu}), {platform.system()} {platform.machine()}, no GPU used; "
        f"load average at start {load[0]:.1f} (shared machine)",
        f"- software: Python {platform.python_version()}, TensorFlow {tf.__version__}, Keras {keras.__version__}, "
        f"NumPy {np.__version__}, tfstyle {tfstyle.__version__}",
    ]


def shape_text(shape):
    return f"{shape[1]}×{shape[0]}"


def report(args, decoder_note, single, stylized, batches, started, machine, command):
    lines = [
        "## AdaIN speed: tfstyle vs the bare networks and vs `tfstyle.stylize` (`benchmarks/adain_speed.py`)",
        "",
        f"- date: {started:%Y-%m-%d %H:%M}; command: `{command}`",
        *machine,
        f"- {decoder_note}; content `{args.content}`, style `{args.style}`, each resized to the size's long side. "
        "All contenders run in one process, interleaved call by call (A, B, A, B ...), each traced and called once "
        "before timing; a ratio is computed within each round and shown as **median over rounds** (min–max of the "
        "per-repetition medians). Absolute times are medians, context only.",
    ]
    if single:
        s, r = single["seconds"], single["ratios"]
        lines += [
            "",
            f"Claim 1, one image at {single['size']} px (content {shape_text(single['content_shape'])}, style "
            f"{shape_text(single['style_shape'])}), {single['rounds']} rounds. *new style*: "
            f"`tfstyle.adain.transfer(model, content, style, max_size={CLI_MAX_SIZE})` (a new `AdaINStylizer`, the "
            "CLI's path: the style is encoded in the call); *cached style*: one `AdaINStylizer` called repeatedly "
            "(style features cached). *bare*: one `tf.function` over `encoder(content)`, `encoder(style)`, the AdaIN "
            "layer and `decoder`, output fetched to NumPy; *bare, cached style*: the same with the style features "
            "computed beforehand.",
            "",
            "| size | bare | tfstyle new style | bare, cached style | tfstyle cached style | new style / bare "
            "| cached / bare, cached style | cached / bare |",
            "|---|---|---|---|---|---|---|---|",
            f"| {single['size']} | {fmt_s(s['bare'])} | {fmt_s(s['new_style'])} | {fmt_s(s['bare_cached'])} | "
            f"{fmt_s(s['cached'])} | {fmt_ratio(r['new_style/bare'])} | {fmt_ratio(r['cached/bare_cached'])} | "
            f"{fmt_ratio(r['cached/bare'])} |",
            "",
            f"Target ≤ {TARGET_OVERHEAD:.2f}× the bare pass doing the same work: new style "
            f"{r['new_style/bare'][0]:.2f}× ({verdict(r['new_style/bare'][0], TARGET_OVERHEAD)}); cached style "
            f"{r['cached/bare_cached'][0]:.2f}× ({verdict(r['cached/bare_cached'][0], TARGET_OVERHEAD)}). "
            f"Against the full bare pass (style encoded) the cached call takes {r['cached/bare'][0]:.2f}×.",
        ]
        b = single["breakdown"]
        if b:
            t = b["seconds"]
            lines += [
                "",
                "Why `AdaINStylizer` runs the encoder and decoder as `tf.function`s (traced once per model): called "
                "eagerly, as it did before 2026-11-26, each Keras network is slower than traced (graph optimisations "
                f"such as fused convolution + bias + ReLU). Each network alone at {single['size']} px, eager vs "
                f"traced, {b['rounds']} rounds (one image):",
                "",
                "| network | eager | traced | eager / traced |",
                "|---|---|---|---|",
                *(f"| {part} | {fmt_s(t[part + '_eager'])} | {fmt_s(t[part + '_traced'])} | "
                  f"{fmt_ratio(b['ratios'][part])} |" for part in ("encoder", "decoder")),
            ]
    if stylized:
        z = stylized
        how = (f"timed for {z['timed_steps']} iterations and **extrapolated** to the default {z['default_steps']}: "
               f"setup + first iteration (tracing) + {z['default_steps'] - 1} × mean of iterations 2–"
               f"{z['timed_steps']} + finish")
        lines += [
            "",
            f"Claim 2, `tfstyle.stylize` at {z['size']} px with its defaults (backbone {z['backbone']}, "
            f"{z['optimizer']}, {z['default_steps']} steps), {how}; a warm-up call at {WARMUP_SIZE} px built its "
            f"cached backbone first. The AdaIN reference (new style, as in claim 1) ran after each of the first "
            f"{z['timed_steps']} iterations, inside stylize's step callback, and is excluded from stylize's times.",
            "",
            "| size | stylize setup | first iteration | later iteration (mean / median) | finish "
            "| stylize call, **extrapolated** | AdaIN new style (min–max) | iteration / AdaIN call "
            "| speed-up, **extrapolated** |",
            "|---|---|---|---|---|---|---|---|---|",
            f"| {z['size']} | {fmt_s(z['setup'])} | {fmt_s(z['first'])} | {fmt_s(z['later_mean'])} / "
            f"{fmt_s(z['later_median'])} | {fmt_s(z['finish'])} | {fmt_s(z['extrapolated'])} | {fmt_s(z['adain'])} "
            f"({z['adain_min']:.2f}–{z['adain_max']:.2f} s) | {z['iteration_per_adain']:.2f}× | "
            f"**{z['speedup_extrapolated']:.0f}×** ({z['speedup_extrapolated_range'][0]:.0f}–"
            f"{z['speedup_extrapolated_range'][1]:.0f}) |",
            "",
        ]
        if "measured" in z:
            lines += [f"Full run (`--stylize-full`): {z['steps_done']} iterations ({z['reason']}), measured "
                      f"{fmt_s(z['measured'])} (AdaIN calls excluded): speed-up **{z['speedup_measured']:.0f}×** "
                      f"measured (extrapolated from the first {z['timed_steps']}: {z['speedup_extrapolated']:.0f}×).",
                      ""]
        best = z.get("speedup_measured", z["speedup_extrapolated"])
        lines += [f"Target ≥ {TARGET_SPEEDUP:.0f}×: {best:.0f}× "
                  f"({'measured' if 'measured' in z else 'extrapolated'}; "
                  f"{verdict(best, TARGET_SPEEDUP, at_most=False)}). An extrapolation assumes all "
                  f"{z['default_steps']} iterations run (L-BFGS may converge earlier) and cost like the timed ones."]
    if batches:
        lines += [
            "",
            "Claim 3, throughput: an `AdaINStylizer` with its style cached, given a (B, H, W, 3) batch of the content "
            "(as `transfer_folder` / `transfer_video` with `--batch-size B`), vs the bare cached-style pass on the "
            "same batch. Images per second from the median call time.",
            "",
            "| size | batch | rounds | tfstyle call | tfstyle images/s | bare images/s | tfstyle / bare (time) |",
            "|---|---|---|---|---|---|---|",
        ]
        for b in batches:
            lines.append(f"| {shape_text(b['shape'])} | {b['batch']} | {b['rounds']} | {fmt_s(b['seconds']['cached'])} "
                         f"| {b['images_per_second']['cached']:.2f} | {b['images_per_second']['bare_cached']:.2f} | "
                         f"{fmt_ratio(b['ratio'])} |")
    return "\n".join(lines) + "\n"


def write_markdown(path, text):
    section = f"{SECTION_BEGIN}\n{text}{SECTION_END}\n"
    old = ""
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            old = f.read()
    if SECTION_BEGIN in old and SECTION_END in old:
        head, rest = old.split(SECTION_BEGIN, 1)
        tail = rest.split(SECTION_END, 1)[1].lstrip("\n")
        new = head + section + ("\n" + tail if tail else "")
    else:
        new = (old.rstrip("\n") + "\n\n" if old else "# Benchmarks\n\n") + section
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(new)
    os.replace(tmp, path)


def main(argv=None):
    args = parse_args(argv)
    started = datetime.datetime.now()
    command = " ".join(["python", *map(shlex.quote, [os.path.relpath(sys.argv[0]), *sys.argv[1:]])])
    import tensorflow as tf  # noqa: F401  (import before timing anything)

    machine = machine_lines()
    print("\n".join(machine), flush=True)
    wall = time.perf_counter()
    model, decoder_note = load_model(args.decoder)
    inputs = Inputs(args.content, args.style)
    single = claim_single(args, model, inputs)
    stylized = claim_stylize(args, model, inputs) if args.stylize else None
    batches = claim_batches(args, model, inputs) if args.batches and args.batch_px and args.batch_sizes else []
    machine.append(f"- total benchmark wall time {(time.perf_counter() - wall) / 60:.1f} min; load average at end "
                   f"{os.getloadavg()[0]:.1f}")
    text = report(args, decoder_note, single, stylized, batches, started, machine, command)
    print("\n" + text, flush=True)
    if args.markdown:
        write_markdown(args.markdown, text)
        print(f"wrote {args.markdown}", flush=True)


if __name__ == "__main__":
    main()
