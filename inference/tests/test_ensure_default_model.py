import json
from io import StringIO

import pytest
from django.core.management import call_command

from inference.models import ModelVersion

COMMAND = "inference.management.commands.ensure_default_model.DEFAULT_WEIGHTS"


@pytest.fixture
def shipped(tmp_path, tiny_model_file, monkeypatch):
    weights = tmp_path / "default.keras"
    weights.write_bytes(tiny_model_file.read_bytes())
    weights.with_suffix(".json").write_text(json.dumps({"name": "shipped-v1", "metrics": {"gopro_real_psnr": 25.0}}))
    monkeypatch.setattr(COMMAND, weights)
    return weights


def run() -> str:
    out = StringIO()
    call_command("ensure_default_model", stdout=out)
    return out.getvalue()


def test_installs_the_shipped_model_when_none_is_installed(db, media_storage, shipped):
    assert "Installed the default model shipped-v1" in run()

    version = ModelVersion.active()
    assert version.name == "shipped-v1" and version.metrics == {"gopro_real_psnr": 25.0}
    assert version.file.read() == shipped.read_bytes()


def test_leaves_an_installed_model_alone(db, active_model, shipped):
    assert "A model is installed already (active: tiny-test)" in run()

    assert list(ModelVersion.objects.values_list("name", flat=True)) == ["tiny-test"]


def test_the_real_shipped_model_has_a_card_and_loads():
    from inference.management.commands.ensure_default_model import DEFAULT_WEIGHTS
    from inference.registry import load_generator

    card = json.loads(DEFAULT_WEIGHTS.with_suffix(".json").read_text())
    model = load_generator(DEFAULT_WEIGHTS)
    assert model.count_params() == card["parameter_count"]
