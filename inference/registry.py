"""Putting trained generators into the model registry (ModelVersion)."""

import os
from collections.abc import Iterable
from pathlib import Path

import keras
from django.core.files import File
from django.db import transaction

from inference import engine, nets, precision
from inference.models import ModelVersion, ServingChoice, check_choice

# The trained fast model ships with the code; its card (the .json beside it) names it, carries
# its figures and lists the earlier shipped defaults it replaces.
DEFAULT_WEIGHTS = Path(__file__).resolve().parent / "weights" / "default.keras"


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
    it as a ModelVersion; it serves the choices in `serve` ("best", "fast") from now on."""
    path = Path(path)
    serve = list(serve)
    # A choice's key on the command line means that choice (deblur --model fast), never a model.
    if name in ServingChoice.Key.values:
        raise ValueError(f"{name!r} names a choice; give the model another name.")
    for choice in serve:
        check_choice(choice)
    if ModelVersion.objects.filter(name=name).exists():
        raise ValueError(f"A model named {name!r} is already registered.")
    model = load_generator(path)
    version = ModelVersion(
        name=name,
        architecture=nets.architecture_of(model),
        parameter_count=model.count_params(),
        notes=notes,
        metrics=metrics or {},
        provenance=provenance or {},
    )
    with transaction.atomic():
        with path.open("rb") as source:
            version.file.save(f"{name}.keras", File(source), save=False)
        version.save()
        for choice in serve:
            version.promote(choice)
    return version
