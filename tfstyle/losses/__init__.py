"""Losses of style transfer: content, style (Gram, MMD, channel statistics), total variation and adversarial.

Each loss is a plain function (the per-sample value, shape (B,)) and a thin Keras `Loss` class around it, as
Keras does with `mean_squared_error` and `MeanSquaredError`. The comparison losses split into
`representation(target_features)`, computed once, and `compare(features, target_representation)`. The adversarial
losses of the GAN models are plain functions too (`lsgan_*`, `vanilla_*`, `wgan_*` per sample; `gradient_penalty`, a
scalar); their objects (`get_adversarial`) are `AdversarialObjective`s, whose losses take real and fake scores.

Example:
    >>> import numpy as np
    >>> from tfstyle import losses
    >>> style_features, image_features = np.random.rand(1, 32, 32, 8), np.random.rand(1, 24, 24, 8)
    >>> style_loss = losses.get("mmd", kernel="gaussian", max_positions=256)
    >>> target = style_loss.representation(style_features)        # once: (1, 256, 8)
    >>> style_loss.compare(image_features, target).shape          # every step: one value per sample
    TensorShape([1])
"""

from tfstyle.errors import OptionError
from tfstyle.losses.adversarial import (
    ADVERSARIAL_OBJECTIVES,
    LSGAN,
    WGANGP,
    AdversarialObjective,
    VanillaGAN,
    get_adversarial,
    gradient_penalty,
    lsgan_discriminator_loss,
    lsgan_generator_loss,
    vanilla_discriminator_loss,
    vanilla_generator_loss,
    wgan_critic_loss,
    wgan_generator_loss,
)
from tfstyle.losses.base import FeatureComparisonLoss
from tfstyle.losses.content import ContentLoss, content_loss
from tfstyle.losses.style import (
    GramStyleLoss,
    MeanStdStyleLoss,
    MMDStyleLoss,
    SlicedWassersteinStyleLoss,
    gram_style_loss,
    masked_gram_style_loss,
    masked_mean_std_style_loss,
    mean_std_style_loss,
    mmd_style_loss,
    sliced_wasserstein_style_loss,
)
from tfstyle.losses.perceptual import MultiBackboneLoss, PerceptualLoss, layer_weights
from tfstyle.losses.structure import (
    HEDEdgeStructure,
    KerasDepthStructure,
    LaplacianStructure,
    StructureLoss,
    StructureNetwork,
    get_structure,
    structure_loss,
)
from tfstyle.losses.variation import TotalVariationLoss, total_variation_loss

STYLE_LOSSES = {
    "gram": GramStyleLoss,
    "mmd": MMDStyleLoss,
    "meanstd": MeanStdStyleLoss,
    "sw": SlicedWassersteinStyleLoss,
}


def get(name, **kwargs):
    """The style loss called `name`, built with `kwargs`.

    Args:
        name: "gram" (`GramStyleLoss`), "mmd" (`MMDStyleLoss`) or "meanstd" (`MeanStdStyleLoss`); a
            `FeatureComparisonLoss` instance is returned as it is (then `kwargs` must be empty).
        **kwargs: constructor arguments of the class.

    Returns:
        A `FeatureComparisonLoss`.

    Raises:
        OptionError: for an unknown name.

    Example:
        >>> type(get("mmd", kernel="poly", degree=2)).__name__
        'MMDStyleLoss'
    """
    if isinstance(name, FeatureComparisonLoss):
        if kwargs:
            raise OptionError(f"cannot apply options to an existing loss object; Received: {sorted(kwargs)}")
        return name
    if not isinstance(name, str) or name not in STYLE_LOSSES:
        raise OptionError(f"unknown style loss {name!r}; choose one of: {', '.join(STYLE_LOSSES)}")
    return STYLE_LOSSES[name](**kwargs)


__all__ = [
    "ADVERSARIAL_OBJECTIVES",
    "AdversarialObjective",
    "ContentLoss",
    "FeatureComparisonLoss",
    "GramStyleLoss",
    "HEDEdgeStructure",
    "KerasDepthStructure",
    "LSGAN",
    "LaplacianStructure",
    "MMDStyleLoss",
    "MeanStdStyleLoss",
    "SlicedWassersteinStyleLoss",
    "STYLE_LOSSES",
    "StructureLoss",
    "StructureNetwork",
    "TotalVariationLoss",
    "VanillaGAN",
    "WGANGP",
    "content_loss",
    "get",
    "get_adversarial",
    "get_structure",
    "gradient_penalty",
    "gram_style_loss",
    "lsgan_discriminator_loss",
    "lsgan_generator_loss",
    "masked_gram_style_loss",
    "masked_mean_std_style_loss",
    "mean_std_style_loss",
    "mmd_style_loss",
    "sliced_wasserstein_style_loss",
    "structure_loss",
    "total_variation_loss",
    "vanilla_discriminator_loss",
    "vanilla_generator_loss",
    "wgan_critic_loss",
    "wgan_generator_loss",
]
