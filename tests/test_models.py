import pytest
import torch

from dsb.models import ARCHITECTURES, build_model, parameter_count, swin_window

# Measured for 3 channels and 10 classes (8x8 images); a change means a
# different network.
PARAMETERS = {
    "mlp": 117_770,  # the only one that depends on the size: here 8x8 inputs
    "cnn": 29_098,
    "resnet_small": 272_474,  # He et al.'s ResNet-20: 0.27M
    "convnext_v2_atto": 3_388_810,
    "convnext_v2_femto": 4_849_930,
    "convnext_v2_pico": 8_555_530,
    "convnext_v2_nano": 14_985_610,
    "convnext_v2_tiny": 27_869_866,
    "regnet_y_400mf": 3_907_554,
    "regnet_y_800mf": 5_655_362,
    "regnet_y_1_6gf": 10_322_320,
    "regnet_y_3_2gf": 17_938_468,
    "swin_v2_atto": 4_854_878,
    "swin_v2_femto": 6_955_510,
    "swin_v2_pico": 12_299_558,
    "swin_v2_nano": 21_643_878,
    "swin_v2_tiny": 27_582_388,
}


def test_the_zoo_is_the_papers_plus_cpu_nets():
    assert set(ARCHITECTURES) == set(PARAMETERS)


@pytest.mark.parametrize("arch", sorted(PARAMETERS))
def test_builds_runs_forward_backward_with_expected_size(arch):
    torch.manual_seed(0)
    model = build_model(arch, channels=3, classes=10, size=8)
    assert parameter_count(model) == PARAMETERS[arch]
    logits = model(torch.rand(2, 3, 8, 8))
    assert logits.shape == (2, 10)
    logits.logsumexp(1).sum().backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)


@pytest.mark.parametrize(
    "arch, imagenet_count",  # torchvision's documented 1000-class parameter counts
    [
        ("regnet_y_400mf", 4_344_144),
        ("regnet_y_800mf", 6_432_512),
        ("regnet_y_1_6gf", 11_202_430),
        ("regnet_y_3_2gf", 19_436_338),
    ],
)
def test_regnet_stem_change_keeps_the_published_network(arch, imagenet_count):
    # stride 1 instead of 2 changes no weight: only the 10-class head differs from ImageNet's
    model = build_model(arch, channels=3, classes=10, size=32)
    width = model.fc.in_features
    assert parameter_count(model) + (width + 1) * (1000 - 10) == imagenet_count


def test_convnext_patch_one_stem_differs_from_timm_only_in_stem_and_head():
    import timm

    reference = parameter_count(timm.create_model("convnextv2_atto", num_classes=10))
    ours = build_model("convnext_v2_atto", channels=3, classes=10, size=32)
    assert reference - parameter_count(ours) == 3 * 40 * (4 * 4 - 1)  # 4x4 patches -> 1x1
    assert ours.stem[0].kernel_size == (1, 1)


@pytest.mark.parametrize("channels, classes, size", [(1, 10, 28), (3, 7, 32), (3, 7, 64)])
@pytest.mark.parametrize(
    "arch", ["mlp", "cnn", "resnet_small", "convnext_v2_atto", "regnet_y_400mf", "swin_v2_atto"]
)
def test_any_channels_classes_and_dataset_size(arch, channels, classes, size):
    torch.manual_seed(0)
    model = build_model(arch, channels=channels, classes=classes, size=size).eval()
    with torch.no_grad():
        assert model(torch.rand(2, channels, size, size)).shape == (2, classes)


def test_swin_windows_tile_the_first_stage():
    assert swin_window(14) == 7  # 28 px, patch 2
    assert swin_window(16) == 8  # 32 px
    assert swin_window(32) == 8  # 64 px
    for grid in (14, 16, 32):
        assert grid % swin_window(grid) == 0


def test_cnn_options_change_the_network():
    small = build_model("cnn", channels=1, classes=10, size=28, width=8, blocks=2)
    # two conv3x3 layers with BN, one linear head
    assert parameter_count(small) == (1 * 9 * 8 + 2 * 8) + (8 * 9 * 8 + 2 * 8) + (8 * 10 + 10)


def test_unknown_architecture_and_bad_options_are_named():
    with pytest.raises(ValueError, match="unknown architecture 'vgg'"):
        build_model("vgg", channels=3, classes=10, size=32)
    with pytest.raises(ValueError, match="'cnn'.*depth"):
        build_model("cnn", channels=3, classes=10, size=32, depth=3)
    with pytest.raises(ValueError, match="swin_v2_atto.*27"):
        build_model("swin_v2_atto", channels=3, classes=10, size=27)
