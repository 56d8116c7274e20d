from pathlib import PurePath
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models.fields.files import FieldFile
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from inference.images import ImageRejected
from inference.models import ServingChoice

from . import jobs
from .forms import UploadForm
from .media import LinkExpired, file_response, signed_file_response
from .models import Photo, Restoration
from .uploads import StorageUnavailable, accept_photo, delete_photo

PAGE_SIZE = 24

# URL name of each stored file -> (where it hangs, field, suffix of the download name)
FILES = {
    "original": ("photo", "original", ".png"),
    "reference": ("photo", "reference", "-reference.png"),
    "thumbnail": ("photo", "thumbnail", None),
    "preview": ("photo", "preview", None),
    "result-png": ("restoration", "result", "-deblurred.png"),
    "result-jpeg": ("restoration", "result_jpeg", "-deblurred.jpg"),
    "result-webp": ("restoration", "result_webp", "-deblurred.webp"),
    "result-preview": ("restoration", "result_preview", None),
}


def _own_photo(request: HttpRequest, pk: UUID) -> Photo:
    """Someone else's photo does not exist, as far as this user can tell."""
    return get_object_or_404(Photo.objects.select_related("restoration__model_version"), pk=pk, owner=request.user)


def _no_model() -> bool:
    return not ServingChoice.objects.filter(model__isnull=False).exists()


@login_required
def upload(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        accepted = 0
        for image, reference in zip(form.cleaned_data["images"], form.references()):
            try:
                photo = accept_photo(
                    request.user, image, original_name=image.name, reference=reference, choice=form.cleaned_data["model"]
                )
            except (ImageRejected, StorageUnavailable) as exc:
                messages.error(request, f"{image.name}: {exc}")
                continue
            accepted += 1
            for note in photo.notes:
                messages.info(request, f"{image.name}: {note}")
        if accepted:
            messages.success(request, f"{accepted} photo{'s' if accepted != 1 else ''} queued for deblurring.")
            return redirect("gallery:history")
    status = 400 if request.method == "POST" else 200
    return render(request, "gallery/upload.html", {"form": form, "no_model": _no_model()}, status=status)


@login_required
def history(request: HttpRequest) -> HttpResponse:
    photos = Photo.objects.filter(owner=request.user).select_related("restoration")
    page = Paginator(photos, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "gallery/history.html", {"page": page, "no_model": _no_model()})


@login_required
def detail(request: HttpRequest, pk: UUID) -> HttpResponse:
    photo = _own_photo(request, pk)
    return render(request, "gallery/detail.html", {"photo": photo, "job": photo.restoration, "no_model": _no_model()})


@login_required
def status(request: HttpRequest, pk: UUID) -> JsonResponse:
    job = _own_photo(request, pk).restoration
    return JsonResponse(
        {
            "status": job.status,
            "progress": job.progress,
            "error": job.error or None,
            "eta_seconds": job.eta_seconds,
            "queue_position": job.queue_position,
        }
    )


@login_required
@require_POST
def delete(request: HttpRequest, pk: UUID) -> HttpResponse:
    photo = _own_photo(request, pk)
    try:
        delete_photo(photo)
    except StorageUnavailable as exc:
        messages.error(request, str(exc))
        return redirect("gallery:detail", pk=pk)
    messages.success(request, f"Deleted {photo.original_name} and its files.")
    return redirect("gallery:history")


@login_required
@require_POST
def retry(request: HttpRequest, pk: UUID) -> HttpResponse:
    job = _own_photo(request, pk).restoration
    if job.status == Restoration.Status.FAILED:
        jobs.retry(job)
        messages.success(request, "Queued again.")
    return redirect("gallery:detail", pk=pk)


@login_required
def stored_file(request: HttpRequest, pk: UUID, kind: str) -> HttpResponse:
    if kind not in FILES:
        raise Http404("No such file.")
    photo = _own_photo(request, pk)
    owner_name, field, suffix = FILES[kind]
    file: FieldFile = getattr(photo if owner_name == "photo" else photo.restoration, field)
    download_name = None
    if request.GET.get("download") and suffix:
        download_name = PurePath(photo.original_name).stem + suffix
    return file_response(file, download_name=download_name)


def signed_file(request: HttpRequest, token: str) -> HttpResponse:
    """A short-lived link handed out by the API: the signature is the permission."""
    try:
        return signed_file_response(token)
    except LinkExpired as exc:
        return HttpResponse(str(exc), status=403, content_type="text/plain")
