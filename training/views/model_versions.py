"""Staff pages for the registered models: side by side on the benchmarks, each one's card,
and promoting, rolling back and retiring them."""

from collections.abc import Callable

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from inference.models import ModelVersion, ServingChange, ServingChoice, previous_model, rollback

from training.choice_figures import choice_table
from training.runs import files as run_files
from training.comparison import below_input, comparison
from training.tasks import score_model
from training.views.access import staff_required


def _act(request: HttpRequest, action: Callable[[], str]) -> HttpResponse:
    """Run a change to the models; what it returns is the success message, a ValueError the
    error message. Back to the models page either way."""
    try:
        messages.success(request, action())
    except ValueError as exc:
        messages.error(request, str(exc))
    return redirect("training:models")


@staff_required
def model_list(request: HttpRequest) -> HttpResponse:
    versions = list(ModelVersion.objects.order_by("retired_at", "-created").select_related("training_run"))
    serving = ServingChoice.models_by_key()
    context = {
        "versions": versions,
        "rows": comparison(versions),
        "choices": [
            (key, ServingChoice.Key(key).label, model, previous_model(key)) for key, model in serving.items()
        ],
        "serves": {key: [v.pk for v in [model] if v] for key, model in serving.items()},
        "changes": ServingChange.objects.select_related("by")[:20],
        "choice_table": choice_table(),
    }
    return render(request, "training/models.html", context)


@staff_required
def model_detail(request: HttpRequest, name: str) -> HttpResponse:
    version = get_object_or_404(ModelVersion.objects.select_related("training_run"), name=name)
    run = getattr(version, "training_run", None)
    card = run_files.read(run, run_files.CARD) if run is not None else None
    context = {
        "version": version,
        "run": run,
        "card": card.decode() if card else None,
        "serves": [ServingChoice.Key(key).label for key in version.serves.values_list("key", flat=True)],
        "warnings": below_input(version),
    }
    return render(request, "training/model.html", context)


@staff_required
@require_POST
def model_promote(request: HttpRequest, name: str) -> HttpResponse:
    version = get_object_or_404(ModelVersion, name=name)
    choice = request.POST.get("choice", "")
    if choice not in ServingChoice.Key.values:
        messages.error(request, "Choose Best quality or Fast.")
        return redirect("training:models")
    warnings = below_input(version)
    if warnings and request.POST.get("confirm") != "yes":
        context = {"version": version, "choice": choice, "label": ServingChoice.Key(choice).label, "warnings": warnings}
        return render(request, "training/model_confirm.html", context, status=409)

    def promote() -> str:
        version.promote(choice, by=request.user)
        return f"{version.name} now serves {ServingChoice.Key(choice).label}, from the next job on."

    return _act(request, promote)


@staff_required
@require_POST
def model_rollback(request: HttpRequest, choice: str) -> HttpResponse:
    if choice not in ServingChoice.Key.values:
        messages.error(request, "No such choice.")
        return redirect("training:models")
    return _act(request, lambda: f"{ServingChoice.Key(choice).label} is served by {rollback(choice, by=request.user).name} again.")


@staff_required
@require_POST
def model_retire(request: HttpRequest, name: str) -> HttpResponse:
    version = get_object_or_404(ModelVersion, name=name)
    # Retiring is for good: asked first on a page of its own, which needs no script.
    if request.POST.get("confirm") != "yes":
        return render(request, "training/model_retire.html", {"version": version})

    def retire() -> str:
        version.retire()
        return f"{version.name} is retired: it stays registered and serves nothing."

    return _act(request, retire)


@staff_required
@require_POST
def model_score(request: HttpRequest, name: str) -> HttpResponse:
    version = get_object_or_404(ModelVersion, name=name)
    transaction.on_commit(lambda: score_model.delay(version.pk), robust=True)
    messages.success(request, f"{version.name} is queued on the train worker to be scored on every benchmark.")
    return redirect("training:models")
