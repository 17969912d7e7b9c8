"""The CycleGAN family compared at equal training time on unpaired benchmarks whose answer is known (survey Fig. 5).

Four variants learn photo → drawing from unpaired folders (`scripts/make_unpaired_benchmark.py`: trainA = photo
crops, trainB = crops of *other* photos through a filter) and are scored on held-out photos x against the ground
truth filter(x):

- `resnet_lsgan`: CycleGAN (Zhu et al. 2017): ResNet generator, PatchGAN, LSGAN.
- `unet_lsgan`: the same with the U-Net generator.
- `unet_attention_lsgan`: U-Net with self-attention in the generator's decoder and in the PatchGAN (Li & Qi 2023).
- `resnet_wgangp`: the ResNet CycleGAN trained as a WGAN-GP (the GAN comparison of Shi & Zhu 2020).

Equal training time on a shared, noisy CPU: a wall-clock budget per variant is unfair when the variants run at
different moments, so the script first *calibrates*: it builds all variants in one process, runs a few warm-up
steps of each (tracing), then times chunks of steps round-robin (rotating the order every round) and takes the
median seconds per step of each variant. Each variant then trains `budget / seconds_per_step` steps. The
calibration is written once (`calibration.json`) and reused by every rerun, so an interrupted comparison continues
with the same step targets: rerunning the same command resumes each unfinished run from its checkpoint and skips
finished ones.

Scores on the held-out crops (per filter): mean PSNR and SSIM of G(x) against filter(x); KID on normalised
vgg16_hed block4_conv3 features (`tfstyle.distribution_metrics`), outputs for the even-numbered test crops against
the ground truth of the odd-numbered ones, mean ± std over 100 random half-subsets; "content match", how often an
output is nearer (relu4_2 content distance) its own photo than another test photo (1 always, 0.5 chance); and the
colour error ΔE between the mean CIELAB colours of G(x) and filter(x). Baselines: the unchanged photo (identity)
and the filter (oracle).

Writes `cyclegan_comparison.md` (tables, settings, a results paragraph generated from the numbers), loss curves
(PNG) and an image grid per filter (JPEG) into `--docs` (default: `OUT/report`), and every number into
`OUT/results.json`.

Usage:
    python scripts/cyclegan_comparison.py --out /work/runs/cyclegan_cmp --filters sketch ink --minutes 30 \\
        --crop-size 64 --docs docs/
    python scripts/cyclegan_comparison.py --out /tmp/cmp --quick     # tiny networks, 32 px: checks the wiring
"""

import argparse
import dataclasses
import datetime
import importlib.util
import json
import math
import os
import pathlib
import shlex
import sys
import time

os.environ.setdefault("TFSTYLE_OFFLINE", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

SCRIPTS = pathlib.Path(__file__).resolve().parent
VARIANTS = ("resnet_lsgan", "unet_lsgan", "unet_attention_lsgan", "resnet_wgangp")
LABELS = {
    "resnet_lsgan": "ResNet + LSGAN (CycleGAN)",
    "unet_lsgan": "U-Net + LSGAN",
    "unet_attention_lsgan": "U-Net + attention + LSGAN",
    "resnet_wgangp": "ResNet + WGAN-GP",
}
REFERENCES = {
    "resnet_lsgan": "Zhu et al. 2017",
    "unet_lsgan": "Zhu et al. 2017 (U-Net generator option)",
    "unet_attention_lsgan": "Li & Qi 2023",
    "resnet_wgangp": "Gulrajani et al. 2017; Shi & Zhu 2020",
}
SHORT_LABELS = {
    "resnet_lsgan": "ResNet+LSGAN",
    "unet_lsgan": "U-Net+LSGAN",
    "unet_attention_lsgan": "U-Net+attn+LSGAN",
    "resnet_wgangp": "ResNet+WGAN-GP",
}
BASELINES = ("identity", "oracle")
BASELINE_LABELS = {"identity": "identity (unchanged photo)", "oracle": "oracle (the filter itself)"}
CONTENT_LAYER = "block4_conv2"  # relu4_2, the content layer of tfstyle's metrics
KID_SUBSETS = 100
GRID_ROWS = 6
MAX_IMAGE_BYTES = 300_000
CALIBRATION_FILE = "calibration.json"
RUN_RECORD = "comparison.json"
DOC_NAME = "cyclegan_comparison.md"
# "keeps content": a content match at least this fraction of the filter's own margin above chance (0.5)
CONTENT_MARGIN = 0.5
# below this part of the KID distance closed by the best variant, the report says the runs are still far off
FAR_FROM_TARGET = 0.25


@dataclasses.dataclass(frozen=True)
class Settings:
    """Everything that defines the comparison; the calibration is only reused under equal settings."""

    crop_size: int
    batch_size: int
    width: int
    resnet_blocks: int
    unet_depth: int
    attention_factor: int
    discriminator_layers: int
    pool_size: int
    cycle_weight: float
    identity_weight: float
    critic_steps: int
    gp_weight: float
    minutes: float
    seed: int
    warmup_steps: int
    chunk_seconds: float
    rounds: int
    min_steps: int

    @property
    def budget_seconds(self):
        return self.minutes * 60.0


@dataclasses.dataclass(frozen=True)
class Variant:
    """One member of the family: the `train_cyclegan` options that define it."""

    name: str
    generator: str
    generator_options: dict
    discriminator_options: dict
    objective: str
    critic_steps: int | None = None
    gp_weight: float | None = None

    @property
    def label(self):
        return LABELS[self.name]

    def objective_instance(self):
        from tfstyle.losses.adversarial import get_adversarial

        options = {}
        if self.critic_steps is not None:
            options["critic_steps"] = self.critic_steps
        if self.gp_weight is not None:
            options["gradient_penalty_weight"] = self.gp_weight
        return get_adversarial(self.objective, **options)

    def config(self):
        return {"generator": self.generator, "generator_options": self.generator_options,
                "discriminator_options": self.discriminator_options, "objective": self.objective,
                "critic_steps": self.critic_steps, "gp_weight": self.gp_weight}


def build_variants(settings, names=VARIANTS):
    """The variants' network and objective options for `settings` (the same data, crop and batch for all)."""
    discriminator = {"n_layers": settings.discriminator_layers, "filters": settings.width}
    resnet = {"blocks": settings.resnet_blocks, "filters": settings.width}
    unet = {"depth": settings.unet_depth, "filters": settings.width, "max_filters": 8 * settings.width}
    table = {
        "resnet_lsgan": Variant("resnet_lsgan", "resnet", resnet, discriminator, "lsgan"),
        "unet_lsgan": Variant("unet_lsgan", "unet", unet, discriminator, "lsgan"),
        "unet_attention_lsgan": Variant("unet_attention_lsgan", "unet_attention",
                                        {**unet, "attention": [settings.attention_factor]},
                                        {**discriminator, "attention": True}, "lsgan"),
        "resnet_wgangp": Variant("resnet_wgangp", "resnet", resnet, discriminator, "wgan-gp",
                                 critic_steps=settings.critic_steps, gp_weight=settings.gp_weight),
    }
    return [table[name] for name in names]


# --- arguments ------------------------------------------------------------------------------------------------------


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=pathlib.Path, required=True,
                        help="work folder: benchmarks, runs, calibration.json, results.json (rerun to resume)")
    parser.add_argument("--filters", nargs="+", default=["sketch", "ink"], help="benchmark filters (sketch ink)")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS,
                        help="variants to compare (default: all four)")
    parser.add_argument("--minutes", type=float, default=None,
                        help="calibrated training time per variant and filter, in minutes (default 30; --quick: "
                             "0.01)")
    parser.add_argument("--crop-size", type=int, default=None, help="training and test crop side (64; --quick: 32)")
    parser.add_argument("--batch-size", type=int, default=1, help="images per step (1, as in CycleGAN)")
    parser.add_argument("--width", type=int, default=None,
                        help="filters of the first conv of every generator and discriminator (32; --quick: 4)")
    parser.add_argument("--resnet-blocks", type=int, default=None, help="ResNet residual blocks (6; --quick: 1)")
    parser.add_argument("--unet-depth", type=int, default=None,
                        help="U-Net downsamplings (default log2(crop size): a 1×1 bottleneck)")
    parser.add_argument("--attention-factor", type=int, default=8,
                        help="self-attention at 1/FACTOR of the crop side in the U-Net decoder (8)")
    parser.add_argument("--discriminator-layers", type=int, default=None, help="PatchGAN n_layers (3; --quick: 2)")
    parser.add_argument("--pool-size", type=int, default=50, help="image pool (50)")
    parser.add_argument("--critic-steps", type=int, default=5, help="WGAN-GP critic updates per generator update (5)")
    parser.add_argument("--gp-weight", type=float, default=10.0, help="WGAN-GP gradient penalty λ (10)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the benchmarks and of every run (0)")
    parser.add_argument("--warmup-steps", type=int, default=None, help="calibration: untimed steps per variant (5)")
    parser.add_argument("--chunk-seconds", type=float, default=None,
                        help="calibration: about this long a timed chunk, in whole critic cycles (10; --quick: 0)")
    parser.add_argument("--rounds", type=int, default=None, help="calibration: round-robin rounds (8; --quick: 1)")
    parser.add_argument("--checkpoint-minutes", type=float, default=2.0,
                        help="checkpoint every this many calibrated minutes of training (2)")
    parser.add_argument("--docs", type=pathlib.Path, default=None,
                        help=f"write {DOC_NAME} and images/cyclegan_*.png|jpg here (default OUT/report)")
    parser.add_argument("--photos", type=pathlib.Path, action="append", metavar="DIR",
                        help="photo folder for the benchmarks (make_unpaired_benchmark.py --photos), repeatable")
    parser.add_argument("--skimage", default=None, help="make_unpaired_benchmark.py --skimage (default: its own)")
    parser.add_argument("--crops-per-photo", type=int, default=None,
                        help="make_unpaired_benchmark.py --crops-per-photo (40; --quick: 4)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument("--quick", action="store_true",
                        help="tiny networks, 32 px crops, a few steps: checks that everything is wired")
    args = parser.parse_args(argv)
    quick = args.quick
    defaults = {"minutes": 0.01 if quick else 30.0, "crop_size": 32 if quick else 64, "width": 4 if quick else 32,
                "resnet_blocks": 1 if quick else 6, "discriminator_layers": 2 if quick else 3,
                "warmup_steps": 5, "chunk_seconds": 0.0 if quick else 10.0, "rounds": 1 if quick else 8,
                "crops_per_photo": 4 if quick else 40}
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.unet_depth is None:
        args.unet_depth = max(1, int(math.log2(args.crop_size & -args.crop_size)))
    return args


def make_settings(args):
    from tfstyle.errors import OptionError

    for name in ("crop_size", "batch_size", "width", "unet_depth", "discriminator_layers", "critic_steps",
                 "warmup_steps", "rounds", "crops_per_photo"):
        if getattr(args, name) < 1:
            raise OptionError(f"--{name.replace('_', '-')} must be at least 1; Received: {getattr(args, name)}")
    if not args.minutes > 0:
        raise OptionError(f"--minutes must be > 0; Received: {args.minutes}")
    if not args.chunk_seconds >= 0:
        raise OptionError(f"--chunk-seconds must be >= 0; Received: {args.chunk_seconds}")
    if args.crop_size % 2 ** args.unet_depth:
        raise OptionError(f"--crop-size {args.crop_size} is not a multiple of 2^unet_depth = {2 ** args.unet_depth}")
    return Settings(crop_size=args.crop_size, batch_size=args.batch_size, width=args.width,
                    resnet_blocks=args.resnet_blocks, unet_depth=args.unet_depth,
                    attention_factor=args.attention_factor, discriminator_layers=args.discriminator_layers,
                    pool_size=args.pool_size, cycle_weight=10.0, identity_weight=0.5,
                    critic_steps=args.critic_steps, gp_weight=args.gp_weight, minutes=float(args.minutes),
                    seed=args.seed, warmup_steps=args.warmup_steps, chunk_seconds=args.chunk_seconds,
                    rounds=args.rounds, min_steps=args.critic_steps)


# --- benchmarks -----------------------------------------------------------------------------------------------------


def _benchmark_script():
    spec = importlib.util.spec_from_file_location("make_unpaired_benchmark", SCRIPTS / "make_unpaired_benchmark.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def ensure_benchmark(folder, filter_name, args, log):
    """The benchmark of `filter_name` in `folder`: reused when its manifest matches, else built."""
    from tfstyle.errors import OptionError

    manifest_path = folder / "manifest.json"
    if manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text())
        found = (manifest.get("filter", {}).get("name"), manifest.get("crop_size"), manifest.get("seed"))
        if found != (filter_name, args.crop_size, args.seed):
            raise OptionError(f"{folder} holds a benchmark of filter {found[0]}, {found[1]} px, seed {found[2]}; "
                              f"this comparison needs {filter_name}, {args.crop_size} px, seed {args.seed}: use "
                              f"another --out")
        log(f"[{filter_name}] benchmark reused: {folder}")
        return manifest
    argv = ["--out", str(folder), "--filter", filter_name, "--crop-size", str(args.crop_size),
            "--crops-per-photo", str(args.crops_per_photo), "--seed", str(args.seed), "--overwrite"]
    if args.quick:  # a few small photos are enough to check the wiring
        argv += ["--photo-size", str(max(args.crop_size, 48)), "--test-photos", "1"]
    for photos in args.photos or []:
        argv += ["--photos", str(photos)]
    if args.skimage is not None:
        argv += ["--skimage", args.skimage]
    log(f"[{filter_name}] building the benchmark: make_unpaired_benchmark.py {shlex.join(argv)}")
    if _benchmark_script().main(argv) != 0:
        raise OptionError(f"make_unpaired_benchmark.py failed for filter {filter_name} (see above)")
    return json.loads(manifest_path.read_text())


# --- calibration ----------------------------------------------------------------------------------------------------


def calibration_fingerprint(settings, variants):
    return {"settings": dataclasses.asdict(settings), "variants": {v.name: v.config() for v in variants}}


def load_or_calibrate(out, settings, variants, bench, log):
    """The per-variant step targets: read from `calibration.json`, or measured once and written there."""
    from tfstyle.errors import OptionError
    from tfstyle.io import save_json

    path = out / CALIBRATION_FILE
    fingerprint = json.loads(json.dumps(calibration_fingerprint(settings, variants)))
    if path.is_file():
        saved = json.loads(path.read_text())
        differences = [key for key, value in fingerprint["settings"].items()
                       if saved["settings"].get(key) != value]
        differences += [name for name, config in fingerprint["variants"].items()
                        if saved["variants"].get(name) != config]
        if differences:
            raise OptionError(f"{path} was calibrated with other settings ({', '.join(differences)} differ); rerun "
                              f"with the same options to continue, or use another --out")
        log(f"calibration reused: {path} (steps {saved['steps']})")
        return saved
    timing = time_steps(variants, settings, bench, log)
    seconds = {name: float(np.median(values)) for name, values in timing["chunks"].items()}
    steps = {name: max(settings.min_steps, round(settings.budget_seconds / value)) for name, value in seconds.items()}
    record = {**fingerprint, "method": "round-robin", "seconds_per_step": seconds, "steps": steps, **timing,
              "budget_seconds": settings.budget_seconds,
              "clamped": sorted(name for name in steps if steps[name] == settings.min_steps)}
    out.mkdir(parents=True, exist_ok=True)
    save_json(path, record)
    log("calibration: " + ", ".join(f"{name} {seconds[name]:.3f} s/step → {steps[name]} steps" for name in steps))
    return record


def time_steps(variants, settings, bench, log):
    """Step timings for the medians: warm-up, then `rounds` × (one chunk of every variant), the order rotating.

    The models are built as `train_cyclegan` builds them (same networks, objective, pools, Adam settings, data
    stream) and run the model's own `train_step` traced as one `tf.function`, as the training loop does. After the
    warm-up (tracing) of all of them, one untimed chunk of `critic_steps` steps each settles the process and sizes
    the timed chunks: about `chunk_seconds` each, in whole critic cycles. Wall and process CPU time are recorded.
    """
    import gc

    import keras
    import tensorflow as tf

    from tfstyle.cyclegan import CycleGAN
    from tfstyle.data import two_folder_dataset

    runners, warmup = {}, {}
    load_before = os.getloadavg()
    for variant in variants:
        keras.utils.set_random_seed(settings.seed)
        dataset = two_folder_dataset(bench / "trainA", bench / "trainB", settings.crop_size, settings.crop_size,
                                     settings.batch_size, keys=("a", "b"), seed=settings.seed, cache=True)
        model = CycleGAN(variant.generator, variant.generator_options, variant.discriminator_options,
                         objective=variant.objective_instance(), cycle_weight=settings.cycle_weight,
                         identity_weight=settings.identity_weight, pool_size=settings.pool_size,
                         image_shape=(settings.crop_size, settings.crop_size, 3), seed=settings.seed)
        model.compile()  # Adam with the objective's recommended settings, as train_cyclegan
        # autograph=False: as train_cyclegan (the step has no Python control flow on tensors)
        step = tf.function(model.train_step, autograph=False)
        runners[variant.name] = (model, step, iter(dataset))
        warmup[variant.name] = _run_steps(runners[variant.name], settings.warmup_steps)[0]
        log(f"calibration: {variant.name} traced and warmed up in {warmup[variant.name]:.1f} s")
    # The untimed chunk comes after all the tracing: in trials, the first steps after other models were traced
    # ran up to 30x slower.
    gc.collect()
    cycle = settings.critic_steps
    chunk_steps = {}
    for name, runner in runners.items():
        per_step = _run_steps(runner, cycle)[0] / cycle
        chunk_steps[name] = cycle * max(1, math.ceil(settings.chunk_seconds / per_step / cycle))
    wall = {name: [] for name in runners}
    cpu = {name: [] for name in runners}
    order = list(runners)
    for index in range(settings.rounds):
        rotated = order[index % len(order):] + order[:index % len(order)]
        for name in rotated:
            seconds, cpu_seconds = _run_steps(runners[name], chunk_steps[name])
            wall[name].append(seconds / chunk_steps[name])
            cpu[name].append(cpu_seconds / chunk_steps[name])
        log(f"calibration round {index + 1}/{settings.rounds}: "
            + ", ".join(f"{name} {wall[name][-1]:.3f}" for name in order) + " s/step")
    start = time.perf_counter()
    del runners
    gc.collect()
    log(f"calibration: models released in {time.perf_counter() - start:.1f} s")
    return {"chunks": wall, "cpu_chunks": cpu, "chunk_steps": chunk_steps, "warmup_seconds": warmup,
            "warmup_steps": settings.warmup_steps, "rounds": settings.rounds,
            "load_average": {"before": list(load_before), "after": list(os.getloadavg())},
            "cpu_count": os.cpu_count(), "date": datetime.datetime.now().isoformat(timespec="seconds")}


def _run_steps(runner, count):
    """Run `count` training steps; returns (wall seconds, process CPU seconds)."""
    _, step, stream = runner
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        logs = step(next(stream))
        {key: float(value) for key, value in logs.items()}  # waits for the step, as the training loop does
    return time.perf_counter() - wall, time.process_time() - cpu


# --- training -------------------------------------------------------------------------------------------------------


def train_variant(variant, settings, bench, workdir, steps, checkpoint_minutes, progress, log, tag):
    """Train (or continue, or skip when done) one variant; returns its record (status, steps, wall time, history).

    Wall time is the sum of `train_cyclegan`'s training-loop seconds over every call (tracing and checkpoints
    included); between checkpoints it is also written after each checkpoint, so a killed run keeps what it did.
    """
    import tensorflow as tf

    from tfstyle.cyclegan import train_cyclegan
    from tfstyle.errors import OptionError
    from tfstyle.io import save_json

    record_path = workdir / RUN_RECORD
    record = json.loads(record_path.read_text()) if record_path.is_file() else {
        "variant": variant.name, "target_steps": steps, "steps": 0, "seconds": 0.0, "calls": [], "status": "new"}
    if record["target_steps"] != steps:
        raise OptionError(f"{record_path} targets {record['target_steps']} steps but calibration.json {steps}: the "
                          f"run folder belongs to another calibration; use another --out")
    if record["status"] in ("done", "diverged"):
        log(f"{tag} {variant.name}: {record['status']} earlier ({record['steps']} steps, {record['seconds']:.0f} s)")
        return record
    workdir.mkdir(parents=True, exist_ok=True)
    resume = (workdir / "checkpoints").is_dir() and tf.train.latest_checkpoint(str(workdir / "checkpoints"))
    every = math.ceil(steps * checkpoint_minutes * 60.0 / settings.budget_seconds) if checkpoint_minutes > 0 else 0
    every = every if 0 < every < steps else 0
    base_seconds = record["seconds"]
    started = time.perf_counter()

    def on_step(step, losses):
        if every and step % every == 0:  # the checkpoint of this step is written: so is the time it took
            record.update(steps=step, seconds=base_seconds + time.perf_counter() - started, status="running")
            save_json(record_path, record)

    log(f"{tag} {variant.name}: {'resuming' if resume else 'training'} to {steps} steps"
        + (f" (checkpoint every {every})" if every else ""))
    result = train_cyclegan(
        bench / "trainA", bench / "trainB", workdir, generator=variant.generator,
        generator_options=variant.generator_options, discriminator_options=variant.discriminator_options,
        objective=variant.objective, critic_steps=variant.critic_steps, gp_weight=variant.gp_weight,
        cycle_weight=settings.cycle_weight, identity_weight=settings.identity_weight, pool_size=settings.pool_size,
        steps=steps, batch_size=settings.batch_size, crop_size=settings.crop_size, resize_to=settings.crop_size,
        checkpoint_every=every, log_every=max(1, steps // 200), images_every=every or steps,
        resume=bool(resume), seed=settings.seed, cache=True, progress=progress, verbose=True, on_step=on_step)
    record["calls"].append({"from": result.resumed_from, "to": result.steps, "seconds": result.seconds,
                            "reason": result.reason})
    record["seconds"] = base_seconds + result.seconds
    record["steps"] = result.steps
    record["status"] = {"done": "done", "diverged": "diverged"}.get(result.reason, "interrupted")
    record["history"] = result.history
    save_json(record_path, record)
    log(f"{tag} {variant.name}: {result.reason} at step {result.steps}, {record['seconds']:.0f} s of training")
    if result.reason == "interrupted":
        raise KeyboardInterrupt
    return record


# --- evaluation -----------------------------------------------------------------------------------------------------


class Scorer:
    """The feature network shared by every score: vgg16_hed with block4_conv3 (KID) and relu4_2 (content)."""

    def __init__(self):
        from tfstyle.backbones.feature_extractor import FeatureExtractor
        from tfstyle.distribution_metrics import DEFAULT_BACKBONE, DEFAULT_LAYER, FeatureNetwork

        self.extractor = FeatureExtractor(DEFAULT_BACKBONE, [DEFAULT_LAYER, CONTENT_LAYER])
        self.network = FeatureNetwork(self.extractor, layer=DEFAULT_LAYER)

    def content_features(self, images, batch=32):
        """(N, H·W·C) relu4_2 features of the images, flattened."""
        return np.concatenate([
            np.asarray(self.extractor(np.asarray(images[start:start + batch], np.float32))[CONTENT_LAYER],
                       np.float64).reshape(len(images[start:start + batch]), -1)
            for start in range(0, len(images), batch)])


def content_match(features, photo_features):
    """How often each output is nearer (relu4_2) its own photo than another test photo: 1 always, 0.5 chance.

    With D[i, j] = mean((F_i − P_j)²) / mean(P_j²), tfstyle's relative content distance of output i to photo j,
    the score is the mean over i of the fraction of photos j ≠ i with D[i, j] > D[i, i] (ties count half): the
    area under the ROC curve of telling an output's own photo from the others by content distance.
    """
    f, p = np.asarray(features, np.float64), np.asarray(photo_features, np.float64)
    squared = (f ** 2).sum(1)[:, None] + (p ** 2).sum(1)[None, :] - 2.0 * f @ p.T
    distance = squared / np.maximum((p ** 2).sum(1), 1e-12)[None, :]
    own = np.diag(distance)[:, None]
    count = len(distance)
    if count < 2:
        return None
    farther = (distance > own).sum(1) + 0.5 * ((distance == own).sum(1) - 1)
    return float((farther / (count - 1)).mean())


def load_test_set(bench):
    import tfstyle

    names = sorted(path.name for path in (bench / "testA").glob("*.png"))
    photos = np.stack([tfstyle.load_image(bench / "testA" / name) for name in names])
    truth = np.stack([tfstyle.load_image(bench / "testB" / name) for name in names])
    return names, photos, truth


def evaluate_filter(bench, outputs, scorer):
    """Scores of every output set (`{row: (N, H, W, 3)}` for the test crops in order) against the ground truth."""
    from skimage.color import rgb2lab

    from tfstyle import metrics
    from tfstyle.distribution_metrics import kernel_inception_distance

    names, photos, truth = load_test_set(bench)
    count = len(names)
    reference = scorer.network(truth[1::2])
    half = min(len(truth[0::2]), len(truth[1::2]))
    subset_size = max(2, half // 2)
    photo_features = scorer.content_features(photos)
    truth_colour = np.stack([rgb2lab(image).reshape(-1, 3).mean(axis=0) for image in truth])
    scores, per_image = {}, {}
    for row, images in outputs.items():
        images = np.clip(np.asarray(images, np.float32), 0.0, 1.0)
        psnr = np.array([metrics.psnr(x, y) for x, y in zip(images, truth)])
        ssim = np.array([metrics.ssim(x, y) for x, y in zip(images, truth)])
        kid = kernel_inception_distance(scorer.network(images[0::2]), reference, subsets=KID_SUBSETS,
                                        subset_size=subset_size, seed=0)
        own = scorer.content_features(images)
        colour = np.linalg.norm(np.stack([rgb2lab(image).reshape(-1, 3).mean(axis=0) for image in images])
                                - truth_colour, axis=1)
        finite = np.isfinite(psnr).all()
        scores[row] = {
            "psnr": float(psnr.mean()) if finite else None, "ssim": float(ssim.mean()),
            "kid": kid.mean, "kid_std": kid.std, "content_match": content_match(own, photo_features),
            "colour_error": float(colour.mean()),
            "range": [float(images.min()), float(images.max())],
        }
        per_image[row] = {"psnr": psnr, "ssim": ssim, "colour_error": colour}
    protocol = {"test_crops": count, "kid_outputs": len(truth[0::2]), "kid_references": len(truth[1::2]),
                "kid_subsets": KID_SUBSETS, "kid_subset_size": subset_size, "network": scorer.network.label,
                "content_layer": CONTENT_LAYER}
    return scores, per_image, protocol


def translate_test_set(workdir, photos):
    """G_AB of a run (its exported generator_ab.keras) on the test photos, in [0, 1]."""
    from tfstyle.cyclegan.pretrained import load_generator
    from tfstyle.cyclegan.translate import translate

    return translate(load_generator(workdir, direction="ab"), photos, batch_size=16)


def paired_difference(a, b):
    """Mean of a − b over paired values and its standard error."""
    difference = np.asarray(a, np.float64) - np.asarray(b, np.float64)
    difference = difference[np.isfinite(difference)]
    if len(difference) < 2:
        return float(difference.mean()) if len(difference) else 0.0, float("inf")
    return float(difference.mean()), float(difference.std(ddof=1) / math.sqrt(len(difference)))


# --- figures --------------------------------------------------------------------------------------------------------


def plot_losses(path, records, variants):
    """Loss curves from the runs' histories: LSGAN terms, cycle L1 of all, WGAN-GP critic terms."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = dict(zip(VARIANTS, ("tab:blue", "tab:orange", "tab:green", "tab:red")))
    lsgan = [v for v in variants if v.objective != "wgan-gp" and records.get(v.name, {}).get("history")]
    wgan = [v for v in variants if v.objective == "wgan-gp" and records.get(v.name, {}).get("history")]
    rows = 1 + bool(wgan)
    figure, axes = plt.subplots(rows, 3, figsize=(12, 3.3 * rows), squeeze=False)

    def series(variant, *keys):
        history = records[variant.name]["history"]
        return np.asarray(history["step"]), np.sum([np.asarray(history[key], np.float64) for key in keys], axis=0)

    panels = [(axes[0][0], lsgan, ("adv_ab", "adv_ba"), "LSGAN generators: adversarial (AB + BA)"),
              (axes[0][1], lsgan + wgan, ("cycle_a", "cycle_b"), "cycle L1 (A + B), all variants"),
              (axes[0][2], lsgan, ("d_a", "d_b"), "LSGAN discriminators (A + B)")]
    if wgan:
        panels += [(axes[1][0], wgan, ("adv_ab", "adv_ba"), "WGAN-GP generators: −E[D(fake)] (AB + BA)"),
                   (axes[1][1], wgan, ("d_a", "d_b"), "WGAN-GP critics: E[D(fake)] − E[D(real)]"),
                   (axes[1][2], wgan, ("gp_a", "gp_b"), "WGAN-GP gradient penalty (λ included)")]
    for axis, members, keys, title in panels:
        for variant in members:
            steps, values = series(variant, *keys)
            colour = colours[variant.name]
            smooth = moving_average(values, max(1, len(values) // 25))
            if len(smooth) < len(values):  # the logged means faintly, their moving average on top
                axis.plot(steps, values, color=colour, alpha=0.25, linewidth=0.8)
            axis.plot(steps[len(steps) - len(smooth):], smooth, color=colour, label=variant.label, linewidth=1.4)
        axis.set_title(title, fontsize=9)
        axis.set_xlabel("training step", fontsize=8)
        axis.tick_params(labelsize=7)
        axis.grid(alpha=0.3)
        if members:
            axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)
    return path


def moving_average(values, window):
    """Means over `window` consecutive values ("valid": `len(values) − window + 1` of them)."""
    values = np.asarray(values, np.float64)
    if window <= 1 or len(values) < window:
        return values
    return np.convolve(values, np.ones(window) / window, mode="valid")


def save_small_image(path, image):
    """Save a JPEG under MAX_IMAGE_BYTES (lowering the quality when needed), or a PNG as it is."""
    import tfstyle

    for quality in (88, 80, 70, 60, 50):
        tfstyle.save_image(path, image, quality=quality)
        if pathlib.Path(path).stat().st_size <= MAX_IMAGE_BYTES or pathlib.Path(path).suffix == ".png":
            break
    return path


def grid_rows(count, rows=GRID_ROWS):
    """Indices of up to `rows` test crops spread evenly over the (name-sorted, so photo-grouped) test set."""
    return sorted(set(np.linspace(0, count - 1, min(rows, count)).round().astype(int).tolist()))


# --- the report -----------------------------------------------------------------------------------------------------


def fmt(value, digits=3, unit=""):
    if value is None:
        return "–"
    if isinstance(value, float) and math.isinf(value):
        return "∞"
    return f"{value:.{digits}g}{unit}" if digits else f"{value}{unit}"


def score_table(result, variants, calibration):
    """Markdown rows: variants, then the two baselines."""
    from tfstyle.experiments import markdown_table

    rows = []
    for variant in variants:
        run = result["runs"].get(variant.name, {})
        score = result["scores"].get(variant.name)
        wall = run.get("seconds")
        rows.append({
            "variant": variant.label,
            "steps": f"{run.get('steps', 0)} / {calibration['steps'][variant.name]}",
            "calibrated s/step": f"{calibration['seconds_per_step'][variant.name]:.3f}",
            "train wall time": f"{wall / 60:.1f} min" if wall else "–",
            "wall s/step": f"{wall / run['steps']:.3f}" if wall and run.get("steps") else "–",
            **_score_cells(score),
            "status": run.get("status", "not run"),
        })
    for name in BASELINES:
        rows.append({"variant": BASELINE_LABELS[name], "steps": "–", "calibrated s/step": "–",
                     "train wall time": "–", "wall s/step": "–", **_score_cells(result["scores"][name]),
                     "status": "baseline"})
    return markdown_table(rows)


def _score_cells(score):
    if score is None:
        return dict.fromkeys(("PSNR (dB) ↑", "SSIM ↑", "KID ↓", "content match ↑", "colour ΔE ↓"), "–")
    return {"PSNR (dB) ↑": "∞" if score["psnr"] is None else f"{score['psnr']:.2f}",
            "SSIM ↑": f"{score['ssim']:.3f}",
            "KID ↓": f"{score['kid']:.3f} ± {score['kid_std']:.3f}",
            "content match ↑": _fixed(score["content_match"]),
            "colour ΔE ↓": f"{score['colour_error']:.1f}"}


SCORE_KEYS = {"psnr": (" dB", 2), "ssim": ("", 3), "kid": ("", 3)}
"""The three scores winners are called on: unit and digits."""


@dataclasses.dataclass
class Winner:
    """The best variant on one score, the runner-up, the lead, its error measure and whether the lead is clear."""

    best: str
    second: str | None
    lead: float
    error: float
    clear: bool


def score_winners(result, variants):
    """`{key: Winner}` for PSNR, SSIM (higher is better) and KID (lower), over the trained variants.

    PSNR and SSIM leads are clear when the mean paired difference to the runner-up is more than twice its
    standard error; a KID lead when it is more than the two rows' combined subset spread. Empty without a trained
    variant; with one, it wins clearly with no runner-up.
    """
    scores, per_image = result["scores"], result["per_image"]
    trained = [v.name for v in variants if scores.get(v.name) is not None]
    winners = {}
    for key in SCORE_KEYS:
        if not trained:
            break
        ranked = sorted(trained, key=lambda name: scores[name][key], reverse=key != "kid")
        best = ranked[0]
        if len(ranked) == 1:
            winners[key] = Winner(best, None, 0.0, 0.0, True)
            continue
        second = ranked[1]
        if key == "kid":
            lead = scores[second]["kid"] - scores[best]["kid"]
            error = math.hypot(scores[best]["kid_std"], scores[second]["kid_std"])
            winners[key] = Winner(best, second, lead, error, lead > error)
        else:
            lead, error = paired_difference(per_image[best][key], per_image[second][key])
            winners[key] = Winner(best, second, lead, error, lead > 2 * error)
    return winners


def describe(filter_name, result, variants, settings):
    """The results paragraph of one filter, written from its numbers."""
    scores = result["scores"]
    trained = [v for v in variants if scores.get(v.name) is not None]
    if not trained:
        return f"No variant produced a generator on the {filter_name} benchmark."
    label = {v.name: v.label for v in variants}
    identity, oracle = scores["identity"], scores["oracle"]
    sentences = []
    winners = score_winners(result, variants)
    for key, won in winners.items():
        if won.second is None:
            continue
        unit, digits = SCORE_KEYS[key]
        value = f"{scores[won.best][key]:.{digits}f}{unit}"
        if key == "kid":
            sentences.append(
                f"Best KID: {label[won.best]} ({value}), {won.lead:.3f} below {label[won.second]} "
                + ("(more than their combined subset spread of " if won.clear else
                   "(within their combined subset spread of ")
                + f"{won.error:.3f}" + (")." if won.clear else ": a tie)."))
        else:
            sentences.append(
                f"Best {key.upper()}: {label[won.best]} ({value}), {won.lead:.{digits}f}{unit} above "
                f"{label[won.second]} "
                + (f"(more than twice the paired standard error of {won.error:.{digits}f}{unit})." if won.clear else
                   f"(within twice the paired standard error of {won.error:.{digits}f}{unit}: a tie)."))
    names = {won.best for won in winners.values()}
    if len(names) == 1:
        name = names.pop()
        if all(won.clear for won in winners.values()):
            sentences.append(f"{label[name]} wins on all three scores.")
        else:
            sentences.append(f"{label[name]} leads on all three scores, but not clearly on every one.")
    else:
        sentences.append("No variant leads on all three scores.")
    beats = {key: sum(1 for v in trained if (scores[v.name][key] > identity[key] if key != "kid"
                                             else scores[v.name][key] < identity[key]))
             for key in ("psnr", "ssim", "kid")}
    sentences.append(f"Against the unchanged photo ({identity['psnr']:.2f} dB, SSIM {identity['ssim']:.3f}, KID "
                     f"{identity['kid']:.3f}), {beats['psnr']} of {len(trained)} variants are closer to the ground "
                     f"truth on PSNR, {beats['ssim']} on SSIM and {beats['kid']} on KID.")
    closed = kid_gap_closed(scores, [v.name for v in trained])
    if closed is not None:
        if closed >= 0:
            sentences.append(f"The best KID closes {100 * closed:.0f}% of the distance from the unchanged photo to "
                             f"the filter itself ({oracle['kid']:.3f}).")
        else:
            sentences.append(f"Even the best KID is farther from the drawings than the unchanged photo's "
                             f"(the filter itself: {oracle['kid']:.3f}).")
        if closed < FAR_FROM_TARGET:
            sentences.append("Every variant is still far from the target distribution: at this training time the "
                             "ranking says little about the methods.")
    return " ".join(sentences)


def summary(results, variants):
    """The page's opening table: per filter, the best variant on each score (ties marked), whether any variant
    beats the unchanged photo on KID, and the survey check's verdict."""
    from tfstyle.experiments import markdown_table

    label = {v.name: v.label for v in variants}
    rows = []
    for filter_name, result in results.items():
        winners = score_winners(result, variants)
        if not winners:
            continue
        row = {"filter": filter_name}
        for key, won in winners.items():
            unit, digits = SCORE_KEYS[key]
            value = f"{label[won.best]} ({result['scores'][won.best][key]:.{digits}f}{unit})"
            row[f"best {key.upper()}"] = value if won.clear else f"{value}, a tie with {label[won.second]}"
        closed = kid_gap_closed(result["scores"], list(label))
        row["KID vs the unchanged photo"] = ("–" if closed is None else
                                             f"{100 * closed:.0f}% of the way to the filter" if closed >= 0 else
                                             "all farther than the photo")
        row["survey finding"] = survey_check(filter_name, result)[0] or "not checked"
        rows.append(row)
    if not rows:
        return []
    return ["## Summary", "", markdown_table(rows), "",
            "Leads are called as in the per-filter sections below (paired standard errors for PSNR and SSIM, the "
            "subset spread for KID). A short, single-seed run per variant: read the ranking as one sample.", ""]


def kid_gap_closed(scores, names):
    """The part of the KID distance from the unchanged photo to the filter that the best of `names` closes."""
    identity, oracle = scores["identity"]["kid"], scores["oracle"]["kid"]
    kids = [scores[name]["kid"] for name in names if scores.get(name) is not None]
    if not kids or identity <= oracle:
        return None
    return (identity - min(kids)) / (identity - oracle)


def content_threshold(oracle_match):
    """The content match that counts as "keeps content": `CONTENT_MARGIN` of the filter's margin above chance."""
    return None if oracle_match is None else 0.5 + CONTENT_MARGIN * (oracle_match - 0.5)


def survey_check(filter_name, result):
    """The survey's finding (both keep content; CycleGAN's colours closer to the target than WGAN's), checked."""
    scores, per_image = result["scores"], result["per_image"]
    cyclegan, wgan = scores.get("resnet_lsgan"), scores.get("resnet_wgangp")
    if cyclegan is None or wgan is None:
        return None, "not checked: needs both the ResNet + LSGAN and the ResNet + WGAN-GP runs."
    kept = [cyclegan["content_match"], wgan["content_match"]]
    threshold = content_threshold(scores["oracle"]["content_match"])
    both_keep = threshold is not None and all(value is not None and value >= threshold for value in kept)
    difference, error = paired_difference(per_image["resnet_wgangp"]["colour_error"],
                                          per_image["resnet_lsgan"]["colour_error"])
    closer = difference > 2 * error
    farther = difference < -2 * error
    content_text = (f"content match {_fixed(kept[0])} (CycleGAN) and {_fixed(kept[1])} (WGAN-GP): "
                    + ("both" if both_keep else "not both") + f" at least {_fixed(threshold)}, so "
                    + ("both keep" if both_keep else "not both keep") + " the content")
    colour_text = (f"colour error ΔE {cyclegan['colour_error']:.1f} (CycleGAN) vs {wgan['colour_error']:.1f} "
                   f"(WGAN-GP), paired difference {difference:.1f} (standard error {error:.1f}): "
                   + ("CycleGAN's colours are closer to the target" if closer else
                      "WGAN-GP's colours are closer to the target" if farther else "no clear difference"))
    verdict = "holds" if both_keep and closer else ("does not hold" if not both_keep and not closer else
                                                   "holds in part")
    text = f"{content_text}; {colour_text}."
    closed = kid_gap_closed(scores, ["resnet_lsgan", "resnet_wgangp"])
    if closed is not None and closed < FAR_FROM_TARGET:
        text += (" Neither run is near the target distribution yet (see KID), so this checks the procedure more "
                 "than the methods.")
    return verdict, text


def write_report(docs, argv, settings, variants, calibration, results, manifests):
    """Write the Markdown page and its images; returns the page's path."""
    import tfstyle
    from tfstyle.experiments import make_grid, markdown_table

    images = docs / "images"
    images.mkdir(parents=True, exist_ok=True)
    adversarial = {v.name: v.objective_instance() for v in variants}
    minutes = settings.minutes
    lines = [
        "# The CycleGAN family at equal training time (survey Fig. 5, measured)",
        "",
        "<!-- generated by scripts/cyclegan_comparison.py: edit the script, not this page -->",
        "",
        f"Generated {datetime.date.today().isoformat()} by",
        "",
        "```",
        "python scripts/cyclegan_comparison.py " + shlex.join(argv),
        "```",
        "",
        f"{_count_words(len(variants)).capitalize()} members of the CycleGAN family learn photo → drawing from "
        "unpaired folders and are scored on held-out photos against the answer, which is known here: domain B is "
        "made by a fixed filter (`scripts/make_unpaired_benchmark.py`, `tfstyle.filters`), so every test photo x "
        "has its ground truth filter(x). Training folders: trainA = photo crops, trainB = filtered crops of *other* "
        "photos (truly unpaired); test = crops of photos seen in neither.",
        "",
        *summary(results, variants),
        "## Settings",
        "",
    ]
    settings_rows = [
        {"setting": "training time per variant", "value": f"{minutes:g} min (calibrated, see below)"},
        {"setting": "crop size / batch size", "value": f"{settings.crop_size} px / {settings.batch_size}"},
        {"setting": "data", "value": "the benchmark's crops as they are (resize_to = crop size, random flips)"},
        {"setting": "CycleGAN weights", "value": f"cycle λ = {settings.cycle_weight:g}, identity "
                                                 f"{settings.identity_weight:g}·λ, image pool {settings.pool_size}"},
        {"setting": "learning rate schedule", "value": "constant for the first half of each run's steps, then "
                                                       "linear to 0 (each run gets a whole schedule)"},
        {"setting": "seed", "value": str(settings.seed)},
        {"setting": "machine", "value": f"{calibration['cpu_count']} CPU cores, load average "
                                        f"{calibration['load_average']['before'][0]:.1f} at the calibration"},
    ]
    lines.append(markdown_table(settings_rows))
    variant_rows = []
    for variant in variants:
        optimizer = adversarial[variant.name].recommended_optimizer
        objective = (f"WGAN-GP, {variant.critic_steps} critic steps per generator step, λ = {variant.gp_weight:g}"
                     if variant.objective == "wgan-gp" else variant.objective.upper())
        variant_rows.append({
            "variant": variant.label, "after": REFERENCES[variant.name],
            "generator": _describe_generator(variant, settings),
            "discriminator": _describe_discriminator(variant, settings),
            "objective": objective,
            "Adam (lr, β1, β2)": f"{optimizer['learning_rate']:g}, {optimizer['beta_1']:g}, {optimizer['beta_2']:g}",
        })
    lines += ["", markdown_table(variant_rows), ""]
    lines += [
        f"Adam settings are the training API's defaults for each objective (`train_cyclegan`: the objective's "
        f"`recommended_optimizer`); for WGAN-GP that is Gulrajani et al.'s Algorithm 1 (β1 = 0), not β1 = 0.5. "
        f"Every network is {settings.width} filters wide at its first conv (the reference uses 64) so that a "
        f"{minutes:g}-minute budget buys a useful number of steps on this CPU; ResNet with "
        f"{_plural(settings.resnet_blocks, 'block')} (the reference's choice below 256 px); the U-Net with depth "
        f"{settings.unet_depth}, so that its bottleneck is {settings.crop_size // 2 ** settings.unet_depth}×"
        f"{settings.crop_size // 2 ** settings.unet_depth} as in the reference's unet_256 at 256 px; attention at "
        f"1/{settings.attention_factor} of the side "
        f"({settings.crop_size // settings.attention_factor}×{settings.crop_size // settings.attention_factor}) "
        f"in the generator and after the PatchGAN's last stride-2 block. "
        + ("Batch 1 as in CycleGAN: with instance norm each image is normalised on its own, and at a fixed time "
           "budget one image per step gives the most updates."
           if settings.batch_size == 1 else
           f"Batch {settings.batch_size} (CycleGAN uses 1)."),
        "",
        "## Equal training time",
        "",
        f"The machine is shared ({calibration['cpu_count']} cores; load average "
        f"{calibration['load_average']['before'][0]:.1f} when the calibration began), so a wall-clock budget "
        f"would be unfair to whichever variant ran while the machine was busiest. Instead all variants were built "
        f"in one process; each ran {calibration['warmup_steps']} untimed warm-up steps (tracing) and, once all were "
        f"traced, one untimed critic cycle of {settings.critic_steps} steps that sized its timed chunks (at least "
        f"about {settings.chunk_seconds:g} s each, in whole critic cycles); then "
        f"{_plural(calibration['rounds'], 'round')} timed one chunk of every variant in turn, the order rotating "
        f"each round. Each variant's seconds per step is the median over rounds, and it trained {minutes:g} min "
        f"÷ (s/step) steps: equal compute time, measured under the same conditions for all. The targets are "
        f"stored in `calibration.json` and reused by reruns. The wall times in the tables are the training loops' "
        f"actual times (tracing, checkpoints and whatever else ran on the machine included).",
        "",
    ]
    calibration_rows = []
    for variant in variants:
        chunks = calibration["chunks"][variant.name]
        calibration_rows.append({
            "variant": variant.label,
            "s/step (median)": f"{calibration['seconds_per_step'][variant.name]:.3f}",
            "range over rounds": f"{min(chunks):.3f}–{max(chunks):.3f}",
            "CPU s/step (median)": f"{np.median(calibration['cpu_chunks'][variant.name]):.3f}",
            "steps per chunk": str(calibration["chunk_steps"][variant.name]),
            "steps": str(calibration["steps"][variant.name]),
            "warm-up (tracing) s": f"{calibration['warmup_seconds'][variant.name]:.0f}",
        })
    lines += [markdown_table(calibration_rows), "",
              "CPU s/step is the process CPU time (all threads) per step in the same chunks, for reference: it is less "
              "sensitive to the other jobs than wall time, but the targets use wall time.", ""]
    if calibration.get("clamped"):
        lines += [f"Clamped to the minimum of {settings.min_steps} steps (one generator update of WGAN-GP): "
                  f"{', '.join(calibration['clamped'])}.", ""]
    verdicts = {}
    for filter_name, result in results.items():
        manifest = manifests[filter_name]
        counts = manifest["counts"]
        protocol = result["protocol"]
        lines += [
            f"## {filter_name.capitalize()}",
            "",
            f"Benchmark: filter `{filter_name}` ({_parameters(manifest)}), {counts['trainA']} trainA and "
            f"{counts['trainB']} trainB crops, {protocol['test_crops']} test crops from "
            f"{len(manifest['splits']['test'])} held-out photos; {settings.crop_size} px. Each variant: "
            f"{minutes:g} min calibrated training, batch {settings.batch_size}, seed {settings.seed}.",
            "",
            score_table(result, variants, calibration),
            "",
            describe(filter_name, result, variants, settings),
            "",
        ]
        verdict, text = survey_check(filter_name, result)
        verdicts[filter_name] = verdict
        lines += [f"Survey finding (both keep content; CycleGAN's colours closer to the target than WGAN's): "
                  + (f"**{verdict} here**: {text}" if verdict else text), ""]
        losses = plot_losses(images / f"cyclegan_{filter_name}_losses.png", result["runs"], variants)
        lines += [f"![loss curves, {filter_name}](images/{losses.name})", "",
                  f"Loss curves: means over the logged intervals (faint) and their moving average; x is the training "
                  f"step, and WGAN-GP updates its generators at every {settings.critic_steps}th step only.", ""]
        rows = grid_rows(protocol["test_crops"])
        names, photos, truth = result["test_set"]
        grid = []
        for index in rows:
            cells = [photos[index], truth[index]]
            cells += [result["outputs"][v.name][index] if v.name in result["outputs"] else None for v in variants]
            grid.append(cells)
        cell = min(192, 2 * settings.crop_size)
        image = make_grid(grid, columns=["photo", "ground truth", *(SHORT_LABELS[v.name] for v in variants)],
                          row_labels=[pathlib.Path(names[i]).stem for i in rows], cell=(cell, cell),
                          missing="no generator")
        grid_path = save_small_image(images / f"cyclegan_{filter_name}_grid.jpg", image)
        lines += [f"![held-out photos, {filter_name}: photo | ground truth | each variant](images/{grid_path.name})",
                  ""]
    lines += [
        "## How the scores are computed",
        "",
        "- PSNR, SSIM: `tfstyle.metrics.psnr` / `ssim` of G(x) against filter(x) for every test crop, averaged. "
        "Winners are called only when the mean paired difference to the runner-up exceeds twice its standard "
        "error.",
        f"- KID: unbiased MMD² with the cubic kernel on normalised {protocol['network']} features "
        "(`tfstyle.distribution_metrics`; not comparable with published Inception KID), between the outputs for "
        f"the even-numbered test crops ({protocol['kid_outputs']}) and the ground truth of the odd-numbered ones "
        f"({protocol['kid_references']}): same photos, other windows, so the oracle is not compared with itself "
        f"(its KID is the floor, slightly below 0). Mean ± std over {protocol['kid_subsets']} random subsets of "
        f"{protocol['kid_subset_size']} per side; a lead smaller than the two rows' combined std is called a tie.",
        "- Content match: how often an output is nearer its own photo than another test photo, by tfstyle's "
        "relative content distance at relu4_2 (`block4_conv2` of vgg16_hed): for each G(x_i), the fraction of "
        "test photos x_j, j ≠ i, farther from it than x_i, averaged (an ROC area: 1 = always nearest its own "
        "photo, 0.5 = chance; the unchanged photo scores 1, the filter a little less). The survey's \"keeps "
        f"content\" is read as a match at least {CONTENT_MARGIN:g} of the filter's own margin above chance, "
        "0.5 + ½·(oracle − 0.5).",
        "- Colour ΔE: CIELAB distance between the mean colour of G(x) and of filter(x), averaged over the test "
        "crops (0 = the right overall tone and tint).",
        "- Single seed, short runs: differences between variants are one sample of each training process.",
        "",
    ]
    path = docs / DOC_NAME
    path.write_text("\n".join(lines))
    return path, verdicts


def _describe_generator(variant, settings):
    options = variant.generator_options
    if variant.generator == "resnet":
        return f"ResNet, {_plural(options['blocks'], 'block')}, {options['filters']} filters"
    text = f"U-Net, depth {options['depth']}, {options['filters']}–{options['max_filters']} filters"
    if options.get("attention"):
        factor = options["attention"][0]
        text += f", self-attention at {settings.crop_size // factor}×{settings.crop_size // factor}"
    return text


def _describe_discriminator(variant, settings):
    options = variant.discriminator_options
    text = f"PatchGAN, n_layers {options['n_layers']}, {options['filters']} filters"
    if options.get("attention"):
        text += ", self-attention"
    return text


def _fixed(value, digits=3):
    return "–" if value is None else f"{value:.{digits}f}"


def _plural(count, noun):
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _count_words(count):
    return {1: "one", 2: "two", 3: "three", 4: "four"}.get(count, str(count))


def _parameters(manifest):
    parameters = manifest["filter"]["parameters"]
    return ", ".join(f"{key} {value}" for key, value in parameters.items())


# --- main -----------------------------------------------------------------------------------------------------------


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    from tfstyle.errors import TfstyleError
    from tfstyle.io import save_json

    started = time.perf_counter()

    def log(line):
        print(f"[{time.perf_counter() - started:6.0f} s] {line}", flush=True)

    try:
        settings = make_settings(args)
        from tfstyle import filters

        unknown = [name for name in args.filters if name not in filters.FILTERS]
        if unknown:
            raise TfstyleError(f"unknown filters {', '.join(unknown)}; choose from {', '.join(filters.FILTERS)}")
        variants = build_variants(settings, [name for name in VARIANTS if name in args.variants])
        out = args.out
        out.mkdir(parents=True, exist_ok=True)
        manifests = {name: ensure_benchmark(out / name / "benchmark", name, args, log) for name in args.filters}
        calibration = load_or_calibrate(out, settings, variants, out / args.filters[0] / "benchmark", log)
        progress = not args.no_progress and sys.stderr.isatty()
        records = {}
        for filter_name in args.filters:
            bench = out / filter_name / "benchmark"
            records[filter_name] = {
                v.name: train_variant(v, settings, bench, out / filter_name / "runs" / v.name,
                                      calibration["steps"][v.name], args.checkpoint_minutes, progress, log,
                                      f"[{filter_name}]")
                for v in variants}
        log("evaluating on the held-out crops")
        scorer = Scorer()
        results = {}
        for filter_name in args.filters:
            bench = out / filter_name / "benchmark"
            test_set = load_test_set(bench)
            outputs = {"identity": test_set[1], "oracle": test_set[2]}
            for variant in variants:
                workdir = out / filter_name / "runs" / variant.name
                if (workdir / "generator_ab.keras").is_file():
                    outputs[variant.name] = translate_test_set(workdir, test_set[1])
            scores, per_image, protocol = evaluate_filter(bench, outputs, scorer)
            results[filter_name] = {"scores": {**dict.fromkeys(v.name for v in variants), **scores},
                                    "per_image": per_image, "protocol": protocol, "runs": records[filter_name],
                                    "outputs": outputs, "test_set": test_set}
            log(f"[{filter_name}] " + "; ".join(
                f"{row} PSNR {fmt(score['psnr'], 4)} SSIM {score['ssim']:.3f} KID {score['kid']:.3f}"
                for row, score in scores.items()))
        docs = args.docs if args.docs is not None else out / "report"
        page, verdicts = write_report(docs, argv, settings, variants, calibration, results, manifests)
        save_json(out / "results.json", {
            "settings": dataclasses.asdict(settings), "calibration": calibration, "survey_finding": verdicts,
            "filters": {name: {"scores": result["scores"], "protocol": result["protocol"],
                               "runs": {key: {k: v for k, v in run.items() if k != "history"}
                                        for key, run in result["runs"].items()},
                               "per_image": {row: {key: [float(x) if math.isfinite(x) else None for x in values]
                                                   for key, values in data.items()}
                                             for row, data in result["per_image"].items()}}
                        for name, result in results.items()}})
        log(f"wrote {page} and {out / 'results.json'}")
    except KeyboardInterrupt:
        print("interrupted: rerun the same command to continue", file=sys.stderr)
        return 130
    except TfstyleError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
