"""Staff pages for the training data: datasets, their images with provenance, and
ingestion jobs."""

import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from deblursite.storage import datasets_storage
from gallery.media import file_response

from training.ingestion import jobs as ingest
from training.ingestion.datasets import delete_dataset
from training.forms import IngestForm
from training.models import Dataset, DatasetImage, IngestJob
from training.views.access import staff_required

IMAGES_PER_PAGE = 60


@staff_required
def datasets(request: HttpRequest) -> HttpResponse:
    rows = [(dataset, dataset.counts(), dataset.rejections()) for dataset in Dataset.objects.all()]
    jobs = IngestJob.objects.select_related("dataset")[:20]
    return render(request, "training/datasets.html", {"rows": rows, "jobs": jobs})


@staff_required
def dataset_detail(request: HttpRequest, name: str) -> HttpResponse:
    dataset = get_object_or_404(Dataset, name=name)
    kept = dataset.images.filter(status=DatasetImage.Status.KEPT).order_by("-created")
    page = Paginator(kept, IMAGES_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "dataset": dataset,
        "counts": dataset.counts(),
        "rejections": dataset.rejections(),
        "rejected": dataset.images.filter(status=DatasetImage.Status.REJECTED).order_by("-created")[:200],
        "page": page,
        "jobs": dataset.jobs.all()[:10],
    }
    return render(request, "training/dataset.html", context)


@staff_required
def image_file(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    row = get_object_or_404(DatasetImage, pk=pk)
    if kind not in ("thumbnail", "processed", "processed_blur"):
        raise PermissionDenied("No such file.")
    return file_response(getattr(row, kind))


@staff_required
@require_POST
def toggle_benchmark(request: HttpRequest, name: str) -> HttpResponse:
    dataset = get_object_or_404(Dataset, name=name)
    dataset.is_benchmark = not dataset.is_benchmark
    dataset.save(update_fields=["is_benchmark"])
    state = "is now a benchmark: `manage.py evaluate --dataset` can score models on it" if dataset.is_benchmark else "is no longer a benchmark"
    messages.success(request, f"{dataset.name} {state}.")
    return redirect("training:dataset", name=name)


@staff_required
@require_POST
def delete(request: HttpRequest, name: str) -> HttpResponse:
    dataset = get_object_or_404(Dataset, name=name)
    if dataset.jobs.filter(status=IngestJob.Status.RUNNING).exists():
        messages.error(request, "An ingestion is running into this dataset: stop it first.")
        return redirect("training:dataset", name=name)
    delete_dataset(dataset)
    messages.success(request, f"Deleted dataset {name} and its files.")
    return redirect("training:datasets")


@staff_required
def start_ingestion(request: HttpRequest) -> HttpResponse:
    form = IngestForm(request.POST or None, request.FILES or None, initial={"dataset": request.GET.get("dataset", "")})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        dataset, _ = Dataset.objects.get_or_create(name=data["dataset"], defaults={"kind": data["kind"]})
        path = data["path"]
        if data["archive"]:
            path = datasets_storage.save(f"incoming/{uuid.uuid4()}.zip", data["archive"])
        job = ingest.start(
            dataset,
            data["source"],
            query=data["query"],
            count=data["count"] or 0,
            licence_basis=data["licence_basis"],
            licence=data["licence"],
            path=path,
        )
        messages.success(request, "Ingestion queued on the etl worker.")
        return redirect("training:job", pk=job.pk)
    return render(request, "training/ingest.html", {"form": form}, status=400 if request.method == "POST" else 200)


@staff_required
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(IngestJob.objects.select_related("dataset"), pk=pk)
    return render(request, "training/job.html", {"job": job})


@staff_required
def job_status(request: HttpRequest, pk: int) -> JsonResponse:
    job = get_object_or_404(IngestJob, pk=pk)
    fields = ("status", "seen", "kept", "rejected", "total", "error", "log")
    return JsonResponse({name: getattr(job, name) for name in fields} | {"resume_at": job.resume_at})


@staff_required
@require_POST
def job_stop(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(IngestJob, pk=pk)
    ingest.stop(job)
    messages.success(request, "Stopping after the image in hand; start it again to continue where it stopped.")
    return redirect("training:job", pk=pk)


@staff_required
@require_POST
def job_resume(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(IngestJob, pk=pk)
    ingest.resume(job)
    messages.success(request, "Queued again; it skips what is done.")
    return redirect("training:job", pk=pk)
