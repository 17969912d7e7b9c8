"""The CycleGAN family: the model, its training loop, the generators, the PatchGAN discriminator, self-attention.

`CycleGAN` holds the two generators and two discriminators and trains with `fit` (images in [0, 1] at its
boundary); `train_cyclegan` is the checkpointed, resumable training loop behind `tfstyle train-cyclegan`, which
exports both generators as `.keras` files (`export_generators`). `ImagePool` is the history of generated images
shown to the discriminators; `LinearDecaySchedule` the constant-then-linear learning rate.

Generators map images in [-1, 1] (B, H, W, 3) to images in [-1, 1]; H and W must be multiples of the generator's
`size_multiple`. The discriminator returns raw patch scores. Every network is a functional `keras.Model` whose
`get_config()` holds its constructor arguments, so it round-trips through `.keras` files.

Example:
    >>> from tfstyle.cyclegan import build_discriminator, build_generator
    >>> generator = build_generator("unet_attention", depth=7)             # 128 px, attention at 16×16
    >>> discriminator = build_discriminator(spectral_norm=True)
    >>> fake = generator(photos)                                            # photos: (B, 128, 128, 3) in [-1, 1]
    >>> scores = discriminator(fake)                                        # (B, 14, 14, 1)

Reference:
    Zhu, Park, Isola & Efros, "Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial Networks",
    ICCV 2017; Zhang et al., "Self-Attention Generative Adversarial Networks", ICML 2019.
"""

from tfstyle.cyclegan.attention import SelfAttention
from tfstyle.cyclegan.discriminators import PatchGANDiscriminator, build_discriminator
from tfstyle.cyclegan.generators import (DEFAULT_ATTENTION, GENERATORS, NORMS, UPSAMPLINGS, ResNetGenerator,
                                         UNetGenerator, build_generator)
from tfstyle.cyclegan.image_pool import ImagePool
from tfstyle.cyclegan.model import CycleGAN, from_network_range, to_network_range
from tfstyle.cyclegan.pretrained import Generator, available_generators, export_generator, load_generator
from tfstyle.cyclegan.schedules import LinearDecaySchedule
from tfstyle.cyclegan.training import CycleGANTrainingResult, export_generators, train_cyclegan
from tfstyle.cyclegan.translate import TranslationResult, Translator, translate, translate_folder

__all__ = [
    "CycleGAN",
    "CycleGANTrainingResult",
    "DEFAULT_ATTENTION",
    "GENERATORS",
    "Generator",
    "ImagePool",
    "LinearDecaySchedule",
    "NORMS",
    "PatchGANDiscriminator",
    "ResNetGenerator",
    "SelfAttention",
    "TranslationResult",
    "Translator",
    "UNetGenerator",
    "UPSAMPLINGS",
    "available_generators",
    "build_discriminator",
    "build_generator",
    "export_generator",
    "export_generators",
    "from_network_range",
    "to_network_range",
    "load_generator",
    "train_cyclegan",
    "translate",
    "translate_folder",
]
