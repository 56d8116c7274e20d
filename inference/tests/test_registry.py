import keras
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import ProtectedError
from django.urls import reverse

from inference.models import ModelVersion, ServingChoice
from inference.registry import register_model
from inference.tests.model_files import save_conv_model, save_lambda_model


def test_register_copies_the_file_and_records_the_model(db, media_storage, tiny_model_file):
    provenance = {"licence": "MIT", "seen_in_training": ["gopro-real"]}
    version = register_model(tiny_model_file, name="first", notes="seed run", provenance=provenance)

    assert version.file.name == "models/first.keras"
    assert (media_storage / "models" / "models" / "first.keras").read_bytes() == tiny_model_file.read_bytes()
    assert version.architecture == ModelVersion.Architecture.NAFNET
    assert version.parameter_count == keras.models.load_model(tiny_model_file).count_params()
    assert version.notes == "seed run"
    assert version.provenance == provenance and version.seen_in_training == ["gopro-real"]
    # Registering serves nothing unless told to: an administrator chooses.
    assert ServingChoice.models_by_key() == {"best": None, "fast": None}


def test_registering_serves_the_choices_given(db, media_storage, tiny_model_file, tiny_gan_file):
    first = register_model(tiny_model_file, name="first", serve=["best", "fast"])
    gan = register_model(tiny_gan_file, name="gan", serve=["fast"])

    assert gan.architecture == ModelVersion.Architecture.DEBLURGAN
    assert ServingChoice.models_by_key() == {"best": first, "fast": gan}
    assert ModelVersion.serving("best") == first and ModelVersion.serving("fast") == gan


@pytest.mark.parametrize(
    "name, serve, message",
    [("x", ["quick"], "No choice 'quick'"), ("fast", [], "'fast' names a choice"), ("best", ["best"], "names a choice")],
)
def test_unknown_choices_and_choice_names_are_refused(db, media_storage, tiny_model_file, name, serve, message):
    with pytest.raises(ValueError, match=message):
        register_model(tiny_model_file, name=name, serve=serve)

    assert not ModelVersion.objects.exists()
    assert not (media_storage / "models").exists()


@pytest.mark.parametrize(
    "make_file, message",
    [
        (lambda path: path.write_text("not a model"), "not a loadable Keras model"),
        (save_lambda_model, "not a loadable Keras model .ValueError: Requested the deserialization of a `Lambda`"),
        (lambda path: save_conv_model(path, channels=1), "one RGB image"),
        (lambda path: save_conv_model(path, name="unet"), "Unknown architecture"),
        (lambda path: save_conv_model(path, strides=2), r"shape \(1, 64, 64, 3\); it returned \(1, 32, 32, 3\)"),
        (lambda path: save_conv_model(path, nan=True), "NaN or infinite values for a 64x64 test image"),
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


def test_register_model_command(db, media_storage, tiny_model_file, tiny_gan_file, capsys):
    call_command("register_model", str(tiny_model_file), "--name", "from-cli", "--serve", "best", "--serve", "fast")
    call_command("register_model", str(tiny_gan_file), "--name", "gan")

    out = capsys.readouterr().out
    assert "Registered from-cli: NAFNet-style U-Net" in out and "serving Best quality and Fast." in out
    assert "Registered gan: DeblurGAN ResNet" in out and "serving no choice yet." in out
    assert ModelVersion.serving("best").name == ModelVersion.serving("fast").name == "from-cli"

    with pytest.raises(CommandError, match="already registered"):
        call_command("register_model", str(tiny_model_file), "--name", "from-cli")
    with pytest.raises(CommandError, match="invalid choice: 'quick'"):
        call_command("register_model", str(tiny_model_file), "--name", "other", "--serve", "quick")


# -- choices: promotion, retirement, deletion -----------------------------------


def test_promotion_moves_a_choice_and_leaves_the_other(db, media_storage, tiny_model_file, tiny_gan_file):
    first = register_model(tiny_model_file, name="first", serve=["best", "fast"])
    second = register_model(tiny_gan_file, name="second")

    second.promote("fast")

    assert ServingChoice.models_by_key() == {"best": first, "fast": second}
    with pytest.raises(ValueError, match="No choice 'quick'"):
        second.promote("quick")


def test_a_model_serving_a_choice_cannot_be_deleted(db, media_storage, tiny_model_file, tiny_gan_file):
    first = register_model(tiny_model_file, name="first", serve=["best"])

    with pytest.raises(ProtectedError):
        first.delete()

    register_model(tiny_gan_file, name="second").promote("best")
    first.delete()
    assert list(ModelVersion.objects.values_list("name", flat=True)) == ["second"]


def test_retire_rules(db, media_storage, tiny_model_file, tiny_gan_file):
    serving = register_model(tiny_model_file, name="serving", serve=["fast"])
    spare = register_model(tiny_gan_file, name="spare")

    with pytest.raises(ValueError, match='serving serves Fast; choose another model for it first'):
        serving.retire()
    spare.retire()

    assert ModelVersion.objects.get(pk=spare.pk).retired_at is not None
    assert ModelVersion.objects.get(pk=serving.pk).retired_at is None
    with pytest.raises(ValueError, match="spare is retired and cannot serve a choice"):
        spare.promote("best")
    assert ModelVersion.serving("best") is None


def test_the_migration_made_a_row_per_choice(db):
    assert list(ServingChoice.objects.values_list("key", flat=True)) == ["best", "fast"]


# -- admin ---------------------------------------------------------------------


def changelist_action(admin_client, action: str, *versions: ModelVersion) -> str:
    """The page after the action, lower-cased: the admin capitalises its messages."""
    url = reverse("admin:inference_modelversion_changelist")
    response = admin_client.post(url, {"action": action, "_selected_action": [v.pk for v in versions]}, follow=True)
    assert response.status_code == 200
    return response.content.decode().lower()


def test_admin_lists_what_each_model_serves(admin_client, media_storage, tiny_model_file, tiny_gan_file):
    register_model(tiny_model_file, name="first", serve=["best", "fast"])
    register_model(tiny_gan_file, name="second")

    page = admin_client.get(reverse("admin:inference_modelversion_changelist")).content.decode()

    assert "second" in page and "deblurgan" in page
    assert "Best quality, Fast" in page
    assert "Serve as Best quality" in page and "Serve as Fast" in page and "Retire" in page


def test_admin_actions_serve_and_retire(admin_client, media_storage, tiny_model_file, tiny_gan_file):
    first = register_model(tiny_model_file, name="first", serve=["best", "fast"])
    second = register_model(tiny_gan_file, name="second")

    page = changelist_action(admin_client, "serve_fast", first, second)
    assert "select exactly one model" in page
    assert ModelVersion.serving("fast") == first

    page = changelist_action(admin_client, "serve_fast", second)
    assert "second now serves &quot;fast&quot;" in page
    assert ServingChoice.models_by_key() == {"best": first, "fast": second}

    page = changelist_action(admin_client, "retire", first)
    assert "first serves best quality; choose another model for it first." in page
    changelist_action(admin_client, "serve_best", second)
    page = changelist_action(admin_client, "retire", first)
    assert "first is retired." in page
    page = changelist_action(admin_client, "serve_best", first)
    assert "first is retired and cannot serve a choice." in page
    assert ModelVersion.serving("best") == second


def test_admin_cannot_delete_a_serving_model_and_says_why(admin_client, media_storage, tiny_model_file, tiny_gan_file):
    serving = register_model(tiny_model_file, name="serving", serve=["best"])
    spare = register_model(tiny_gan_file, name="spare")

    one = admin_client.post(reverse("admin:inference_modelversion_delete", args=[serving.pk]), {"post": "yes"})
    bulk = changelist_action(admin_client, "delete_selected", serving, spare)
    confirmed = admin_client.post(
        reverse("admin:inference_modelversion_changelist"),
        {"action": "delete_selected", "_selected_action": [serving.pk, spare.pk], "post": "yes"},
    )

    assert one.status_code == confirmed.status_code == 200
    for page in (one.content.decode(), bulk, confirmed.content.decode()):
        assert "would require deleting the following protected related objects" in page.lower()
        assert "serving choice: <a" in page.lower()
    assert ModelVersion.objects.count() == 2


def test_admin_sets_the_model_of_a_choice(admin_client, media_storage, tiny_model_file, tiny_gan_file):
    register_model(tiny_model_file, name="first", serve=["best"])
    second = register_model(tiny_gan_file, name="second")
    retired = register_model(tiny_model_file, name="old")
    retired.retire()
    url = reverse("admin:inference_servingchoice_change", args=["best"])

    form = admin_client.get(url).content.decode()
    assert "second" in form and ">old<" not in form
    admin_client.post(url, {"model": second.pk})
    refused = admin_client.post(url, {"model": retired.pk})

    assert refused.status_code == 200 and "Select a valid choice" in refused.content.decode()
    assert ModelVersion.serving("best") == second
    assert admin_client.get(reverse("admin:inference_servingchoice_add")).status_code == 403
