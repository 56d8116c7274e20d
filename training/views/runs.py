"""Staff pages for training runs: start one, watch it, stop and resume it, list them."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from training.runs import charts
from training.runs import files as run_files
from training.runs import lifecycle as runs
from training.forms import RunForm
from training.models import Dataset, TrainingRun
from training.runs.estimate import estimate
from training.views.access import staff_required


@staff_required
def run_list(request: HttpRequest) -> HttpResponse:
    rows = TrainingRun.objects.prefetch_related("datasets").select_related("model", "init_model")[:100]
    return render(request, "training/runs.html", {"runs": rows})


@staff_required
def run_new(request: HttpRequest) -> HttpResponse:
    # From a dataset's page, that dataset comes ticked.
    form = RunForm(request.POST or None, initial={"datasets": Dataset.objects.filter(name=request.GET.get("dataset", ""))})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        run = runs.create(
            datasets=list(data["datasets"]),
            architecture=data["architecture"],
            init_model=data["init_model"],
            label=data["label"],
            by=request.user,
            **{name: data[name] for name in ("synthesis", "steps", "gan_steps", "batch", "patch", "lr", "seed")},
        )
        messages.success(request, f"Run {run.pk} queued on the train worker.")
        return redirect("training:run", pk=run.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "training/run_new.html", {"form": form}, status=status)


@staff_required
def run_estimate(request: HttpRequest) -> JsonResponse:
    """The run's time on the train worker, for the form's settings."""
    try:
        values = {name: int(request.GET.get(name, 0)) for name in ("steps", "gan_steps", "batch", "patch")}
    except ValueError:
        return JsonResponse({"text": "Enter whole numbers to see an estimate."}, status=400)
    guess = estimate(request.GET.get("architecture", ""), **values)
    return JsonResponse({"seconds": guess.seconds, "text": guess.text})


def _status(run: TrainingRun) -> dict:
    return {
        "status": run.status,
        "status_label": run.get_status_display(),
        "step": run.step,
        "total_steps": run.total_steps,
        "eta_seconds": run.time_left,
        "seconds": run.seconds,
        "best_psnr": run.best_psnr,
        "best_ssim": run.best_ssim,
        "error": run.error,
        "log": run.log,
        "model": run.model.name if run.model else None,
        "samples": run_files.stored(run, "samples"),
        "can_stop": run.is_active,
        "can_resume": run.can_resume,
    }


@staff_required
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(TrainingRun.objects.select_related("model", "init_model", "created_by"), pk=pk)
    context = {"run": run, "state": _status(run), "charts": list(charts.CHARTS)}
    return render(request, "training/run.html", context)


@staff_required
def run_status(request: HttpRequest, pk: int) -> JsonResponse:
    return JsonResponse(_status(get_object_or_404(TrainingRun.objects.select_related("model"), pk=pk)))


@staff_required
def run_chart(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    run = get_object_or_404(TrainingRun, pk=pk)
    if name not in charts.CHARTS:
        raise Http404("No such chart.")
    response = HttpResponse(charts.run_chart(name, run.history, run.total_steps), content_type="image/svg+xml")
    response["Cache-Control"] = "no-store"
    return response


@staff_required
def run_sample(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    run = get_object_or_404(TrainingRun, pk=pk)
    content = run_files.read(run, f"samples/{name}") if name in run_files.stored(run, "samples") else None
    if content is None:
        raise Http404("No such sample.")
    return HttpResponse(content, content_type="image/png")


@staff_required
@require_POST
def run_stop(request: HttpRequest, pk: int) -> HttpResponse:
    runs.stop(get_object_or_404(TrainingRun, pk=pk))
    messages.success(request, "Stopping: the worker saves a checkpoint at its next step, then ends.")
    return redirect("training:run", pk=pk)


@staff_required
@require_POST
def run_resume(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(TrainingRun, pk=pk)
    if not run.can_resume:
        messages.error(request, "Only a stopped or failed run with a checkpoint can resume.")
    else:
        runs.resume(run)
        messages.success(request, f"Queued to resume from step {run.step}.")
    return redirect("training:run", pk=pk)
