import json
from io import StringIO

import pytest
from django.core.management import call_command

from inference.models import ModelVersion
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


def test_installs_the_shipped_model_when_none_is_installed(db, media_storage, shipped):
    assert "Installed the default model shipped-v2" in run()

    version = ModelVersion.active()
    assert version.name == "shipped-v2" and version.metrics == {"gopro_real_psnr": 25.0}
    assert version.file.read() == shipped.read_bytes()


def test_leaves_an_installed_model_alone(db, active_model, shipped):
    assert "A model is installed already (active: tiny-test)" in run()

    assert list(ModelVersion.objects.values_list("name", flat=True)) == ["tiny-test"]


def test_replaces_an_earlier_shipped_default_that_is_still_active(db, media_storage, tiny_model_file, shipped):
    register_model(tiny_model_file, name="shipped-v1")

    assert "Installed the default model shipped-v2" in run()
    assert ModelVersion.active().name == "shipped-v2"
    # The earlier default stays registered, so an administrator can go back to it.
    assert ModelVersion.objects.filter(name="shipped-v1", is_active=False).exists()
    assert "The default model shipped-v2 is installed already" in run()


def test_an_earlier_shipped_default_that_an_administrator_replaced_stays_replaced(
    db, media_storage, tiny_model_file, shipped
):
    register_model(tiny_model_file, name="shipped-v1")
    register_model(tiny_model_file, name="trained-here")

    assert "A model is installed already (active: trained-here)" in run()
    assert not ModelVersion.objects.filter(name="shipped-v2").exists()


def test_the_real_shipped_model_has_a_card_and_loads():
    from inference.management.commands.ensure_default_model import DEFAULT_WEIGHTS
    from inference.registry import load_generator

    card = json.loads(DEFAULT_WEIGHTS.with_suffix(".json").read_text())
    model = load_generator(DEFAULT_WEIGHTS)
    assert model.count_params() == card["parameter_count"]
