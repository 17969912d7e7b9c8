"""The learning-rate schedule of CycleGAN: constant, then a linear decay to zero."""

import math
import numbers

import keras
from keras import ops

from tfstyle.errors import OptionError


@keras.saving.register_keras_serializable(package="tfstyle")
class LinearDecaySchedule(keras.optimizers.schedules.LearningRateSchedule):
    """A learning rate that stays constant for `constant_steps` training steps, then falls linearly to 0.

    With training step t (0-based), c = `constant_steps` and d = `decay_steps`:

        lr(t) = initial_learning_rate · clip((c + d − t) / (d + 1), 0, 1)

    so lr = initial_learning_rate for t < c, then it loses 1/(d + 1) of it per step and reaches 0 at t = c + d,
    just after the last step of a run of c + d steps (whose last rate is initial_learning_rate/(d + 1)). This is
    the reference code's rule `1 − max(0, epoch + 1 − n_epochs) / (n_epochs_decay + 1)`, per step instead of per
    epoch (the reference: 100 epochs constant + 100 epochs decay).

    Keras calls a schedule with the optimizer's update count. An optimizer that updates only every k-th training
    step (the generators' optimizer with k critic steps per generator step) passes `steps_per_update=k`: its
    update u is taken at training step t = (u + 1)·k − 1, and gets the rate of that training step, so both
    optimizers follow one schedule of training steps.

    Args:
        initial_learning_rate: the constant rate.
        constant_steps: c, training steps at the full rate (>= 0).
        decay_steps: d, training steps of the linear decay (>= 0; 0 drops to 0 after the constant phase).
        steps_per_update: k, training steps per optimizer update (>= 1).
        name: name of the schedule.

    Example:
        >>> schedule = LinearDecaySchedule(2e-4, constant_steps=2, decay_steps=3)
        >>> [round(float(schedule(t)), 6) for t in range(6)]
        [0.0002, 0.0002, 0.00015, 0.0001, 5e-05, 0.0]

    Reference:
        Zhu, Park, Isola & Efros, "Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial
        Networks", ICCV 2017 (sec. 4; `lambda_rule` of the authors' code).
    """

    def __init__(self, initial_learning_rate, constant_steps, decay_steps, steps_per_update=1, name=None):
        super().__init__()
        if (isinstance(initial_learning_rate, bool) or not isinstance(initial_learning_rate, numbers.Real)
                or not math.isfinite(initial_learning_rate) or initial_learning_rate < 0):
            raise OptionError(f"initial_learning_rate must be a finite number >= 0; "
                              f"Received: initial_learning_rate={initial_learning_rate!r}")
        for option, value, minimum in (("constant_steps", constant_steps, 0), ("decay_steps", decay_steps, 0),
                                       ("steps_per_update", steps_per_update, 1)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
                raise OptionError(f"{option} must be an integer >= {minimum}; Received: {option}={value!r}")
        self.initial_learning_rate = float(initial_learning_rate)
        self.constant_steps = int(constant_steps)
        self.decay_steps = int(decay_steps)
        self.steps_per_update = int(steps_per_update)
        self.name = name

    def __call__(self, step):
        update = ops.cast(step, "float32")
        step = (update + 1.0) * float(self.steps_per_update) - 1.0
        end = float(self.constant_steps + self.decay_steps)
        fraction = ops.clip((end - step) / float(self.decay_steps + 1), 0.0, 1.0)
        return self.initial_learning_rate * fraction

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "constant_steps": self.constant_steps,
                "decay_steps": self.decay_steps, "steps_per_update": self.steps_per_update, "name": self.name}
