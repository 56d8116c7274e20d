import keras
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from inference import nets
from inference.models import ModelVersion
from inference.registry import register_model


@pytest.fixture
def deblurgan_file(tmp_path):
    path = tmp_path / "gan.keras"
    nets.build_deblurgan(filters=4, n_blocks=1).save(path)
    return path


def save_model(path, channels: int = 3, name: str = "nafnet"):
    inputs = keras.Input(shape=(None, None, channels))
    keras.Model(inputs, keras.layers.Conv2D(3, 3, padding="same")(inputs), name=name).save(path)
    return path


def test_register_copies_the_file_and_records_the_model(db, media_storage, tiny_model_file):
    version = register_model(tiny_model_file, name="first", notes="seed run")

    assert version.file.name == "models/first.keras"
    assert (media_storage / "models" / "models" / "first.keras").read_bytes() == tiny_model_file.read_bytes()
    assert version.architecture == ModelVersion.Architecture.NAFNET
    assert version.parameter_count == keras.models.load_model(tiny_model_file).count_params()
    assert version.notes == "seed run"
    assert ModelVersion.active() == version


def test_registering_activates_unless_told_not_to(db, media_storage, tiny_model_file, deblurgan_file):
    first = register_model(tiny_model_file, name="first")
    register_model(deblurgan_file, name="candidate", activate=False)

    assert ModelVersion.active() == first

    gan = register_model(deblurgan_file, name="gan")

    assert gan.architecture == ModelVersion.Architecture.DEBLURGAN
    assert list(ModelVersion.objects.filter(is_active=True)) == [gan]


@pytest.mark.parametrize(
    "make_file, message",
    [
        (lambda path: path.write_text("not a model"), "not a loadable Keras model"),
        (lambda path: save_model(path, channels=1), "one RGB image"),
        (lambda path: save_model(path, name="unet"), "Unknown architecture"),
        (lambda path: None, "No model file"),
    ],
)
def test_bad_files_are_refused_and_nothing_is_stored(db, media_storage, tmp_path, make_file, message):
    path = tmp_path / "upload.keras"
    make_file(path)

    with pytest.raises(ValueError, match=message):
        register_model(path, name="bad")

    assert not ModelVersion.objects.exists()
    assert not (media_storage / "models").exists()


def test_names_are_unique(db, media_storage, tiny_model_file):
    register_model(tiny_model_file, name="same")

    with pytest.raises(ValueError, match="already registered"):
        register_model(tiny_model_file, name="same")


def test_register_model_command(db, media_storage, tiny_model_file, deblurgan_file, capsys):
    call_command("register_model", str(tiny_model_file), "--name", "from-cli")
    call_command("register_model", str(deblurgan_file), "--name", "gan", "--no-activate")

    assert "Registered from-cli: NAFNet-style U-Net" in capsys.readouterr().out
    assert ModelVersion.active().name == "from-cli"
    assert ModelVersion.objects.get(name="gan").architecture == "deblurgan"

    with pytest.raises(CommandError, match="already registered"):
        call_command("register_model", str(tiny_model_file), "--name", "from-cli")


def test_admin_makes_one_selected_model_active(admin_client, media_storage, tiny_model_file, deblurgan_file):
    first = register_model(tiny_model_file, name="first")
    second = register_model(deblurgan_file, name="second", activate=False)
    url = reverse("admin:inference_modelversion_changelist")

    page = admin_client.get(url)
    assert b"second" in page.content and b"deblurgan" in page.content

    admin_client.post(url, {"action": "make_active", "_selected_action": [first.pk, second.pk]})
    assert ModelVersion.active() == first

    admin_client.post(url, {"action": "make_active", "_selected_action": [second.pk]})
    assert ModelVersion.active() == second
    assert not ModelVersion.objects.get(pk=first.pk).is_active
