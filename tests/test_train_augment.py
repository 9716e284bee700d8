import pytest
import torch
import torch.nn.functional as F
from torchvision.transforms.v2 import functional as TF

from dsb.augment import affine, apply_op, augment_batch, rand_augment, random_crop, random_flip


def images(n=64, c=3, size=16, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return (torch.randint(0, 256, (n, c, size, size), generator=gen) / 255).float()


def test_flip_mirrors_some_images_and_keeps_the_rest():
    x = images(256)
    out = random_flip(x, torch.Generator().manual_seed(1))
    kept = (out == x).flatten(1).all(1)
    mirrored = (out == x.flip(-1)).flatten(1).all(1)
    assert (kept | mirrored).all()
    assert 0.35 < mirrored.float().mean() < 0.65


def test_crop_is_a_translation_by_at_most_the_padding_with_zero_fill():
    x, p = images(32, size=16), 2
    out = random_crop(x, p, torch.Generator().manual_seed(2))
    padded = F.pad(x, (p,) * 4)
    offsets = set()
    for i in range(len(x)):  # brute force: find the window each output was cut from
        hits = [
            (dy, dx)
            for dy in range(2 * p + 1)
            for dx in range(2 * p + 1)
            if torch.equal(out[i], padded[i, :, dy : dy + 16, dx : dx + 16])
        ]
        assert hits, f"image {i} is no crop of its padded input"
        offsets.update(hits)
    assert len(offsets) > 10  # offsets differ between images


def oracle(op, img, factor):
    """torchvision's own single-image operations."""
    return {
        "brightness": lambda: TF.adjust_brightness(img, factor),
        "color": lambda: TF.adjust_saturation(img, factor),
        "contrast": lambda: TF.adjust_contrast(img, factor),
        "sharpness": lambda: TF.adjust_sharpness(img, factor),
        "solarize": lambda: TF.solarize(img, 0.7),
        "autocontrast": lambda: TF.autocontrast(img),
    }[op]()


@pytest.mark.parametrize(
    "op", ["brightness", "color", "contrast", "sharpness", "solarize", "autocontrast"]
)
def test_batched_colour_operations_agree_with_torchvision_image_by_image(op):
    x, level = images(8), 9 / 30
    sign = torch.tensor([1.0, -1.0] * 4)
    out = apply_op(x, op, level, sign)
    for i in range(len(x)):
        factor = 1 + sign[i].item() * 0.9 * level
        assert torch.allclose(out[i], oracle(op, x[i], factor).clamp(0, 1), atol=1e-5), i


@pytest.mark.parametrize("op", ["posterize", "equalize"])
def test_uint8_operations_agree_with_torchvision(op):
    x = images(8)
    out = apply_op(x, op, 9 / 30, torch.ones(8))
    as_uint8 = (x * 255).round().to(torch.uint8)
    expected = TF.posterize(as_uint8, 7) if op == "posterize" else TF.equalize(as_uint8)
    assert torch.equal((out * 255).round().to(torch.uint8), expected)


def test_translation_moves_pixels_by_whole_steps_with_zero_fill():
    x, k = images(4, size=16), 4
    out = affine(x, "translate_x", torch.full((4,), k / 16))
    assert torch.equal(out[..., : 16 - k], x[..., k:])
    assert (out[..., 16 - k :] == 0).all()
    assert torch.equal(affine(x, "rotate", torch.zeros(4)), x)


def test_rand_augment_gives_each_image_its_own_operations():
    x = images(1).expand(64, -1, -1, -1).contiguous()
    out = rand_augment(x, 2, 9, torch.Generator().manual_seed(3))
    assert out.shape == x.shape and out.min() >= 0 and out.max() <= 1
    distinct = {tuple(o.flatten()[:64].tolist()) for o in out}
    assert len(distinct) > 20
    again = rand_augment(x, 2, 9, torch.Generator().manual_seed(3))
    assert torch.equal(out, again)
    with pytest.raises(ValueError, match="magnitude"):
        rand_augment(x, 2, 31, torch.Generator())


def test_switched_off_augmentation_is_the_identity():
    x = images(8)
    off = {"flip": False, "crop": False, "randaugment": {"enabled": False}}
    assert torch.equal(augment_batch(x, off, torch.Generator()), x)
