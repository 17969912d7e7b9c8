"""Checkpoints of one image optimization: the image, the optimizer's state, the step and the loss history.

A run's folder holds `tf.train.Checkpoint` files (the image and step as variables, plus the Keras Adam optimizer's
moments and iteration count) managed by `tf.train.CheckpointManager`, next to `history.json` (the per-step loss
terms, so a resumed run reports the whole run) and `run.json` (what the run was, so that resuming with other options
is refused instead of silently mixing two runs).

Both optimizers resume exactly: Adam's state is its variables; L-BFGS's correction pairs, line-search state and
counters are the arrays of `tfstyle.optimize.lbfgsb.LbfgsB`, streamed to `ckpt-N.arrays.npz` next to checkpoint N
(large: 2·m float64 copies of the image, 252 MB for 512 px with m = 20). The array file is written before the
checkpoint that names it and removed after it, so an interrupted save never leaves a checkpoint without its arrays.
"""

import json
import os
import pathlib

from tfstyle.errors import OptionError
from tfstyle.io import save_json

_HISTORY = "history.json"
_RUN = "run.json"
_ARRAYS = ".arrays.npz"


class RunCheckpoint:
    """Save and restore one optimization run in a folder.

    Args:
        directory: folder of the run's checkpoints (created on the first save).
        every: save every `every` steps and when the run finishes; 0 saves only when it is interrupted (Ctrl-C).
        keep: how many checkpoints to keep.
        fingerprint: a JSON-able dict describing the run (options that change the result). A folder made with a
            different fingerprint is refused with an `OptionError` naming the first difference.
        save_when_done: also save when the run finishes (default: when `every` > 0), so that it can be extended
            or, for a level of a pyramid, skipped on resume.

    Example:
        >>> checkpoint = RunCheckpoint("runs/astronaut", every=50, fingerprint={"size": 512})
        >>> optimize_image(objective, init, checkpoint=checkpoint)   # Ctrl-C, then run the same line again
    """

    def __init__(self, directory, every=0, keep=2, fingerprint=None, save_when_done=None):
        if int(every) < 0:
            raise OptionError(f"checkpoint_every must be zero or positive; received {every}")
        self.directory = pathlib.Path(directory)
        self.every = int(every)
        self.keep = max(1, int(keep))
        self.save_when_done = self.every > 0 if save_when_done is None else bool(save_when_done)
        # as it will read back from run.json (tuples become lists), so that comparisons are like for like
        self.fingerprint = json.loads(json.dumps(fingerprint or {}, default=str))
        self._manager = None
        self._checkpoint = None
        self._objects = {}
        self._array_state = None

    def exists(self):
        """True when the folder holds a saved checkpoint."""
        import tensorflow as tf

        return self.directory.is_dir() and tf.train.latest_checkpoint(os.fspath(self.directory)) is not None

    def check_fingerprint(self):
        """Raise `OptionError` if the folder was made by a run with different options."""
        path = self.directory / _RUN
        if not path.is_file():
            return
        try:
            saved = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            raise OptionError(f"cannot read {path}: {error}") from None
        for key in sorted(set(saved) | set(self.fingerprint)):
            if saved.get(key) != self.fingerprint.get(key):
                raise OptionError(f"the checkpoint in {self.directory} was made with {key}={saved.get(key)!r}, "
                                  f"this run has {key}={self.fingerprint.get(key)!r}; use the same options or "
                                  f"another checkpoint folder")

    def attach(self, array_state=None, **objects):
        """Track `objects` (TensorFlow variables, a Keras optimizer) in the checkpoint; call once per run.

        `array_state` is an object with `save(path)` and `load(path)` (e.g. `tfstyle.optimize.lbfgsb.LbfgsB`) whose
        state is saved in a file next to each checkpoint.
        """
        import tensorflow as tf

        self._array_state = array_state
        self._objects = dict(objects)
        if array_state is not None:
            self._objects[type(array_state).__name__.lower()] = array_state
        self._checkpoint = tf.train.Checkpoint(**objects)
        self._manager = tf.train.CheckpointManager(self._checkpoint, os.fspath(self.directory),
                                                   max_to_keep=self.keep)

    def restore(self):
        """Restore the latest checkpoint into the attached objects; returns the saved history, or None."""
        if self._manager is None:
            raise RuntimeError("attach() the objects to restore first")
        latest = self._manager.latest_checkpoint
        if latest is None:
            return None
        self.check_fingerprint()
        try:
            self._checkpoint.restore(latest).assert_existing_objects_matched()
        except AssertionError as error:  # another optimizer's state, or an older tfstyle's checkpoint
            self._refuse(error)
        if self._array_state is not None:
            arrays = pathlib.Path(latest + _ARRAYS)
            if not arrays.is_file():
                self._refuse(None)
            try:
                self._array_state.load(arrays)
            except (OSError, ValueError, KeyError) as error:
                raise OptionError(f"cannot resume from {arrays}: {error}") from None
        path = self.directory / _HISTORY
        return json.loads(path.read_text()) if path.is_file() else {}

    def _refuse(self, error):
        names = ", ".join(sorted(self._objects))
        raise OptionError(f"the checkpoint in {self.directory} does not match this run, which saves {names} "
                          f"(another optimizer, or an older tfstyle); use another checkpoint folder") from error

    def due(self, step):
        return self.every > 0 and step % self.every == 0

    def save(self, step, history):
        """Write a checkpoint of the attached objects and the history (each file replaced atomically)."""
        if self._manager is None:
            raise RuntimeError("attach() the objects to save first")
        self.directory.mkdir(parents=True, exist_ok=True)
        save_json(self.directory / _RUN, self.fingerprint)
        save_json(self.directory / _HISTORY, history)
        if self._array_state is not None:
            path = self.directory / f"ckpt-{int(step)}{_ARRAYS}"
            partial = path.with_name(path.name + ".partial")
            self._array_state.save(partial)
            os.replace(partial, path)
        prefix = self._manager.save(checkpoint_number=int(step))
        kept = {os.path.basename(name) + _ARRAYS for name in self._manager.checkpoints}
        for stale in self.directory.glob(f"ckpt-*{_ARRAYS}"):
            if stale.name not in kept:
                stale.unlink()
        return prefix

