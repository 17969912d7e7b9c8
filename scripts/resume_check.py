"""How exactly does an interrupted and resumed `stylize` run match an uninterrupted one?

For each optimizer, three runs from the same inputs and seed: straight for `--steps`; the same run stopped after
`--stop-at` steps (as Ctrl-C stops it: the step finishes, a checkpoint is written); and its resumption from that
checkpoint to `--steps`. Printed: the largest pixel difference between the straight and the resumed results and
the relative difference of their final losses. Both optimizers' states are in the checkpoint (Adam's moments;
L-BFGS's correction pairs and line-search state), so both should resume exactly.

Usage:
    python scripts/resume_check.py                       # 256 px, 100 steps, stop at 50 (about 5 minutes)
    python scripts/resume_check.py --markdown docs/resume.md
"""

import argparse
import os
import sys
import tempfile

os.environ.setdefault("TFSTYLE_OFFLINE", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--content", default="sample:astronaut")
    parser.add_argument("--style", default="sample:waves")
    parser.add_argument("--backbone", default="vgg16_hed")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--stop-at", type=int, default=50)
    parser.add_argument("--optimizers", default="adam,lbfgs")
    parser.add_argument("--markdown", help="also write the results table to this file")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    import numpy as np

    import tfstyle
    from tfstyle.optimize import Callback

    class StopAt(Callback):
        def on_step(self, info):
            if info.step == args.stop_at:
                raise KeyboardInterrupt  # what Ctrl-C raises once the current step has finished

    options = {"size": args.size, "steps": args.steps, "backbone": args.backbone, "progress": False,
               "verbose": False}
    rows = []
    for optimizer in args.optimizers.split(","):
        straight = tfstyle.stylize(args.content, args.style, optimizer=optimizer, **options)
        with tempfile.TemporaryDirectory() as folder:
            stopped = tfstyle.stylize(args.content, args.style, optimizer=optimizer, checkpoint_dir=folder,
                                      callbacks=[StopAt()], **options)
            resumed = tfstyle.stylize(args.content, args.style, optimizer=optimizer, checkpoint_dir=folder,
                                      resume=True, **options)
        pixels = float(np.abs(resumed.image - straight.image).max())
        mean_pixels = float(np.abs(resumed.image - straight.image).mean())
        loss_straight, loss_resumed = straight.history["total"][-1], resumed.history["total"][-1]
        rows.append((optimizer, stopped.info["steps"], resumed.info["steps"], pixels, mean_pixels, loss_straight,
                     loss_resumed, (loss_resumed - loss_straight) / loss_straight))
        print(f"{optimizer}: stopped at {stopped.info['steps']}, resumed to {resumed.info['steps']}; "
              f"max |Δpixel| {pixels:.2e}, mean {mean_pixels:.2e}; final loss straight {loss_straight:.5f} "
              f"resumed {loss_resumed:.5f} ({rows[-1][-1]:+.2%})", flush=True)
    if args.markdown:
        lines = [f"`python scripts/resume_check.py --size {args.size} --steps {args.steps} --stop-at {args.stop_at}` "
                 f"({args.content} × {args.style}, {args.backbone}):", "",
                 "| optimizer | stopped at | resumed to | max abs pixel difference | mean abs pixel difference | "
                 "final loss, straight | final loss, resumed | relative difference |",
                 "|---|---|---|---|---|---|---|---|"]
        for optimizer, stop, end, pixels, mean_pixels, straight_loss, resumed_loss, relative in rows:
            lines.append(f"| {optimizer} | {stop} | {end} | {pixels:.2e} | {mean_pixels:.2e} | {straight_loss:.5f} | "
                         f"{resumed_loss:.5f} | {relative:+.2%} |")
        with open(args.markdown, "w") as file:
            file.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
