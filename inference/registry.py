"""Putting trained generators into the model registry (ModelVersion)."""

import os
from collections.abc import Iterable
from pathlib import Path

import keras
import numpy as np
from django.core.files import File
from django.db import transaction

from inference import engine, nets, precision
from inference.models import ModelVersion, ServingChoice, check_choice

# The trained fast model ships with the code; its card (the .json beside it) names it, carries
# its figures and lists the earlier shipped defaults it replaces.
DEFAULT_WEIGHTS = Path(__file__).resolve().parent / "weights" / "default.keras"
# The side of the image a model must deblur before it is registered: small, so that the check
# takes a moment on a web process's CPU.
TRIAL_SIDE = 64


def load_generator(path: Path) -> keras.Model:
    """The model in a `.keras` file, checked to take RGB images; a ValueError that says
    what is wrong otherwise."""
    if not path.is_file():
        raise ValueError(f"No model file at {path}.")
    try:
        model = engine.load_model(path)
    except Exception as exc:  # Keras raises many kinds of errors for a bad file
        raise ValueError(f"{path} is not a loadable Keras model ({type(exc).__name__}: {exc}).") from exc
    if len(model.inputs) != 1 or model.inputs[0].shape[-1] != 3:
        shapes = [tuple(tensor.shape) for tensor in model.inputs]
        raise ValueError(f"{path} must take one RGB image (3 channels); its inputs are {shapes}.")
    return model


def check_generator(path: Path) -> tuple[keras.Model, str]:
    """The model in a `.keras` file and its architecture, once it has loaded in safe mode
    (load_generator), is of a known architecture and has turned a small image into a finite
    image of the same shape; a ValueError that says what is wrong otherwise. Every way into
    the registry goes through this: a model that fails here would fail every job it serves."""
    model = load_generator(path)
    architecture = nets.architecture_of(model)
    multiple = nets.size_multiple(model)
    # A multiple of the net's, and two of them at least, as every tile the engine runs is.
    side = max(2 * multiple, TRIAL_SIDE + -TRIAL_SIDE % multiple)
    image = np.random.default_rng(0).random((1, side, side, 3), dtype=np.float32)
    try:
        output = model.predict_on_batch(image)
    except Exception as exc:  # whatever a broken graph raises, the model cannot serve
        raise ValueError(f"{path} fails on a {side}x{side} test image ({type(exc).__name__}: {exc}).") from exc
    shape = output.shape if isinstance(output, np.ndarray) else f"{len(output)} outputs"
    if shape != image.shape:
        raise ValueError(f"{path} must return an image of its input's shape {image.shape}; it returned {shape}.")
    if not np.isfinite(output).all():
        raise ValueError(f"{path} returns NaN or infinite values for a {side}x{side} test image.")
    return model, architecture


def check_name(name: str) -> None:
    """A ValueError when a new model cannot take this name."""
    # A choice's key on the command line means that choice (deblur --model fast), never a model.
    if name in ServingChoice.Key.values:
        raise ValueError(f"{name!r} names a choice; give the model another name.")
    if ModelVersion.objects.filter(name=name).exists():
        raise ValueError(f"A model named {name!r} is already registered.")


def stored_name(name: str) -> str:
    """The file name of the model `name` in the models storage (under models/). The storages
    overwrite a file of the same name, so each model's file is named after it, and model names
    are unique and never change."""
    return f"{name}.keras"


def resolve_model(name_or_path: str | None) -> keras.Model:
    """The model serving a choice ("best" or "fast"; None is "best"), a registered model by
    name, or a `.keras` file. NoModelInstalled when no model serves the choice; a ValueError
    for an unknown name or a bad file."""
    if name_or_path is None or name_or_path in ServingChoice.Key.values:
        return engine.load_version(engine.serving_version(name_or_path or ServingChoice.Key.BEST))
    if name_or_path.endswith(".keras"):
        # A file runs as it would once registered: in the precision its architecture gets here.
        model = load_generator(Path(name_or_path))
        return precision.in_precision(model, engine.precision_for(model.name))
    version = ModelVersion.objects.filter(name=name_or_path).first()
    if version is None:
        names = ", ".join(ModelVersion.objects.values_list("name", flat=True)) or "none"
        raise ValueError(f"No model named {name_or_path!r} (registered: {names}).")
    return engine.load_version(version)


def register_model(
    path: str | os.PathLike,
    *,
    name: str,
    serve: Iterable[str] = (),
    notes: str = "",
    metrics: dict | None = None,
    provenance: dict | None = None,
) -> ModelVersion:
    """Copy a `.keras` generator into the models storage as `models/<name>.keras` and record
    it as a ModelVersion; it serves the choices in `serve` ("best", "fast") from now on. A
    ValueError, and nothing stored, for a name or choice it cannot take or a file that fails
    check_generator."""
    path = Path(path)
    serve = list(serve)
    check_name(name)
    for choice in serve:
        check_choice(choice)
    model, architecture = check_generator(path)
    version = ModelVersion(
        name=name,
        architecture=architecture,
        parameter_count=model.count_params(),
        notes=notes,
        metrics=metrics or {},
        provenance=provenance or {},
    )
    with transaction.atomic():
        with path.open("rb") as source:
            version.file.save(stored_name(name), File(source), save=False)
        version.save()
        for choice in serve:
            version.promote(choice)
    return version
