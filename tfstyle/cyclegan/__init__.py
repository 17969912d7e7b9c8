"""The networks of the CycleGAN family: ResNet and U-Net generators, the PatchGAN discriminator, self-attention.

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

__all__ = [
    "DEFAULT_ATTENTION",
    "GENERATORS",
    "NORMS",
    "PatchGANDiscriminator",
    "ResNetGenerator",
    "SelfAttention",
    "UNetGenerator",
    "UPSAMPLINGS",
    "build_discriminator",
    "build_generator",
]
