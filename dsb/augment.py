"""Data augmentation of whole batches as tensor ops on the training device.

Every image gets its own random flip, crop offset and RandAugment operations, but the work is
done batch-wise (one gather, one ``grid_sample``, masked blends), so the accelerator never waits
on a per-image Python pipeline. Images are float tensors in [0, 1] of shape (B, C, H, W).

RandAugment follows Cubuk et al. (2020) with torchvision's operation list and magnitude scale
(31 bins): each image draws ``num_ops`` operations uniformly, signed magnitudes flip at random.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torchvision.transforms.v2 import functional as TF

OPS = (
    "identity",
    "shear_x",
    "shear_y",
    "translate_x",
    "translate_y",
    "rotate",
    "brightness",
    "color",
    "contrast",
    "sharpness",
    "posterize",
    "solarize",
    "autocontrast",
    "equalize",
)
GEOMETRIC = ("shear_x", "shear_y", "translate_x", "translate_y", "rotate")
BINS = 31


def random_flip(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    flip = torch.rand(len(x), generator=gen, device=x.device) < 0.5
    return torch.where(flip[:, None, None, None], x.flip(-1), x)


def random_crop(x: torch.Tensor, padding: int, gen: torch.Generator) -> torch.Tensor:
    """Zero-pad by ``padding`` on each side and cut a window of the original size at a random
    offset per image (a random translation by up to ``padding`` pixels)."""
    if padding == 0:
        return x
    b, _, h, w = x.shape
    padded = F.pad(x, (padding,) * 4)
    dy, dx = torch.randint(0, 2 * padding + 1, (2, b, 1), generator=gen, device=x.device)
    rows = dy + torch.arange(h, device=x.device)  # (B, H)
    cols = dx + torch.arange(w, device=x.device)  # (B, W)
    batch = torch.arange(b, device=x.device)[:, None, None]
    # advanced indexing puts the gathered (B, H, W) dims first, channels last
    return padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)


def grey(x: torch.Tensor) -> torch.Tensor:
    if x.shape[1] == 1:
        return x
    r, g, b = x.unbind(1)
    return (0.2989 * r + 0.587 * g + 0.114 * b)[:, None].expand_as(x)


def blend(x: torch.Tensor, degenerate: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    return (degenerate + factor[:, None, None, None] * (x - degenerate)).clamp(0, 1)


def smooth(x: torch.Tensor) -> torch.Tensor:
    """PIL's SMOOTH kernel, borders left untouched (as PIL and torchvision do)."""
    c = x.shape[1]
    kernel = torch.ones(3, 3, dtype=x.dtype, device=x.device)
    kernel[1, 1] = 5
    kernel = (kernel / kernel.sum()).expand(c, 1, 3, 3)
    out = x.clone()
    out[..., 1:-1, 1:-1] = F.conv2d(x, kernel, groups=c)
    return out


def affine(x: torch.Tensor, op: str, magnitude: torch.Tensor) -> torch.Tensor:
    """Shear, translate (fraction of the side) or rotate (degrees) each image by its own
    signed magnitude; nearest-neighbour sampling, zero fill (torchvision's RandAugment)."""
    b = len(x)
    theta = torch.zeros(b, 2, 3, dtype=x.dtype, device=x.device)
    theta[:, 0, 0] = theta[:, 1, 1] = 1
    if op == "shear_x":
        theta[:, 0, 1] = magnitude
    elif op == "shear_y":
        theta[:, 1, 0] = magnitude
    elif op == "translate_x":
        theta[:, 0, 2] = 2 * magnitude
    elif op == "translate_y":
        theta[:, 1, 2] = 2 * magnitude
    else:
        angle = magnitude * math.pi / 180
        theta[:, 0, 0] = theta[:, 1, 1] = angle.cos()
        theta[:, 0, 1], theta[:, 1, 0] = -angle.sin(), angle.sin()
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="nearest", padding_mode="zeros", align_corners=False)


def apply_op(x: torch.Tensor, op: str, level: float, sign: torch.Tensor) -> torch.Tensor:
    """One RandAugment operation at ``level`` in [0, 1] (magnitude / (bins - 1))."""
    if op == "identity":
        return x
    if op in ("shear_x", "shear_y"):
        return affine(x, op, sign * 0.3 * level)
    if op in ("translate_x", "translate_y"):
        return affine(x, op, sign * (150 / 331) * level)
    if op == "rotate":
        return affine(x, op, sign * 30 * level)
    factor = 1 + sign * 0.9 * level
    if op == "brightness":
        return blend(x, torch.zeros_like(x), factor)
    if op == "color":
        return blend(x, grey(x), factor)
    if op == "contrast":
        return blend(x, grey(x).mean(dim=(1, 2, 3), keepdim=True).expand_as(x), factor)
    if op == "sharpness":
        return blend(x, smooth(x), factor)
    if op == "posterize":
        bits = 8 - int(round(level * (BINS - 1) / ((BINS - 1) / 4)))
        return TF.posterize(to_uint8(x), bits).to(x.dtype) / 255
    if op == "solarize":
        return torch.where(x >= 1 - level, 1 - x, x)
    if op == "autocontrast":
        low = x.amin(dim=(2, 3), keepdim=True)
        high = x.amax(dim=(2, 3), keepdim=True)
        span = high - low
        return torch.where(span > 0, (x - low) / span.clamp_min(1e-12), x)
    if op == "equalize":
        return TF.equalize(to_uint8(x)).to(x.dtype) / 255
    raise ValueError(f"unknown RandAugment operation {op!r}")


def to_uint8(x: torch.Tensor) -> torch.Tensor:
    return (x * 255).round().to(torch.uint8)


def rand_augment(
    x: torch.Tensor, num_ops: int, magnitude: int, gen: torch.Generator
) -> torch.Tensor:
    """Each image draws ``num_ops`` operations; images sharing an operation are done together."""
    if not 0 <= magnitude < BINS:
        raise ValueError(f"RandAugment magnitude must be in [0, {BINS - 1}], got {magnitude}")
    level = magnitude / (BINS - 1)
    for _ in range(num_ops):
        choice = torch.randint(len(OPS), (len(x),), generator=gen, device=x.device)
        sign = torch.where(torch.rand(len(x), generator=gen, device=x.device) < 0.5, -1.0, 1.0)
        sign = sign.to(x.dtype)
        out = x.clone()
        for k, op in enumerate(OPS):
            idx = (choice == k).nonzero().squeeze(1)
            if op != "identity" and len(idx):
                out[idx] = apply_op(x[idx], op, level, sign[idx])
        x = out
    return x


def augment_batch(x: torch.Tensor, settings: dict, gen: torch.Generator) -> torch.Tensor:
    """Apply the switched-on augmentations of ``settings`` (keys flip, crop, randaugment)."""
    if settings.get("randaugment", {}).get("enabled", False):
        ra = settings["randaugment"]
        x = rand_augment(x, ra["num_ops"], ra["magnitude"], gen)
    if settings.get("flip", False):
        x = random_flip(x, gen)
    if settings.get("crop", False):
        x = random_crop(x, x.shape[-2] // 8, gen)
    return x
