"""An administrator adds a model in the admin's *Model versions*: the upload goes through
register_model's checks, and a file that fails them is refused with the reason, before
anything is stored."""

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from inference import engine
from inference.models import ModelVersion
from inference.registry import register_model
from inference.tests.model_files import save_conv_model, save_lambda_model

def add_model(admin_client, name: str, content: bytes, filename: str = "generator.keras"):
    """The admin's "Add model version" form, posted."""
    upload = SimpleUploadedFile(filename, content, content_type="application/octet-stream")
    fields = {"name": name, "file": upload, "notes": "from the admin", "metrics": "{}", "provenance": "{}"}
    return admin_client.post(reverse("admin:inference_modelversion_add"), fields)


def stored_files(media_storage) -> list:
    return sorted(path.name for path in (media_storage / "models").rglob("*") if path.is_file())


def test_an_uploaded_model_is_checked_stored_under_its_name_and_serves(
    admin_client, media_storage, tiny_model_file, settings
):
    settings.INFERENCE_PRECISION = "float32"

    response = add_model(admin_client, "uploaded", tiny_model_file.read_bytes(), filename="my-run.keras")

    assert response.status_code == 302, response.content.decode()
    version = ModelVersion.objects.get(name="uploaded")
    # Figures read from the file, stored as register_model stores it: the admin typed neither.
    assert version.architecture == ModelVersion.Architecture.NAFNET
    assert version.parameter_count == engine.load_model(tiny_model_file).count_params()
    assert version.file.name == "models/uploaded.keras"
    assert (media_storage / "models" / "models" / "uploaded.keras").read_bytes() == tiny_model_file.read_bytes()

    changelist = reverse("admin:inference_modelversion_changelist")
    admin_client.post(changelist, {"action": "serve_fast", "_selected_action": [version.pk]})
    served = engine.load_version(engine.serving_version("fast"))
    photo = np.random.default_rng(1).integers(0, 256, (48, 40, 3), dtype=np.uint8)
    assert engine.deblur(served, photo).shape == photo.shape


BAD_FILES = [
    pytest.param(lambda path: path.write_bytes(b"PK\x03\x04 not a zip"), "is not a loadable Keras model", id="garbage"),
    pytest.param(save_lambda_model, "Requested the deserialization of a `Lambda`", id="lambda-layer"),
    pytest.param(lambda path: save_conv_model(path, name="unet"), "Unknown architecture &#x27;unet", id="unknown-arch"),
    pytest.param(lambda path: save_conv_model(path, strides=2), "it returned (1, 32, 32, 3)", id="wrong-output-shape"),
    pytest.param(lambda path: save_conv_model(path, nan=True), "returns NaN or infinite values", id="nan-output"),
]


@pytest.mark.parametrize("make_file, reason", BAD_FILES)
def test_a_bad_upload_is_refused_with_the_reason_and_nothing_is_stored(
    admin_client, media_storage, tmp_path, make_file, reason
):
    path = tmp_path / "bad.keras"
    make_file(path)

    response = add_model(admin_client, "bad", path.read_bytes(), filename="bad-upload.keras")

    assert response.status_code == 200
    page = response.content.decode()
    assert 'class="errorlist' in page and reason in page
    # The reason names the file the administrator chose, not where the check put it.
    assert "upload.keras" not in page.replace("bad-upload.keras", "")
    assert not ModelVersion.objects.exists()
    assert stored_files(media_storage) == []


def test_a_model_cannot_take_a_choices_name_or_a_registered_one(admin_client, media_storage, tiny_model_file):
    register_model(tiny_model_file, name="taken")

    choice = add_model(admin_client, "fast", tiny_model_file.read_bytes()).content.decode()
    taken = add_model(admin_client, "taken", tiny_model_file.read_bytes()).content.decode()

    assert "&#x27;fast&#x27; names a choice; give the model another name." in choice
    assert "A model named &#x27;taken&#x27; is already registered." in taken
    assert list(ModelVersion.objects.values_list("name", flat=True)) == ["taken"]
    assert stored_files(media_storage) == ["taken.keras"]


def test_editing_a_model_keeps_its_checked_file_and_its_name(admin_client, media_storage, tiny_model_file, tmp_path):
    version = register_model(tiny_model_file, name="kept")
    url = reverse("admin:inference_modelversion_change", args=[version.pk])
    unchecked = save_conv_model(tmp_path / "other.keras", nan=True)

    assert admin_client.get(url).status_code == 200
    response = admin_client.post(
        url,
        {
            "name": "renamed",
            "file": SimpleUploadedFile("other.keras", unchecked.read_bytes()),
            "architecture": "srn",
            "parameter_count": "1",
            "notes": "edited",
            "metrics": "{}",
            "provenance": "{}",
        },
    )

    assert response.status_code == 302, response.content.decode()
    version.refresh_from_db()
    assert version.notes == "edited"
    assert (version.name, version.file.name, version.architecture) == ("kept", "models/kept.keras", "nafnet")
    assert version.parameter_count == engine.load_model(tiny_model_file).count_params()
    with version.file.open("rb") as stored:
        assert stored.read() == tiny_model_file.read_bytes()
    assert stored_files(media_storage) == ["kept.keras"]
