"""The staff pages for runs and models: staff only, the new-run form's checks, the run page
and its charts, and promoting, confirming, rolling back and retiring models."""

from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.urls import URLPattern, reverse

from inference.models import ModelVersion, ServingChoice
from training import urls
from training.runs import lifecycle as runs
from training.runs.estimate import CPU_SECONDS_PER_STEP
from training.models import Dataset, DatasetImage, TrainingRun
from training.tests.test_runs import TINY, photos, queue  # noqa: F401 (fixtures)

Status = TrainingRun.Status

ARGUMENTS = {"pk": 1, "name": "x", "kind": "thumbnail", "choice": "best"}


def route_urls() -> list[str]:
    patterns = [pattern for pattern in urls.urlpatterns if isinstance(pattern, URLPattern)]
    return [
        reverse(f"training:{p.name}", kwargs={k: ARGUMENTS[k] for k in p.pattern.regex.groupindex}) for p in patterns
    ]


@pytest.mark.parametrize("url", route_urls())
def test_every_route_is_staff_only(url, client, alice):
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    client.force_login(alice)
    for method in (client.get, client.post):
        response = method(url)
        assert response.status_code == 403
        assert b"Not allowed" in response.content and b"Only staff" in response.content


def test_the_form_refuses_pairs_benchmarks_and_too_few_photos(staff_client, photos, queue):  # noqa: F811
    pairs = Dataset.objects.create(name="gopro", kind=Dataset.Kind.PAIRS)
    bench = Dataset.objects.create(name="bench", is_benchmark=True)
    small = Dataset.objects.create(name="small")
    url = reverse("training:run-new")
    form = {"architecture": "nafnet", "synthesis": "default", "steps": 100, "gan_steps": 0, "batch": 2, "patch": 32,
            "lr": 0.001, "seed": 0}

    for dataset, message in ((pairs, "holds blurred/sharp pairs"), (bench, "is a benchmark"),
                             (small, "hold 0 trainable photo(s); a run needs at least 5")):
        response = staff_client.post(url, {**form, "datasets": [dataset.pk]})
        assert response.status_code == 400 and message in response.content.decode()
    response = staff_client.post(url, {**form, "datasets": [photos.pk], "patch": 36})
    assert "needs a multiple of 8" in response.content.decode()
    assert TrainingRun.objects.count() == 0

    response = staff_client.post(url, {**form, "datasets": [photos.pk], "label": "first try"})
    run = TrainingRun.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("training:run", args=[run.pk])
    assert (run.status, run.total_steps, run.config["patch"], run.config["validate_every"]) == ("queued", 100, 32, 5)
    assert queue == [run.pk]


def test_the_form_says_when_benchmark_images_leave_too_few(staff_client, photos, queue):  # noqa: F811
    rows = list(photos.images.filter(status=DatasetImage.Status.KEPT))
    for row in rows[:3]:
        row.benchmark_match = "gopro-real/sharp/000001.png"
        row.trainable = False
        row.save()
    response = staff_client.post(
        reverse("training:run-new"),
        {"datasets": [photos.pk], "architecture": "nafnet", "synthesis": "default", "steps": 10, "gan_steps": 0,
         "batch": 2, "patch": 32, "lr": 0.001, "seed": 0},
    )
    assert "3 of their photos are benchmark images" in response.content.decode()


def test_fine_tuning_needs_a_model_of_the_same_architecture(staff_client, photos, two_models, queue):  # noqa: F811
    response = staff_client.post(
        reverse("training:run-new"),
        {"datasets": [photos.pk], "architecture": "nafnet", "init_model": two_models["fast"].pk, "synthesis": "default",
         "steps": 10, "gan_steps": 0, "batch": 2, "patch": 32, "lr": 0.001, "seed": 0},
    )
    assert "tiny-fast is DeblurGAN ResNet" in response.content.decode()


def test_the_run_page_draws_its_charts_and_follows_it(staff_client, photos, queue):  # noqa: F811
    run = runs.create(datasets=[photos], architecture="nafnet", init_model=None, label="charts", by=None, **TINY)
    run.history = {"loss": [[2, 0.3], [4, 0.2], [6, 0.1]], "val_psnr": [[4, 25.0], [8, 26.5]], "val_ssim": [[4, 0.8]]}
    run.step, run.status = 6, TrainingRun.Status.RUNNING
    run.save()

    page = staff_client.get(reverse("training:run", args=[run.pk])).content.decode()
    assert "step 6 of 8" in page and 'id="stop"' in page
    loss = staff_client.get(reverse("training:run-chart", args=[run.pk, "loss"]))
    assert loss["Content-Type"] == "image/svg+xml" and b"<polyline" in loss.content and b"Training loss" in loss.content
    assert b">8</text>" in loss.content  # the step axis runs to the run's last step, not the last point (6)
    empty = staff_client.get(reverse("training:run-chart", args=[run.pk, "ssim"]))
    assert b"<circle" in empty.content and b"<polyline" not in empty.content  # one point
    assert staff_client.get(reverse("training:run-chart", args=[run.pk, "nope"])).status_code == 404
    status = staff_client.get(reverse("training:run-status", args=[run.pk])).json()
    assert (status["step"], status["status"], status["can_stop"]) == (6, "running", True)

    staff_client.post(reverse("training:run-stop", args=[run.pk]))
    assert TrainingRun.objects.get(pk=run.pk).status == "stopping"


def test_the_estimate_uses_the_last_runs_speed(staff_client, photos, queue):  # noqa: F811
    done = runs.create(datasets=[photos], architecture="nafnet", init_model=None, label="", by=None, **TINY)
    TrainingRun.objects.filter(pk=done.pk).update(seconds_per_step=0.5)  # batch 2, patch 32
    answer = staff_client.get(
        reverse("training:run-estimate"), {"architecture": "nafnet", "steps": 240, "gan_steps": 0, "batch": 4, "patch": 32}
    ).json()
    assert answer["seconds"] == pytest.approx(240 * 1.0) and "last 1 nafnet run" in answer["text"]


def test_the_estimate_grows_with_the_steps_from_the_first_one(staff_client):
    def estimate(steps: int) -> str:
        query = {"architecture": "nafnet", "steps": steps, "gan_steps": 0, "batch": 8, "patch": 128}
        return staff_client.get(reverse("training:run-estimate"), query).json()["text"].split(" of training")[0]

    # 0.52 s a step on the 2-core CPU.
    assert [estimate(steps) for steps in (1, 100, 1000, 20000)] == ["about 1 s", "about 52 s", "about 9 min", "about 2.9 h"]


def test_a_run_that_is_not_training_shows_no_time_left(staff_client, photos, queue):  # noqa: F811
    run = runs.create(datasets=[photos], architecture="nafnet", init_model=None, label="", by=None, **TINY)

    def time_left() -> tuple[str, float | None]:
        page = staff_client.get(reverse("training:run", args=[run.pk])).content.decode()
        eta = page.split('id="eta">', 1)[1].split("<", 1)[0]
        return eta, staff_client.get(reverse("training:run-status", args=[run.pk])).json()["eta_seconds"]

    TrainingRun.objects.filter(pk=run.pk).update(status=Status.RUNNING, step=4, eta_seconds=92.0)
    assert time_left() == ("about 92 s left", 92.0)
    for status in (Status.STOPPING, Status.STOPPED, Status.QUEUED, Status.FAILED):
        TrainingRun.objects.filter(pk=run.pk).update(status=status)
        assert time_left() == ("", None), status


def test_before_any_run_the_estimate_comes_from_the_cpu_measurement(staff_client):
    answer = staff_client.get(
        reverse("training:run-estimate"), {"architecture": "srn", "steps": 100, "gan_steps": 0, "batch": 8, "patch": 128}
    ).json()
    assert answer["seconds"] == pytest.approx(100 * CPU_SECONDS_PER_STEP["srn"]) and "2-core CPU" in answer["text"]
    bad = staff_client.get(reverse("training:run-estimate"), {"architecture": "srn", "steps": "many"})
    assert bad.status_code == 400


def below_input_model(model: ModelVersion) -> ModelVersion:
    model.metrics = {
        "kohler": {"input_psnr": 25.55, "input_ssim": 0.766, "model_psnr": 25.11, "model_ssim": 0.7395},
        "gopro_real": {"input_psnr": 23.93, "input_ssim": 0.789, "model_psnr": 31.35, "model_ssim": 0.925},
    }
    model.provenance = {**model.provenance, "seen_in_training": ["gopro-real"]}
    model.save()
    return model


def test_promoting_a_model_below_its_input_asks_first_and_names_the_figures(staff_client, two_models, settings, tmp_path):
    settings.BENCHMARKS_DIR = tmp_path  # no shared benchmark folders: the figures' own keys
    model = below_input_model(two_models["fast"])
    url = reverse("training:model-promote", args=[model.name])

    asked = staff_client.post(url, {"choice": "best"})
    assert asked.status_code == 409
    assert "kohler: PSNR 25.11 dB against the input's 25.55, SSIM 0.7395 against 0.7660" in unescape(asked.content.decode())
    assert ModelVersion.serving("best") == two_models["best"]

    staff_client.post(url, {"choice": "best", "confirm": "yes"})
    assert ModelVersion.serving("best") == model
    page = staff_client.get(reverse("training:models")).content.decode()
    assert "seen in training" in page and "31.35 / 0.9250" in page and "Roll back to tiny-best" in page
    api = staff_client.get("/api/v1/models/").json()
    assert {row["key"]: row["model"] and row["model"]["name"] for row in api}["best"] == "tiny-fast"

    staff_client.post(reverse("training:model-rollback", args=["best"]))
    assert ModelVersion.serving("best") == two_models["best"]


def test_retiring_asks_first_on_a_page_that_needs_no_script(staff_client, two_models):
    ServingChoice.objects.filter(key="fast").update(model=two_models["best"])
    url = reverse("training:model-retire", args=["tiny-fast"])
    assert 'id="retire-tiny-fast"' in staff_client.get(reverse("training:models")).content.decode()

    asked = staff_client.post(url)

    assert asked.status_code == 200 and ModelVersion.objects.get(name="tiny-fast").retired_at is None
    page = asked.content.decode()
    assert "Retire tiny-fast?" in page and 'name="confirm" value="yes"' in page and f'action="{url}"' in page
    staff_client.post(url, {"confirm": "yes"})
    assert ModelVersion.objects.get(name="tiny-fast").retired_at is not None


def test_a_serving_model_cannot_be_retired_and_a_retired_one_cannot_serve(staff_client, two_models):
    staff_client.post(reverse("training:model-retire", args=["tiny-best"]), {"confirm": "yes"})
    assert ModelVersion.objects.get(name="tiny-best").retired_at is None
    ServingChoice.objects.filter(key="best").update(model=two_models["fast"])
    staff_client.post(reverse("training:model-retire", args=["tiny-best"]), {"confirm": "yes"})
    assert ModelVersion.objects.get(name="tiny-best").retired_at is not None
    response = staff_client.post(reverse("training:model-promote", args=["tiny-best"]), {"choice": "fast"}, follow=True)
    assert "is retired and cannot serve" in response.content.decode()


def test_staff_who_are_not_superusers_use_the_pages(client, db):
    staff = get_user_model().objects.create_user("ops", "ops@example.com", "x", is_staff=True)
    client.force_login(staff)
    assert client.get(reverse("training:models")).status_code == 200
    assert client.get(reverse("training:runs")).status_code == 200
