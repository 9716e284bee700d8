"""The model zoo: every network the training stage can build, by name.

Small-image stems follow the paper: ConvNeXt-V2 with patch size 1, RegNet-Y with stride-1 stem,
Swin-V2 with patch size 2. The paper's families come from timm and torchvision; only the
CPU-sized nets (mlp, cnn, resnet_small) are assembled here from torch building blocks.
"""

from __future__ import annotations

from collections.abc import Callable

import timm
import torchvision
from timm.models.swin_transformer_v2 import SwinTransformerV2
from torch import nn
from torchvision.models.resnet import BasicBlock
from torchvision.ops import Conv2dNormActivation


def mlp(channels: int, classes: int, size: int, width: int = 256, depth: int = 2) -> nn.Module:
    layers: list[nn.Module] = [nn.Flatten()]
    d = channels * size * size
    for _ in range(depth):
        layers += [nn.Linear(d, width), nn.ReLU()]
        d = width
    return nn.Sequential(*layers, nn.Linear(d, classes))


def cnn(channels: int, classes: int, size: int, width: int = 32, blocks: int = 4) -> nn.Module:
    """Blocks of conv3x3-BN-ReLU, each halving the resolution, then global pooling."""
    layers: list[nn.Module] = []
    c = channels
    for _ in range(blocks):
        layers += [Conv2dNormActivation(c, width, kernel_size=3), nn.MaxPool2d(2, ceil_mode=True)]
        c = width
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, classes))


def resnet_small(
    channels: int, classes: int, size: int, width: int = 16, blocks_per_stage: int = 3
) -> nn.Module:
    """He et al.'s CIFAR ResNet (ResNet-20 at the defaults): three stages of widths w, 2w, 4w."""
    layers: list[nn.Module] = [Conv2dNormActivation(channels, width, kernel_size=3)]
    c = width
    for stage in range(3):
        out, stride = width * 2**stage, 1 if stage == 0 else 2
        for i in range(blocks_per_stage):
            s = stride if i == 0 else 1
            down = None
            if s != 1 or c != out:
                down = nn.Sequential(
                    nn.Conv2d(c, out, 1, stride=s, bias=False), nn.BatchNorm2d(out)
                )
            layers.append(BasicBlock(c, out, stride=s, downsample=down))
            c = out
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, classes))


def convnext_v2(variant: str) -> Callable[..., nn.Module]:
    def build(channels: int, classes: int, size: int, drop_path: float = 0.1) -> nn.Module:
        return timm.create_model(
            f"convnextv2_{variant}",
            pretrained=False,
            in_chans=channels,
            num_classes=classes,
            patch_size=1,
            drop_path_rate=drop_path,
        )

    return build


def regnet_y(variant: str) -> Callable[..., nn.Module]:
    def build(channels: int, classes: int, size: int) -> nn.Module:
        model = getattr(torchvision.models, f"regnet_y_{variant}")(num_classes=classes)
        stem_width = model.stem[0].out_channels
        # torchvision's stem halves the resolution; small images keep it (stride 1).
        model.stem = Conv2dNormActivation(channels, stem_width, kernel_size=3, stride=1)
        return model

    return build


SWIN_V2 = {  # embed dim, depths, heads (head dim 20/24/32/40/32)
    "atto": (40, (2, 2, 6, 2), (2, 4, 8, 16)),
    "femto": (48, (2, 2, 6, 2), (2, 4, 8, 16)),
    "pico": (64, (2, 2, 6, 2), (2, 4, 8, 16)),
    "nano": (80, (2, 2, 8, 2), (2, 4, 8, 16)),
    "tiny": (96, (2, 2, 6, 2), (3, 6, 12, 24)),
}


def swin_window(grid: int, nominal: int = 7) -> int:
    """The divisor of the first stage's token grid nearest the paper's window of 7 (28 px: 7, 32
    and 64 px: 8), so the first stages tile without padding; timm shrinks it on smaller grids."""
    divisors = [w for w in range(1, grid + 1) if grid % w == 0]
    return min(divisors, key=lambda w: (abs(w - nominal), w))


def swin_v2(variant: str) -> Callable[..., nn.Module]:
    embed, depths, heads = SWIN_V2[variant]

    def build(channels: int, classes: int, size: int, drop_path: float = 0.2) -> nn.Module:
        if size % 2:
            raise ValueError(f"swin_v2_{variant}: image size {size} is not divisible by patch 2")
        return SwinTransformerV2(
            img_size=size,
            patch_size=2,
            in_chans=channels,
            num_classes=classes,
            embed_dim=embed,
            depths=depths,
            num_heads=heads,
            window_size=swin_window(size // 2),
            drop_path_rate=drop_path,
        )

    return build


ARCHITECTURES: dict[str, Callable[..., nn.Module]] = {
    "mlp": mlp,
    "cnn": cnn,
    "resnet_small": resnet_small,
    **{f"convnext_v2_{v}": convnext_v2(v) for v in ("atto", "femto", "pico", "nano", "tiny")},
    **{f"regnet_y_{v}": regnet_y(v) for v in ("400mf", "800mf", "1_6gf", "3_2gf")},
    **{f"swin_v2_{v}": swin_v2(v) for v in SWIN_V2},
}


def build_model(arch: str, channels: int, classes: int, size: int, **kwargs) -> nn.Module:
    """A freshly initialised ``arch`` for images of shape (channels, size, size); ``kwargs`` are
    the architecture's own options (e.g. ``width`` and ``blocks`` of the cnn)."""
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r}; known: {sorted(ARCHITECTURES)}")
    try:
        return ARCHITECTURES[arch](channels, classes, size, **kwargs)
    except TypeError as err:
        raise ValueError(f"architecture {arch!r}: bad model options {kwargs} ({err})") from err


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
