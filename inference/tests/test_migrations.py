"""The migration from one active model to the two serving choices, run back and forth on
the test database."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("inference", "0001_initial"), ("gallery", "0002_restoration_result_webp")]
AFTER = [("inference", "0002_serving_choices"), ("gallery", "0003_restoration_choice_model_name")]


def test_the_active_model_serves_both_choices_and_results_name_their_model(migrate, django_user_model):
    apps = migrate(BEFORE)
    ModelVersion, Photo = apps.get_model("inference", "ModelVersion"), apps.get_model("gallery", "Photo")
    active = ModelVersion.objects.create(name="shipped", file="models/shipped.keras", architecture="nafnet", is_active=True)
    ModelVersion.objects.create(name="spare", file="models/spare.keras", architecture="deblurgan")
    owner = apps.get_model("auth", "User").objects.create(username="alice")
    photo = Photo.objects.create(owner=owner, original="a.png", original_name="a.png", width=1, height=1, mode="RGB")
    apps.get_model("gallery", "Restoration").objects.create(photo=photo, status="succeeded", model_version=active)

    apps = migrate(AFTER)

    serving = apps.get_model("inference", "ServingChoice").objects.order_by("key")
    assert [(choice.key, choice.model.name) for choice in serving] == [("best", "shipped"), ("fast", "shipped")]
    restoration = apps.get_model("gallery", "Restoration").objects.get()
    assert (restoration.choice, restoration.model_name) == ("best", "shipped")

    apps = migrate(BEFORE)
    active = apps.get_model("inference", "ModelVersion").objects.filter(is_active=True)
    assert list(active.values_list("name", flat=True)) == ["shipped"]


def test_without_an_active_model_both_choices_have_none(migrate):
    migrate(BEFORE)

    apps = migrate(AFTER)

    serving = apps.get_model("inference", "ServingChoice").objects.order_by("key")
    assert [(choice.key, choice.model) for choice in serving] == [("best", None), ("fast", None)]
