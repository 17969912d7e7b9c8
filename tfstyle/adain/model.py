"""AdaINModel: frozen VGG encoder → AdaIN → trainable decoder, trained with `fit` under any `tf.distribute` strategy."""

import logging
import numbers
import os
import pathlib
import warnings

import keras
import numpy as np
from keras import ops

from tfstyle.adain.decoder import ENCODER_LAYERS, build_decoder
from tfstyle.adain.encoder import AdaINEncoder
from tfstyle.adain.layers import AdaIN
from tfstyle.backbones.build import DEFAULT_WEIGHTS, resolve_backbone
from tfstyle.errors import OptionError, WeightsError, check_non_negative
from tfstyle.losses.structure import get_structure, require_structure, structure_loss
from tfstyle.losses.style import mean_std_style_loss
from tfstyle.ops.moments import mean_std
from tfstyle.ops.variation import total_variation

logger = logging.getLogger("tfstyle")

WEIGHTS_SUFFIX = ".weights.h5"
# the key in `compute_losses`' dict of each metric `fit` logs
_LOSS_OF_METRIC = {"loss": "total", "content_loss": "content", "style_loss": "style", "structure_loss": "structure",
                   "reconstruction_loss": "reconstruction", "total_variation_loss": "total_variation",
                   "shallow_content_loss": "shallow_content"}


@keras.saving.register_keras_serializable(package="tfstyle")
class AdaINModel(keras.Model):
    """Arbitrary style transfer in one forward pass: `g(AdaIN(f(content), f(style)))`, trainable with `fit`.

    f is a frozen VGG read at `encoder_layer` (relu4_1 by default) with its preprocessing inside; g is the decoder
    of `build_decoder`, the only trainable part. The same VGG (one network, an `AdaINEncoder`) also gives the
    features φ of the losses. With t = AdaIN(f(c), f(s)):

        L_c = MSE(φ_enc(g(t)), t)
        L_s = Σ_{l ∈ style_layers} MSE(μ(φ_l(g(t))), μ(φ_l(s))) + MSE(σ(φ_l(g(t))), σ(φ_l(s)))
        L_d = MSE(D(g(t)), D(c))                      (only with a structure network D)
        L_r = MSE(g(f(c)), c)                         (only with λ_r > 0; pixels in [0, 1])
        L_tv = TV(g(t))                               (only with λ_tv > 0; pixels in [0, 1])
        L_c' = MSE(φ_l'(g(t)), AdaIN(φ_l'(c), φ_l'(s)))   (only with λ_c' > 0; l' one block above the encoder)
        L   = L_c + λ·L_s + λ_d·L_d + λ_r·L_r + λ_tv·L_tv + λ_c'·L_c'

    Each MSE is the mean of the squared differences over all its elements, batch included (for L_c over B·h·w·C
    values; for a μ or σ term over B·C values), with μ, σ per sample and channel over H, W (biased variance,
    σ = sqrt(var + ε)). λ = `style_weight` = 10 is the reference port's value for this normalisation with Caffe's
    normalised VGG19; Keras ImageNet VGGs are not normalised, so tune it on your backbone.

    Depth / structure-aware AdaIN (Wu & Song 2020): with `structure`, the decoder is also trained to keep the
    content's structure, L_d = `tfstyle.losses.structure.structure_loss(g(t), c, D)` (mean over all elements of
    D's maps; D(c) is a constant target), weighted by λ_d = `structure_weight`. D is a frozen structure network:
    `"laplacian"` or `"hed"` (structure proxies, not depth) or a Keras depth model (a `.keras` path or a
    `keras.Model`); see `tfstyle.losses.structure`. D is applied to the raw (unclipped) decoder output. With
    `structure_weight=0` the term is computed and logged but not trained on (a plain baseline with the same
    metric). D's variables are not part of this model: they are neither trained nor saved with it.

    Reconstruction term (a deviation from Huang & Belongie, off by default): with `reconstruction_weight` λ_r > 0
    the decoder is also trained to invert the content's own features in pixels, as the decoders of Li et al.'s
    universal style transfer (WCT, NeurIPS 2017) are. Feature losses alone give a decoder that, for the first
    thousands of steps, paints the right statistics with periodic high-frequency noise (measured on vgg16_hed:
    reconstruction PSNR 8 dB after 2,800 steps); the pixel term anchors it to clean images at CPU-sized budgets.
    It costs one more decoder pass per step and also sharpens α < 1 in `stylize`, whose α = 0 end is g(f(c)).

    Total-variation term (also a deviation from the paper, off by default): with `tv_weight` λ_tv > 0 the
    stylized output is penalised by its total variation, `tfstyle.ops.total_variation` (the mean squared
    difference of horizontal plus of vertical neighbours, per image, then the batch mean), as in the feed-forward
    networks of Johnson et al. (2016). It works against the pixel-periodic grid a decoder can paint to match
    deep-layer statistics through VGG's strided pooling, which neither the feature losses nor L_r (on g(f(c)), not
    on the stylized output) penalise; it also smooths real brushwork, so keep λ_tv small.

    Shallow content term (a deviation from the paper, off by default): with `shallow_content_weight` λ_c' > 0 the
    output's features at the layer l' one block shallower than the encoder layer (`shallow_content_layer`:
    relu3_1 for relu4_1) are also pulled towards the AdaIN target of that layer, AdaIN(φ_l'(c), φ_l'(s)), the
    target a relu3_1 decoder is trained on. L_c is read where the features are 8× smaller than the image, and a
    relu4_1 decoder trained for a few thousand steps keeps the statistics but loses the layout (houses become
    blobs); l' sees the layout at twice the resolution. The target has the style's μ and σ at l' by construction,
    so the term does not pull against L_s there, as a plain content loss towards φ_l'(c) would. It needs l' among
    `style_layers` (the default) and costs nothing extra: every feature it reads is already computed. Measured on
    vgg16_hed (tfstyle/weights/README.md): 472 steps with λ_c' = 1 lowered the held-out content distance from 0.81
    to 0.62 against the same run without it, but the style distance rose and the layout was still lost by eye.

    `call` returns the decoder output unclipped (it can leave [0, 1]; training uses it as it is); `stylize` is the
    inference helper with the content–style trade-off α and clipping. `fit` logs `loss` (the total L),
    `content_loss` (L_c), `style_loss` (L_s, unweighted) and, when their terms are on, `structure_loss` (L_d),
    `reconstruction_loss` (L_r), `total_variation_loss` (L_tv) and `shallow_content_loss` (L_c'), each
    unweighted. Batches are `(content, style)` pairs or dicts with keys `content` and `style`, RGB in [0, 1], shape
    (B, H, W, 3) (a style batch of 1 is broadcast).

    Saving: a `.keras` file (`model.save`) stores the config and every variable (decoder and frozen encoder, and
    the optimizer state when compiled); loading it rebuilds the encoder from the config (so `weights` must be
    available again, e.g. `"default"` for `vgg16_hed`) and then overwrites all variables from the file, so even a
    random `weights=None` encoder comes back identical. `save_weights`/`load_weights` (`.weights.h5`) do the same
    for the variables only. `save_decoder`/`load_decoder` store and read only the decoder's weights (the small
    file tfstyle ships): the encoder comes from the backbone's own weights. The config stores the structure network
    by its spec string (`"laplacian"`, `"laplacian:8"`, `"hed"`, a `.keras` path) and rebuilds it on loading; a
    depth model given as an in-memory `keras.Model` cannot be stored that way: the saved config then has no
    structure term (a warning says so); pass its `.keras` path instead to keep it.

    Args:
        backbone: `vgg19`, `vgg16`, `vgg16_hed` or `auto` (resolved once, here; the config keeps the result).
        weights: encoder weights, see `tfstyle.backbones.build_backbone` (`"default"`, None = random, a path).
        encoder_layer: `block4_conv1` (relu4_1, default) or a shallower `blockN_conv1` (the decoder mirrors it).
        style_layers: layers of the style loss; default the backbone's relu1_1 … up to the encoder layer.
        style_weight: λ.
        decoder_width: multiplier of the decoder's hidden channel counts (0.5 for a lighter decoder).
        epsilon: ε of AdaIN and of the μ/σ statistics.
        structure: the structure network D of L_d, anything `tfstyle.losses.structure.get_structure` accepts
            (`"laplacian"`, `"laplacian:POOL"`, `"hed"`, `"hed:all"`, a `.keras` depth model path, a `keras.Model`,
            a `StructureNetwork`), or None (plain AdaIN).
        structure_weight: λ_d (needs `structure` when > 0).
        reconstruction_weight: λ_r of the pixel reconstruction term (0: off, as in the paper).
        tv_weight: λ_tv of the total-variation term on the stylized output (0: off, as in the paper).
        shallow_content_weight: λ_c' of the shallow content term (0: off, as in the paper).
        feature_scale: the decoder divides its input features by this number (see `build_decoder`'s
            `input_scale`); `train_adain` measures it (the std of the content images' encoder features). 1 keeps
            the paper's decoder.
        **kwargs: `keras.Model` arguments (name, ...).

    Example:
        >>> model = AdaINModel("vgg16_hed")
        >>> model.compile(optimizer=keras.optimizers.Adam(1e-4))
        >>> model.fit(tf.data.Dataset.zip((contents, styles)).batch(8), epochs=1)
        >>> image = model.stylize(content, style, alpha=0.8)       # (H, W, 3) in [0, 1]
        >>> model.save_decoder("decoder.weights.h5")
        >>> structured = AdaINModel("vgg16_hed", structure="laplacian", structure_weight=1.0)  # proxy, not depth

    Reference:
        Huang & Belongie, "Arbitrary Style Transfer in Real-time with Adaptive Instance Normalization", ICCV 2017
        (sec. 5–6, eq. 8–11). Structure term: Wu & Song 2020 (depth-aware AdaIN); Liu, Lai & Wang, "Depth-aware
        neural style transfer", NPAR 2017; Li et al., "Laplacian-steered neural style transfer", ACM MM 2017.
    """

    def __init__(self, backbone="vgg19", weights=DEFAULT_WEIGHTS, encoder_layer="block4_conv1", style_layers=None,
                 style_weight=10.0, decoder_width=1.0, epsilon=1e-5, structure=None, structure_weight=0.0,
                 reconstruction_weight=0.0, feature_scale=1.0, tv_weight=0.0, shallow_content_weight=0.0, **kwargs):
        kwargs.setdefault("name", "adain_model")
        super().__init__(**kwargs)
        if not isinstance(backbone, str):
            raise OptionError(f"backbone must be a registry name; Received: backbone={backbone!r}")
        backbone, reason = resolve_backbone(backbone)
        if reason:
            logger.info(reason)
        self.style_weight = check_non_negative("style_weight", style_weight)
        self.epsilon = check_non_negative("epsilon", epsilon)
        # a plain object, not a Keras layer: D's variables are neither tracked, trained nor saved with this model
        self._structure = get_structure(structure)
        self.structure_weight = self._check_structure_weight(structure_weight)
        self.reconstruction_weight = check_non_negative("reconstruction_weight", reconstruction_weight)
        self.tv_weight = check_non_negative("tv_weight", tv_weight)
        self.backbone = backbone
        self.weights_option = weights
        self._extractor = AdaINEncoder(backbone, encoder_layer, style_layers, weights=weights)
        self.encoder_layer = encoder_layer
        self.style_layers = self._extractor.style_layers
        self.shallow_content_weight = self._check_shallow_content_weight(shallow_content_weight)
        self.decoder_width = decoder_width
        # Tracked as a sub-model: its (frozen) variables are saved with the model.
        self.encoder = self._extractor.model
        self.feature_scale = float(feature_scale) if isinstance(feature_scale, numbers.Real) \
            and not isinstance(feature_scale, bool) else feature_scale
        self.decoder = build_decoder(self._extractor.channels, decoder_width, encoder_layer,
                                     input_scale=self.feature_scale)
        self.adain = AdaIN(self.epsilon, name="adain")
        names = ("loss", "content_loss", "style_loss") + (("structure_loss",) if self._structure is not None else ()) \
            + (("reconstruction_loss",) if self.reconstruction_weight > 0 else ()) \
            + (("total_variation_loss",) if self.tv_weight > 0 else ()) \
            + (("shallow_content_loss",) if self.shallow_content_weight > 0 else ())
        self._trackers = {name: keras.metrics.Mean(name=name) for name in names}
        self.built = True

    # --- forward -----------------------------------------------------------------------------------------------

    @property
    def structure(self):
        """The structure network D of the structure term (a `StructureNetwork`), or None."""
        return self._structure

    @property
    def shallow_content_layer(self):
        """The layer l' of the shallow content term: one block shallower than the encoder layer (None for relu1_1)."""
        index = ENCODER_LAYERS.index(self.encoder_layer)
        return ENCODER_LAYERS[index - 1] if index > 0 else None

    @property
    def extractor(self):
        """The `AdaINEncoder` (a `FeatureExtractor`) whose `.model` is `self.encoder`."""
        return self._extractor

    def encode(self, images):
        """All encoder features `{layer: (B, h, w, C)}` of RGB images in [0, 1] (encoder layer and style layers)."""
        return self.encoder(images, training=False)

    def decode(self, features, training=False):
        """Decoder output g(features): (B, H, W, 3), unclipped."""
        return self.decoder(features, training=training)

    def call(self, inputs, training=False):
        """Stylized images g(AdaIN(f(content), f(style))) for `(content, style)` or `{"content", "style"}`.

        The output is the raw decoder output, not clipped to [0, 1] (clip for display, or use `stylize`).
        """
        content, style = _split_batch(inputs)
        t = self.adain([self.encode(content)[self.encoder_layer], self.encode(style)[self.encoder_layer]])
        return self.decode(t, training=training)

    def stylize(self, content, style, alpha=1.0, clip=True):
        """Stylize content images with style images, trading content against style with α.

        `t = α·AdaIN(f(c), f(s)) + (1 − α)·f(c)`, output `g(t)`: α = 1 is full style, α = 0 decodes the content's
        own features.

        Args:
            content: RGB in [0, 1], (H, W, 3) or (B, H, W, 3).
            style: RGB in [0, 1], (H', W', 3) or (B or 1, H', W', 3).
            alpha: α in [0, 1].
            clip: clip the result to [0, 1].

        Returns:
            float32 NumPy array with the rank of `content`.

        Example:
            >>> model.stylize(content, style, alpha=0.5).shape
            (256, 256, 3)
        """
        alpha = check_alpha(alpha)
        content = np.asarray(content, dtype="float32")
        style = np.asarray(style, dtype="float32")
        single = content.ndim == 3
        content, style = (x[None] if x.ndim == 3 else x for x in (content, style))
        for label, x in (("content", content), ("style", style)):
            if x.ndim != 4 or x.shape[-1] != 3:
                raise OptionError(f"{label} must be (H, W, 3) or (B, H, W, 3); Received: shape={x.shape}")
        content_features = self.encode(content)[self.encoder_layer]
        t = self.adain([content_features, self.encode(style)[self.encoder_layer]])
        if alpha != 1.0:
            t = alpha * t + (1.0 - alpha) * content_features
        image = self.decode(t)
        if clip:
            image = ops.clip(image, 0.0, 1.0)
        image = np.asarray(ops.convert_to_numpy(image), dtype="float32")
        return image[0] if single else image

    # --- losses and training -----------------------------------------------------------------------------------

    def compute_losses(self, batch, training=False):
        """Loss terms of one batch; the single definition used by `train_step` and `test_step`.

        Args:
            batch: `(content, style)` or `{"content": ..., "style": ...}`, RGB in [0, 1], (B, H, W, 3).
            training: passed to the decoder.

        Returns:
            Dict of scalars: `content` (L_c), `style` (L_s), `total` (L, the weighted sum of the terms that are on)
            and `style/<layer>` for each style layer (μ and σ terms of that layer); with a structure network also
            `structure` (L_d, unweighted; added to the total only when λ_d > 0); with λ_r > 0 also
            `reconstruction` (L_r, unweighted); with λ_tv > 0 also `total_variation` (L_tv, unweighted); with
            λ_c' > 0 also `shallow_content` (L_c', unweighted).
        """
        content, style = _split_batch(batch)
        style_features = self.encode(style)
        all_content_features = self.encode(content)
        content_features = ops.stop_gradient(all_content_features[self.encoder_layer])
        # t depends on frozen networks only: no gradient path to the decoder.
        t = ops.stop_gradient(self.adain([content_features, style_features[self.encoder_layer]]))
        output = self.decode(t, training=training)
        output_features = self.encode(output)
        losses = {"content": ops.mean(ops.square(output_features[self.encoder_layer] - t))}
        style_loss = 0.0
        for layer in self.style_layers:
            target = mean_std(style_features[layer], self.epsilon)
            # mean_std_style_loss is (1/C)Σ(Δμ)² + (1/C)Σ(Δσ)² per sample; its batch mean is MSE(μ) + MSE(σ).
            term = ops.mean(mean_std_style_loss(output_features[layer], target, self.epsilon))
            losses[f"style/{layer}"] = term
            style_loss = style_loss + term
        losses["style"] = style_loss
        losses["total"] = losses["content"] + self.style_weight * style_loss
        if self._structure is not None:
            losses["structure"] = structure_loss(output, content, self._structure)
            if self.structure_weight > 0:
                losses["total"] = losses["total"] + self.structure_weight * losses["structure"]
        if self.reconstruction_weight > 0:
            # the decoder also inverts the content's own features (the α = 0 end of `stylize`), in pixels
            reconstruction = self.decode(content_features, training=training)
            losses["reconstruction"] = ops.mean(ops.square(reconstruction - content))
            losses["total"] = losses["total"] + self.reconstruction_weight * losses["reconstruction"]
        if self.tv_weight > 0:
            losses["total_variation"] = ops.mean(total_variation(output))
            losses["total"] = losses["total"] + self.tv_weight * losses["total_variation"]
        if self.shallow_content_weight > 0:
            layer = self.shallow_content_layer
            target = ops.stop_gradient(self.adain([all_content_features[layer], style_features[layer]]))
            losses["shallow_content"] = ops.mean(ops.square(output_features[layer] - target))
            losses["total"] = losses["total"] + self.shallow_content_weight * losses["shallow_content"]
        return losses

    def compile(self, optimizer="adam", style_weight=None, structure_weight=None, **kwargs):
        """Configure training: `keras.Model.compile` plus optional new weights λ and λ_d.

        `style_weight` sets λ; `structure_weight` sets λ_d (> 0 needs the model's structure network); λ_r is fixed
        at construction (it decides which metrics the model logs). Setting them
        here (rather than on the attributes after `fit` has run) takes effect because `compile` discards the traced
        train and test functions. Losses are built in, so `loss`/`metrics` arguments are not needed.
        """
        if style_weight is not None:
            self.style_weight = check_non_negative("style_weight", style_weight)
        if structure_weight is not None:
            self.structure_weight = self._check_structure_weight(structure_weight)
        super().compile(optimizer=optimizer, **kwargs)

    def compile_from_config(self, config):
        """Re-compile a model loaded from a `.keras` file (optimizer and its state come back; λ is in the config)."""
        config = keras.saving.deserialize_keras_object(config)
        self.compile(**config)
        if getattr(self, "optimizer", None) is not None:
            self.optimizer.build(self.trainable_variables)

    @property
    def metrics(self):
        return list(self._trackers.values())

    def _record(self, losses):
        for name, tracker in self._trackers.items():
            tracker.update_state(losses[_LOSS_OF_METRIC[name]])
        return {name: tracker.result() for name, tracker in self._trackers.items()}

    def train_step(self, data):
        """One optimizer step on the decoder.

        Under a `tf.distribute` strategy each replica computes the mean losses of its share of the global batch;
        the optimizer sums the replicas' gradients, so the loss is divided by the number of replicas first: the
        update equals the one-device update on the whole batch (for equal shares). Metrics record the undivided
        per-replica means (Keras averages them over replicas).
        """
        import tensorflow as tf  # the gradient tape and the strategy are TensorFlow's: keep them at the edge

        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        with tf.GradientTape() as tape:
            losses = self.compute_losses(data, training=True)
            loss = losses["total"] / float(replicas)
            loss = self.optimizer.scale_loss(loss)  # loss scaling under mixed precision; identity otherwise
        variables = self.trainable_weights
        gradients = tape.gradient(loss, variables)
        self.optimizer.apply_gradients(zip(gradients, variables))
        return self._record(losses)

    def test_step(self, data):
        return self._record(self.compute_losses(data, training=False))

    def predict_step(self, data):
        return self(data, training=False)

    # --- saving ------------------------------------------------------------------------------------------------

    def get_config(self):
        base = super().get_config()
        config = {
            **{key: base[key] for key in ("name", "trainable") if key in base},
            "backbone": self.backbone,
            "weights": self.weights_option,
            "encoder_layer": self.encoder_layer,
            "style_layers": list(self.style_layers),
            "style_weight": self.style_weight,
            "decoder_width": self.decoder_width,
            "epsilon": self.epsilon,
        }
        if self.reconstruction_weight > 0:  # plain models keep their earlier config
            config["reconstruction_weight"] = self.reconstruction_weight
        if self.tv_weight > 0:
            config["tv_weight"] = self.tv_weight
        if self.shallow_content_weight > 0:
            config["shallow_content_weight"] = self.shallow_content_weight
        if self.feature_scale != 1:
            config["feature_scale"] = self.feature_scale
        # Only a model with a structure network has these keys: plain models keep their earlier config.
        if self._structure is not None:
            if self._structure.spec is None:
                logger.warning("the structure network %s cannot be saved in the model's config (an in-memory model "
                               "or custom options): the saved config has no structure term; pass a .keras path to "
                               "keep it", self._structure.name)
            else:
                config["structure"] = self._structure.spec
                config["structure_weight"] = self.structure_weight
        return config

    def _check_shallow_content_weight(self, value):
        value = check_non_negative("shallow_content_weight", value)
        if value > 0:
            layer = self.shallow_content_layer
            if layer is None:
                raise OptionError(f"the shallow content term needs an encoder layer deeper than {ENCODER_LAYERS[0]}; "
                                  f"Received: encoder_layer={self.encoder_layer!r}, shallow_content_weight={value!r}")
            if layer not in self.style_layers:
                raise OptionError(f"the shallow content term reads {layer}: add it to style_layers; Received: "
                                  f"style_layers={list(self.style_layers)}")
        return value

    def _check_structure_weight(self, value):
        value = check_non_negative("structure_weight", value)
        require_structure(self._structure, value)
        return value

    def save_decoder(self, path):
        """Write the decoder's weights (only) to `path` (`*.weights.h5`), atomically.

        Args:
            path: file name ending in `.weights.h5`.

        Returns:
            The path as a `pathlib.Path`.
        """
        path = pathlib.Path(path)
        if not path.name.endswith(WEIGHTS_SUFFIX):
            raise OptionError(f"decoder weights file must end in {WEIGHTS_SUFFIX}; Received: path={str(path)!r}")
        if not path.parent.is_dir():
            raise OptionError(f"folder does not exist: {path.parent}")
        temporary = path.with_name(f".{path.name[:-len(WEIGHTS_SUFFIX)]}.{os.getpid()}.tmp{WEIGHTS_SUFFIX}")
        try:
            self.decoder.save_weights(temporary)
            os.replace(temporary, path)
        finally:
            if temporary.exists():
                temporary.unlink()
        return path

    def load_decoder(self, path):
        """Read decoder weights written by `save_decoder` (same `encoder_layer`, channels and `decoder_width`).

        Raises:
            WeightsError: the file is missing, unreadable or does not fit this decoder.
        """
        path = pathlib.Path(path)
        if not path.is_file():
            raise WeightsError(f"decoder weights file not found: {path}")
        # Keras warns once per mismatched layer before it raises; the WeightsError says it in one line instead
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                self.decoder.load_weights(path)
            except Exception as error:  # Keras raises ValueError, KeyError or OSError depending on the mismatch
                first_line = (str(error).splitlines() or [type(error).__name__])[0][:200]
                raise WeightsError(f"cannot load decoder weights from {path} into {self.decoder.name} "
                                   f"(encoder_layer={self.encoder_layer}, decoder_width={self.decoder_width}): "
                                   f"{first_line}") from None
        for warning in caught:  # a load that succeeded keeps its warnings
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
        return self


def _split_batch(batch):
    """`(content, style)` from a pair, a dict with keys content/style, or either wrapped in a 1-tuple."""
    if isinstance(batch, (tuple, list)) and len(batch) == 1:
        batch = batch[0]
    if isinstance(batch, dict):
        missing = {"content", "style"} - set(batch)
        if missing:
            raise OptionError(f"an AdaIN batch needs keys content and style; Received: keys={sorted(batch)}")
        return batch["content"], batch["style"]
    if isinstance(batch, (tuple, list)) and len(batch) == 2:
        return batch[0], batch[1]
    raise OptionError("an AdaIN batch is (content, style) or {'content': ..., 'style': ...}; "
                      f"Received: {type(batch).__name__}")


def check_alpha(alpha):
    """α of the content–style trade-off as a float in [0, 1], or `OptionError` naming the value received."""
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not 0.0 <= alpha <= 1.0:
        raise OptionError(f"alpha must be a number in [0, 1]; Received: alpha={alpha!r}")
    return float(alpha)
