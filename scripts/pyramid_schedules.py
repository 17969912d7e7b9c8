"""Why the coarse-to-fine pyramid does not reach the single-scale result 3x sooner: scored trajectories.

Runs the single-scale optimization at `--size` and, for each schedule, a coarse level at `--coarse` followed by a
fine level at `--size` started from the coarse result (upsampled), capturing the image every `--every` steps and
scoring each capture with `tfstyle.metrics` (Gram style distance and content distance on the fixed metric
network). Each schedule is `STEPS:DETAIL:CONTENT_WEIGHT`: coarse L-BFGS steps; how much of the content's
high-frequency band (content minus its downsampled-upsampled copy) is added back to the upsampled coarse result;
and the content weight of the coarse level (1 is stylize's default). The output is the trajectory of each run, so
the step at which a pyramid's fine level matches the single-scale run can be read off.

Usage:
    python scripts/pyramid_schedules.py --size 256 --coarse 128 60:0:1 60:1:1 30:1:1 60:1:4
"""

import argparse
import os
import sys
import time

os.environ.setdefault("TFSTYLE_OFFLINE", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


class Capture:
    def __init__(self, every):
        self.every, self.points, self.start = every, [], time.perf_counter()

    def on_begin(self, steps):
        pass

    def on_step(self, info):
        if info.step % self.every == 0 or info.step == info.steps:
            self.points.append((info.step, time.perf_counter() - self.start, info.image.copy()))

    def on_end(self, info, reason):
        pass


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("schedules", nargs="*", default=["60:0:1", "60:1:1", "30:1:1", "60:1:4"])
    parser.add_argument("--content", default="sample:astronaut")
    parser.add_argument("--style", default="sample:waves")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--coarse", type=int, default=128)
    parser.add_argument("--single-steps", type=int, default=150)
    parser.add_argument("--fine-steps", type=int, default=80)
    parser.add_argument("--every", type=int, default=10)
    args = parser.parse_args(argv)
    import numpy as np

    import tfstyle
    from tfstyle import metrics
    from tfstyle.io import resize_image

    common = dict(backbone="vgg16_hed", progress=False, verbose=False)
    content = resize_image(tfstyle.load_image(args.content), long_side=args.size)
    style = resize_image(tfstyle.load_image(args.style), long_side=args.size)

    def scored(points):
        rows = []
        for step, seconds, image in points:
            scores = metrics.evaluate(image, content, style, metrics=("style_gram", "content"))
            rows.append(f"{step}:{scores['style_gram']:.4f}/{scores['content']:.3f}")
        return " ".join(rows)

    capture = Capture(args.every)
    single = tfstyle.stylize(args.content, args.style, size=args.size, steps=args.single_steps, callbacks=[capture],
                             **common)
    print(f"single {args.size} px, {single.info['seconds']:.0f} s: {scored(capture.points)}", flush=True)
    for schedule in args.schedules:
        steps, detail, content_weight = (float(value) for value in schedule.split(":"))
        coarse = tfstyle.stylize(args.content, args.style, size=args.coarse, steps=int(steps),
                                 content_weight=content_weight, **common)
        init = resize_image(coarse.image, size=content.shape[:2])
        if detail:
            blurred = resize_image(resize_image(content, size=coarse.image.shape[:2]), size=content.shape[:2])
            init = np.clip(init + detail * (content - blurred), 0.0, 1.0)
        capture = Capture(args.every)
        fine = tfstyle.stylize(args.content, args.style, size=args.size, steps=args.fine_steps, init=init,
                               callbacks=[capture], **common)
        print(f"pyramid {schedule} (coarse {coarse.info['seconds']:.0f} s, fine {fine.info['seconds']:.0f} s): "
              f"{scored(capture.points)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
