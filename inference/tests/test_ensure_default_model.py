import json
from io import StringIO

import pytest
from django.core.management import call_command

from inference.models import ModelVersion, ServingChoice
from inference.registry import register_model

COMMAND = "inference.management.commands.ensure_default_model.DEFAULT_WEIGHTS"


@pytest.fixture
def shipped(tmp_path, tiny_model_file, monkeypatch):
    weights = tmp_path / "default.keras"
    weights.write_bytes(tiny_model_file.read_bytes())
    card = {"name": "shipped-v2", "replaces": ["shipped-v1"], "metrics": {"gopro_real_psnr": 25.0}}
    weights.with_suffix(".json").write_text(json.dumps(card))
    monkeypatch.setattr(COMMAND, weights)
    return weights


def run() -> str:
    out = StringIO()
    call_command("ensure_default_model", stdout=out)
    return out.getvalue()


def serving_names() -> dict[str, str | None]:
    return {key: version and version.name for key, version in ServingChoice.models_by_key().items()}


def test_installs_the_shipped_model_for_both_choices_when_none_is_installed(db, media_storage, shipped):
    assert "Installed the default model shipped-v2 (" in run()

    version = ModelVersion.objects.get()
    assert version.name == "shipped-v2" and version.metrics == {"gopro_real_psnr": 25.0}
    assert version.file.read() == shipped.read_bytes()
    assert serving_names() == {"best": "shipped-v2", "fast": "shipped-v2"}


def test_leaves_models_an_administrator_chose_alone(db, active_model, shipped):
    assert "Every choice has a model already (Best quality: tiny-test, Fast: tiny-test)" in run()

    assert list(ModelVersion.objects.values_list("name", flat=True)) == ["tiny-test"]


def test_serves_fast_only_when_best_has_a_model(db, media_storage, tiny_model_file, shipped):
    register_model(tiny_model_file, name="srn-like", serve=["best"])

    assert "serving Fast." in run()

    assert serving_names() == {"best": "srn-like", "fast": "shipped-v2"}


def test_replaces_an_earlier_shipped_default_in_the_choices_it_served(db, media_storage, tiny_model_file, shipped):
    register_model(tiny_model_file, name="shipped-v1", serve=["best", "fast"])

    assert "serving Fast and Best quality, replacing shipped-v1." in run()
    assert serving_names() == {"best": "shipped-v2", "fast": "shipped-v2"}
    # The earlier default stays registered, so an administrator can go back to it.
    assert ModelVersion.objects.filter(name="shipped-v1").exists()
    assert "The default model shipped-v2 is installed already" in run()


def test_an_earlier_shipped_default_that_an_administrator_replaced_stays_replaced(
    db, media_storage, tiny_model_file, shipped
):
    register_model(tiny_model_file, name="shipped-v1", serve=["fast"])
    register_model(tiny_model_file, name="trained-here", serve=["best"])

    assert "replacing shipped-v1" in run()

    # Only fast, which the earlier default served, moves to the new one.
    assert serving_names() == {"best": "trained-here", "fast": "shipped-v2"}


def test_an_installed_default_is_not_put_back_where_an_administrator_took_it_out(
    db, media_storage, tiny_model_file, shipped
):
    run()
    register_model(tiny_model_file, name="trained-here", serve=["best", "fast"])

    assert "is installed already; nothing changed" in run()
    assert serving_names() == {"best": "trained-here", "fast": "trained-here"}


def test_the_real_shipped_model_has_a_card_and_loads():
    from inference.management.commands.ensure_default_model import DEFAULT_WEIGHTS
    from inference.registry import load_generator

    card = json.loads(DEFAULT_WEIGHTS.with_suffix(".json").read_text())
    model = load_generator(DEFAULT_WEIGHTS)
    assert model.count_params() == card["parameter_count"]
