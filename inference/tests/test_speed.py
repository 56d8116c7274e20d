from datetime import timedelta

import pytest
from django.utils import timezone

from inference import speed
from inference.models import ModelVersion
from inference.registry import register_model


def fresh(version: ModelVersion) -> ModelVersion:
    return ModelVersion.objects.get(pk=version.pk)


def test_the_first_job_sets_the_speed_and_later_ones_move_it_gradually(active_model):
    speed.record(active_model, "cpu", seconds=20.0, megapixels=2.0)
    assert fresh(active_model).speed["cpu"]["seconds_per_megapixel"] == 10.0

    speed.record(active_model, "cpu", seconds=20.0, megapixels=1.0)

    figures = fresh(active_model).speed["cpu"]
    assert figures["jobs"] == 2
    assert figures["seconds_per_megapixel"] == pytest.approx(10.0 + speed.SMOOTHING * (20.0 - 10.0))
    assert speed.seconds_per_megapixel(fresh(active_model)) == ("cpu", figures["seconds_per_megapixel"])


def test_two_workers_with_stale_copies_both_count(active_model):
    one, other = fresh(active_model), fresh(active_model)

    speed.record(one, "cpu", seconds=1.0, megapixels=1.0)
    speed.record(other, "cpu", seconds=1.0, megapixels=1.0)

    assert fresh(active_model).speed["cpu"]["jobs"] == 2


def test_each_kind_of_worker_has_its_figure_and_the_latest_is_used(active_model):
    speed.record(active_model, "gpu", seconds=1.0, megapixels=4.0)
    speed.record(active_model, "cpu", seconds=30.0, megapixels=1.0)
    version = fresh(active_model)

    assert set(version.speed) == {"cpu", "gpu"}
    assert speed.seconds_per_megapixel(version) == ("cpu", 30.0)

    version.speed["gpu"]["updated"] = (timezone.now() + timedelta(seconds=1)).isoformat()
    assert speed.seconds_per_megapixel(version) == ("gpu", 0.25)


def test_before_any_job_the_model_cards_figure_is_used(active_model):
    assert speed.seconds_per_megapixel(active_model) is None

    active_model.metrics = {"gopro_real": {"model_psnr": 24.0}, "seconds_per_megapixel_cpu2": 0.58}
    assert speed.seconds_per_megapixel(active_model) == ("cpu2", 0.58)

    speed.record(active_model, "cpu", seconds=1.0, megapixels=1.0)
    assert speed.seconds_per_megapixel(active_model) == ("cpu", 1.0)


def test_a_deleted_model_or_an_empty_photo_records_nothing(db, media_storage, tiny_model_file):
    version = register_model(tiny_model_file, name="spare")

    speed.record(version, "cpu", seconds=1.0, megapixels=0.0)
    assert fresh(version).speed == {}

    ModelVersion.objects.filter(pk=version.pk).delete()  # by another process: this copy keeps its pk
    speed.record(version, "cpu", seconds=1.0, megapixels=1.0)
    assert version.speed == {}


def test_the_worker_kind_is_what_tensorflow_sees():
    import tensorflow as tf

    assert speed.worker_kind() == ("gpu" if tf.config.list_physical_devices("GPU") else "cpu")
