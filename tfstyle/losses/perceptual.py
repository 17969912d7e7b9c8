"""Perceptual losses: content and style terms computed on the features of one or several backbones."""

import keras
import numpy as np
from keras import ops

from tfstyle.errors import OptionError
from tfstyle.losses.content import ContentLoss
from tfstyle.losses.style import MASKS_UNSUPPORTED, GramStyleLoss
from tfstyle.ops.masks import resize_mask

# Below this, a target's energy is treated as zero (a layer that is dead for this image) and left unscaled.
_TINY = 1e-12


def layer_weights(layers, default_layers):
    """Normalise a layer selection to `{name: weight}` with weights summing to 1.

    Args:
        layers: None (use `default_layers` with equal weights), a sequence of names (equal weights) or a mapping
            `{name: weight}` (rescaled to sum to 1).
        default_layers: names used when `layers` is None.
    """
    if layers is None:
        layers = default_layers
    if isinstance(layers, str):
        layers = [name.strip() for name in layers.split(",") if name.strip()]
    if not isinstance(layers, dict):
        layers = {name: 1.0 for name in layers}
    total = float(sum(layers.values()))
    if not layers or total <= 0:
        raise ValueError(f"layer weights must be positive and not empty; received {layers}")
    return {name: float(weight) / total for name, weight in layers.items()}


class PerceptualLoss:
    """Content and style losses of an RGB image on one backbone's features.

    `L = α Σ_l c_l L_content,l + β Σ_k b_k Σ_l w_l L_style,k,l` where `c_l`, `w_l` are layer weights (summing to 1),
    `b_k` the blend weights of several style images (summing to 1) and α, β the content and style weights.

    Normalisation (a deviation from Gatys et al., on purpose): with `normalize=True` every per-layer term is divided
    by its value for an all-zero feature map, i.e. by the energy of its target representation (for the Gram loss
    ¼·mean(A²), for the content loss mean(P²), for mean/std mean(μ²+σ²)). Each term then starts near 1 whatever the
    layer, the backbone, its preprocessing or the image size, so the same α, β work for VGG19, InceptionV3 or
    ResNet50 and losses of several backbones can be added with meaningful weights. The papers' raw values are
    obtained with `normalize=False`.

    Spatial control (Gatys et al. 2017), with `set_styles(..., masks=...)`: style k applies to the region given by
    its mask m_k (image resolution, values in [0, 1]). At every style layer the mask is resized to the layer's grid
    by area averaging (`tfstyle.ops.resize_mask`) and style k's term becomes
    `a_k · L_k(G_{m_k})`: the style loss of the region's own statistics (mask-weighted Gram `Σ m_i f_i f_iᵀ / Σ m_i`
    or mask-weighted mean/std, see `GramStyleLoss.compare_masked`) against the statistics of the whole style image,
    times the region's share of the layer's positions `a_k = mean(m_k)`. That factor makes each pixel of a region
    feel the same style pull as in an unmasked run whatever the region's size (the gradient at position i is m_i
    times the unmasked loss's gradient form, divided by M, not by the region's size), so a region covering 5% of the
    image is not stylized 20× harder per pixel; an empty region contributes exactly 0. Positions outside every mask
    only get the content and TV terms. With an all-ones mask for a single style the loss equals the unmasked loss.
    Only losses with `supports_masks` (Gram, mean/std) accept masks.

    Args:
        extractor: a `tfstyle.backbones.FeatureExtractor` that returns at least every layer used here.
        content_layers: `{layer: weight}`, a list of names or None (the backbone's defaults).
        style_layers: same, for style.
        style_loss: a `FeatureComparisonLoss` for style (default `GramStyleLoss()`).
        content_loss: a `FeatureComparisonLoss` for content (default `ContentLoss()`).
        content_weight: α.
        style_weight: β.
        normalize: divide each term by its target's energy (see above).

    Example:
        >>> loss = PerceptualLoss(extractor, style_weight=1e3)
        >>> loss.set_content(content_batch); loss.set_styles([style_batch])
        >>> terms = loss(image_batch)   # {"content": ..., "style": ..., "style/block1_conv1": ..., ...}
    """

    def __init__(self, extractor, content_layers=None, style_layers=None, style_loss=None, content_loss=None,
                 content_weight=1.0, style_weight=1.0, normalize=True):
        spec = extractor.spec
        self.extractor = extractor
        self.content_layers = layer_weights(content_layers, spec.content_layers)
        self.style_layers = layer_weights(style_layers, spec.style_layers)
        for layers in (self.content_layers, self.style_layers):
            spec.check_layers(layers)
            missing = [name for name in layers if name not in extractor.layers]
            if missing:
                raise ValueError(f"the feature extractor does not return {missing}; build it with these layers")
        self.style_loss = style_loss if style_loss is not None else GramStyleLoss()
        self.content_loss = content_loss if content_loss is not None else ContentLoss()
        self.content_weight = float(content_weight)
        self.style_weight = float(style_weight)
        self.normalize = normalize
        self._content_targets = None
        self._style_targets = None
        self._style_masks = None

    @property
    def layers(self):
        """Every layer this loss reads, in extractor order."""
        return tuple(name for name in self.extractor.layers if name in self.content_layers or name in self.style_layers)

    def _target(self, loss, features):
        representation = loss.representation(features)
        if not self.normalize:
            return representation, 1.0
        energy = float(ops.convert_to_numpy(ops.mean(loss.compare(ops.zeros_like(features), representation))))
        return representation, (1.0 / energy if energy > _TINY else 1.0)

    def set_content(self, image):
        """Compute the content targets from an RGB image batch (1, H, W, 3) in [0, 1]."""
        features = self.extractor(image)
        self._content_targets = {
            name: self._target(self.content_loss, features[name]) for name in self.content_layers
        }

    def set_styles(self, images, blend_weights=None, masks=None):
        """Compute the style targets of one or several style images, optionally each for its own region.

        Args:
            images: a list of RGB batches (1, H_k, W_k, 3) in [0, 1]; sizes may differ.
            blend_weights: one positive weight per image (rescaled to sum to 1; with `masks`, to a mean of 1, so
                that equal weights give every region the strength of a single-style run); default equal.
            masks: None (every style applies to the whole image), or one mask per style image as an array
                (K, H, W) in [0, 1] at the resolution of the images this loss will be called on (see
                `tfstyle.masks.load_style_masks`); the style targets are still computed on the whole style images.
        """
        if blend_weights is None:
            blend_weights = [1.0] * len(images)
        if len(blend_weights) != len(images) or any(w < 0 for w in blend_weights) or sum(blend_weights) <= 0:
            raise ValueError(f"need one non-negative blend weight per style image; received {list(blend_weights)} "
                             f"for {len(images)} images")
        if masks is not None:
            masks = np.asarray(masks, dtype=np.float32)
            if masks.ndim != 3 or len(masks) != len(images):
                raise ValueError(f"need one (H, W) mask per style image; received masks of shape {masks.shape} for "
                                 f"{len(images)} images")
            if not getattr(self.style_loss, "supports_masks", False):
                raise OptionError(MASKS_UNSUPPORTED)
        total = float(sum(blend_weights)) / (len(images) if masks is not None else 1)
        self._style_targets = []
        for image, blend in zip(images, blend_weights):
            features = self.extractor(image)
            targets = {name: self._target(self.style_loss, features[name]) for name in self.style_layers}
            self._style_targets.append((float(blend) / total, targets))
        self._style_masks = None if masks is None else masks[..., None]

    def __call__(self, image, features=None):
        """Weighted loss terms of an image batch, as scalars.

        Returns:
            `{"content": α·Σ…, "style": β·Σ…, "content/<layer>": …, "style/<layer>": …}`; the per-layer entries are
            the weighted contributions, so `content` and `style` are their sums.
        """
        if self._content_targets is None or self._style_targets is None:
            raise RuntimeError("call set_content() and set_styles() before computing the loss")
        if features is None:
            features = self.extractor(image)
        terms = {}
        for name, layer_weight in self.content_layers.items():
            target, scale = self._content_targets[name]
            value = ops.mean(self.content_loss.compare(features[name], target))
            terms[f"content/{name}"] = (self.content_weight * layer_weight * scale) * value
        if self._style_masks is not None and tuple(image.shape[1:3]) != self._style_masks.shape[1:3]:
            raise ValueError(f"the style masks are {self._style_masks.shape[1:3]} but the image is "
                             f"{tuple(image.shape[1:3])}; masks must have the image's height and width")
        for name, layer_weight in self.style_layers.items():
            value = 0.0
            if self._style_masks is None:
                for blend, targets in self._style_targets:
                    target, scale = targets[name]
                    value = value + (blend * scale) * ops.mean(self.style_loss.compare(features[name], target))
            else:
                value = self._masked_style_term(name, features[name])
            terms[f"style/{name}"] = (self.style_weight * layer_weight) * value
        terms["content"] = sum(terms[f"content/{name}"] for name in self.content_layers)
        terms["style"] = sum(terms[f"style/{name}"] for name in self.style_layers)
        return terms

    def _masked_style_term(self, name, features):
        """`Σ_k b_k · scale_k · a_k · L_k(region k)` at one layer (see the class docstring)."""
        # The masks are numpy arrays: resized once per layer while the objective is traced, a constant afterwards.
        masks = resize_mask(self._style_masks, tuple(features.shape[1:3]))
        value = 0.0
        for k, (blend, targets) in enumerate(self._style_targets):
            target, scale = targets[name]
            mask = ops.cast(masks[k:k + 1], features.dtype)
            coverage = ops.mean(mask)
            value = value + (blend * scale) * coverage * ops.mean(
                self.style_loss.compare_masked(features, target, mask))
        return value


class MultiBackboneLoss:
    """Weighted sum of perceptual losses on several backbones that all read the same RGB image.

    `L = Σ_b w_b L_b`, e.g. Jin & Zhou's `w_vgg·L_vgg19 + w_inception·L_inception_v3`. Each backbone applies its own
    preprocessing inside its extractor. With normalised member losses (the default) the weights compare like with
    like.

    Args:
        losses: `{backbone_name: PerceptualLoss}`.
        weights: `{backbone_name: weight}`.

    Returns (call):
        `{"content": …, "style": …, "<backbone>/content": …, "<backbone>/style/<layer>": …}`.
    """

    def __init__(self, losses, weights):
        if set(losses) != set(weights):
            raise ValueError(f"need one weight per backbone; received losses {sorted(losses)} and weights {weights}")
        self.losses = dict(losses)
        self.weights = {name: float(weight) for name, weight in weights.items()}

    def set_content(self, image):
        for loss in self.losses.values():
            loss.set_content(image)

    def set_styles(self, images, blend_weights=None, masks=None):
        for loss in self.losses.values():
            loss.set_styles(images, blend_weights, masks)

    def __call__(self, image):
        terms = {"content": 0.0, "style": 0.0}
        for name, loss in self.losses.items():
            weight = self.weights[name]
            for key, value in loss(image).items():
                terms[f"{name}/{key}"] = weight * value
            terms["content"] += terms[f"{name}/content"]
            terms["style"] += terms[f"{name}/style"]
        return terms
