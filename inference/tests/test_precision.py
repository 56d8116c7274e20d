"""INFERENCE_PRECISION: the precision each network runs at, decided from the CPU's flags at
run time, and a bfloat16 network that gives float32's result to within 45 dB on real frames
(on any CPU: where bfloat16 is emulated it is slower, never different)."""

from pathlib import Path

import keras
import numpy as np
import pytest
from django.conf import settings
from PIL import Image

from inference import engine, metrics, precision
from inference.architectures import DEBLURGAN, NAFNET, SRN
from inference.registry import DEFAULT_WEIGHTS

ZEN4 = frozenset({"avx2", "fma", "avx512f", "avx512_bf16"})
SAPPHIRE_RAPIDS = frozenset({"avx2", "avx512f", "amx_bf16", "amx_tile"})
ZEN1 = frozenset({"avx2", "fma", "sse4_2"})


@pytest.mark.parametrize(
    ("setting", "architecture", "flags", "expected"),
    [
        ("auto", SRN, ZEN4, "bfloat16"),
        ("auto", SRN, SAPPHIRE_RAPIDS, "bfloat16"),
        ("auto", SRN, ZEN1, "float32"),
        ("auto", NAFNET, ZEN4, "bfloat16"),
        ("auto", NAFNET, ZEN1, "float32"),
        # No trained weights to check that its output agrees.
        ("auto", DEBLURGAN, ZEN4, "float32"),
        ("float32", SRN, ZEN4, "float32"),
        ("bfloat16", NAFNET, ZEN1, "bfloat16"),
    ],
)
def test_the_precision_follows_the_setting_the_cpu_and_the_network(setting, architecture, flags, expected):
    assert precision.resolve(setting, architecture, flags) == expected


@pytest.mark.parametrize(
    "gpu, expected",
    [((8, 0), "bfloat16"), ((9, 0), "bfloat16"), ((7, 5), "float32")],
)
def test_on_a_gpu_its_compute_capability_decides_not_the_cpu(gpu, expected):
    # A Turing GPU emulates bfloat16 whatever the host CPU has.
    assert precision.resolve("auto", SRN, ZEN4, gpu=gpu) == expected
    assert precision.resolve("auto", SRN, ZEN1, gpu=gpu) == expected
    assert precision.resolve("auto", DEBLURGAN, ZEN4, gpu=gpu) == "float32"
    assert f"auto, {expected} for nafnet, srn on a GPU of compute capability {gpu[0]}.{gpu[1]}" in precision.why("auto", gpu=gpu)


def test_an_unknown_precision_is_refused_by_name():
    with pytest.raises(ValueError, match="must be one of auto, float32, bfloat16, not 'float16'"):
        precision.resolve("float16", SRN, ZEN4)


def test_the_cpu_flags_come_from_cpuinfo_and_none_without_it(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu avx2 avx512_bf16 fma\n\nprocessor\t: 1\n")

    assert precision.cpu_flags(cpuinfo) == {"fpu", "avx2", "avx512_bf16", "fma"}
    assert precision.cpu_flags(tmp_path / "missing") == frozenset()
    assert "bfloat16 for nafnet, srn (the CPU has avx512_bf16)" in precision.why("auto", precision.cpu_flags(cpuinfo))
    assert "float32 (the CPU has no bfloat16 arithmetic" in precision.why("auto", ZEN1)


def frames() -> list[np.ndarray]:
    """Two real blurred street frames, 256 px crops of their centres."""
    folder = Path(settings.BENCHMARKS_DIR) / "gopro-real" / "blur"
    crops = []
    for name in ("000100.png", "000115.png"):
        rgb = np.asarray(Image.open(folder / name).convert("RGB"))
        top, left = (rgb.shape[0] - 256) // 2, (rgb.shape[1] - 256) // 2
        crops.append(rgb[top : top + 256, left : left + 256])
    return crops


@pytest.fixture(params=["srn", "nafnet"])
def trained(request) -> keras.Model:
    """The networks that auto runs in bfloat16, with their trained weights: SRN (measured
    53.8 dB against float32 on a whole 1280x720 frame) and the default fast NAFNet (59.3)."""
    if request.param == "srn":
        return request.getfixturevalue("srn_model")
    return engine.load_model(DEFAULT_WEIGHTS)


def test_the_bfloat16_networks_agree_with_float32_on_real_frames(trained):
    low = precision.in_precision(trained, precision.BFLOAT16)
    convolutions = [layer for layer in low.layers if layer.__class__.__name__ == "Conv2D"]
    assert convolutions[0].dtype_policy.name == "mixed_bfloat16" and convolutions[-1].dtype_policy.name == "float32"

    for rgb in frames():
        exact, approximate = engine.deblur(trained, rgb), engine.deblur(low, rgb)
        assert metrics.psnr(approximate, exact) >= 45
        assert not np.array_equal(approximate, exact)  # it did run in another precision


@pytest.mark.parametrize(("setting", "policy"), [("float32", "float32"), ("bfloat16", "mixed_bfloat16")])
def test_a_model_file_loads_in_the_precision_asked_for(tmp_path, setting, policy):
    from inference import nets

    path = tmp_path / "srn.keras"
    nets.build_srn().save(path)

    model = engine.load_model(path, setting)

    first_convolution = next(layer for layer in model.layers if layer.__class__.__name__ == "Conv2D")
    assert first_convolution.dtype_policy.name == policy
    assert model is engine.load_model(path, setting)  # loaded once per process
