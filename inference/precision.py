"""The floating-point precision the networks run at, chosen at run time from what the CPU
reports (INFERENCE_PRECISION: auto, float32 or bfloat16), never from the machine the code
was written on.

bfloat16 pays only where the CPU does it in hardware: on AVX2-only CPUs it is emulated, and
SRN ran 0.81x as fast as in float32 (docs/benchmarks.md). Measured on an avx512_bf16 CPU
(2026-12-07, a 1280x720 gopro-real frame, bench/speed.py): SRN 1.87x faster, its output
within 53.8 dB of float32's; the fast NAFNet 1.35x, within 59.3 dB. So `auto` runs those two
in bfloat16 on such CPUs. DeblurGAN stays in float32: no trained weights here to check that
its output agrees."""

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from inference.architectures import NAFNET, SRN

FLOAT32, BFLOAT16 = "float32", "bfloat16"
SETTINGS = ("auto", FLOAT32, BFLOAT16)
if TYPE_CHECKING:
    import keras

# /proc/cpuinfo flags of bfloat16 arithmetic in hardware: AVX-512 BF16 (Zen 4, Cooper Lake
# and later) and AMX (Sapphire Rapids and later).
HARDWARE_BFLOAT16 = frozenset({"avx512_bf16", "amx_bf16"})
# Architectures measured faster in bfloat16 on such CPUs, with outputs within 45 dB of float32.
BFLOAT16_PAYS = frozenset({NAFNET, SRN})
# NVIDIA GPUs with bfloat16 tensor cores: compute capability 8.0 (Ampere) and later. Older
# ones emulate it. Not timed on a GPU worker yet: this follows the hardware, as for CPUs.
GPU_BFLOAT16 = (8, 0)


@functools.cache
def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    """The CPU's feature flags; none where the system does not say (not Linux). Read once:
    every model load asks, and the CPU does not change under a running process."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.partition(":")[2].split())
    return frozenset()


@functools.cache
def gpu_capability() -> tuple[int, int] | None:
    """The compute capability of the GPU that TensorFlow runs the networks on in this process,
    or None on a CPU worker. Workers only: it loads TensorFlow."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    return tf.config.experimental.get_device_details(gpus[0]).get("compute_capability") if gpus else None


def _hardware_bfloat16(flags: frozenset[str] | None, gpu: tuple[int, int] | None) -> bool:
    if gpu is not None:
        return tuple(gpu) >= GPU_BFLOAT16
    return bool((cpu_flags() if flags is None else flags) & HARDWARE_BFLOAT16)


def resolve(
    setting: str, architecture: str, flags: frozenset[str] | None = None, gpu: tuple[int, int] | None = None
) -> str:
    """The precision a network of this architecture runs at under INFERENCE_PRECISION, on the
    GPU of this compute capability, or on the CPU with these flags when `gpu` is None."""
    if setting not in SETTINGS:
        raise ValueError(f"INFERENCE_PRECISION must be one of {', '.join(SETTINGS)}, not {setting!r}.")
    if setting != "auto":
        return setting
    return BFLOAT16 if _hardware_bfloat16(flags, gpu) and architecture in BFLOAT16_PAYS else FLOAT32


def why(setting: str, flags: frozenset[str] | None = None, gpu: tuple[int, int] | None = None) -> str:
    """A line for the worker's log: what the setting gives on this CPU or GPU, and why."""
    if setting != "auto":
        return f"Inference precision: {setting} (INFERENCE_PRECISION)."
    if gpu is not None:
        chosen = BFLOAT16 if _hardware_bfloat16(None, gpu) else FLOAT32
        return (
            f"Inference precision: auto, {chosen} for {', '.join(sorted(BFLOAT16_PAYS))} on a GPU of compute capability "
            f"{gpu[0]}.{gpu[1]} (bfloat16 from {GPU_BFLOAT16[0]}.{GPU_BFLOAT16[1]}), float32 for the other networks."
        )
    flags = cpu_flags() if flags is None else flags
    found = sorted(flags & HARDWARE_BFLOAT16)
    if found:
        return (
            f"Inference precision: auto, bfloat16 for {', '.join(sorted(BFLOAT16_PAYS))} "
            f"(the CPU has {', '.join(found)}), float32 for the other networks."
        )
    return "Inference precision: auto, float32 (the CPU has no bfloat16 arithmetic: neither avx512_bf16 nor amx_bf16)."


def in_precision(model: "keras.Model", precision: str) -> "keras.Model":
    """The model computing in `precision`. In bfloat16 its convolutions run in bfloat16
    and everything else in float32, and so does its last convolution: its output is the
    image, and bfloat16's 8-bit mantissa has steps of one uint8 level near white."""
    if precision == FLOAT32:
        return model
    # Here, not at the top: the web process reads the other functions and never loads Keras.
    import keras

    last = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)][-1]

    def clone(layer: "keras.layers.Layer") -> "keras.layers.Layer":
        config = layer.get_config()
        low = isinstance(layer, keras.layers.Conv2D) and layer is not last
        config["dtype"] = "mixed_bfloat16" if low else FLOAT32
        return layer.__class__.from_config(config)

    copy = keras.models.clone_model(model, clone_function=clone)
    copy.set_weights(model.get_weights())
    return copy
