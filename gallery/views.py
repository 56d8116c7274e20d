from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models.fields.files import FieldFile
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from deblursite.client_ip import client_ip
from inference.images import ImageRejected
from inference.models import Choice, ServingChoice, Verdict

from . import archive, cards, cleanup, downloads, jobs, names, queueing, results, samples
from .forms import RerunForm, StrengthForm, TryItForm, UploadForm
from .listing import GalleryQuery, has_references
from .media import LinkExpired, file_response, signed_file_response
from .models import Archive, Photo, Restoration
from .try_it import accept_try_it, describe_blur, image_names
from .uploads import DELETE_PENDING, StorageUnavailable, UploadLimited, UploadRejected, accept_photo, delete_photo

PAGE_SIZE = 24
# How often the page of a ZIP being built reloads itself.
ARCHIVE_REFRESH_SECONDS = 2
# The newest ZIPs the gallery page links to.
ARCHIVES_LISTED = 3

# URL name of each stored file served as it is -> (where it hangs, field, suffix of the download name)
FILES = {
    # The normalised copy, which the viewer zooms into; the download is "uploaded".
    "original": ("photo", "original", None),
    "reference": ("photo", "reference", "-reference.png"),
    "thumbnail": ("photo", "thumbnail", None),
    "preview": ("photo", "preview", None),
    # The model's full-strength output, which the photo page blends live when zoomed in.
    "output": ("restoration", "result", None),
    "result-preview": ("restoration", "result_preview", None),
    "result-thumbnail": ("restoration", "result_thumbnail", None),
    # The blur the kernel engine estimated, drawn as the camera's path.
    "kernel": ("restoration", "kernel_image", "-blur-kernel.png"),
    # A long job's first look at the centre of the photo, while the rest runs.
    "glimpse": ("restoration", "result_glimpse", None),
}
# URL name of each result download -> its format: at the saved strength, as every download
# of a result is (gallery.names.FORMATS names its field and file name).
RESULT_KINDS = {"result-png": "png", "result-jpeg": "jpeg", "result-webp": "webp"}
# The original as its owner uploaded it (gallery.names.original_download).
UPLOADED = "uploaded"
KINDS = [*FILES, *RESULT_KINDS, UPLOADED]


def _own_photo(request: HttpRequest, pk: UUID) -> Photo:
    """Someone else's photo does not exist, as far as this user can tell."""
    return get_object_or_404(Photo.objects.select_related("restoration__model_version"), pk=pk, owner=request.user)


def _no_model() -> bool:
    return not ServingChoice.objects.filter(model__isnull=False).exists()


def _announce_queued(request: HttpRequest, photos: list[Photo]) -> None:
    for photo in photos:
        for note in photo.notes:
            messages.info(request, f"{photo.original_name}: {note}")
    if photos:
        messages.success(request, f"{len(photos)} photo{'s' if len(photos) != 1 else ''} queued for deblurring.")


def _upload_answer(form: UploadForm, request: HttpRequest) -> JsonResponse:
    """The page's script sends each photo, with its reference, on its own: the answer says
    which of the two files a refusal is about, so the page can mark just that one."""
    if not form.is_valid():
        field, errors = next(iter(form.errors.items()))
        return JsonResponse({"field": "image" if field == "images" else field, "error": " ".join(errors)}, status=400)
    if len(form.cleaned_data["images"]) != 1:
        return JsonResponse({"field": "image", "error": "Send one photo per request."}, status=400)
    image, reference = form.cleaned_data["images"][0], form.references()[0]
    try:
        photo = accept_photo(
            request.user, image, original_name=image.name, reference=reference, choice=form.cleaned_data["model"],
            address=client_ip(request), keep_location=form.cleaned_data["keep_location"],
        )  # fmt: skip
    except UploadLimited as exc:
        # About neither file: the page lets the same photo be sent again.
        answer = {"field": None, "error": exc.message, "code": exc.code}
        return JsonResponse(answer, status=429, headers={"Retry-After": str(exc.retry_after)})
    except UploadRejected as exc:
        return JsonResponse({"field": exc.field, "error": exc.message, "code": exc.code}, status=400)
    except StorageUnavailable as exc:
        return JsonResponse({"field": None, "error": str(exc)}, status=503)
    url = reverse("gallery:detail", args=[photo.pk])
    return JsonResponse({"id": str(photo.pk), "url": url, "notes": photo.notes}, status=201)


@login_required
def upload(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST, request.FILES) if request.method == "POST" else UploadForm()
    if request.method == "POST" and "application/json" in request.headers.get("Accept", ""):
        return _upload_answer(form, request)
    if request.method == "POST" and form.is_valid():
        accepted = []
        for image, reference in zip(form.cleaned_data["images"], form.references()):
            try:
                photo = accept_photo(
                    request.user, image, original_name=image.name, reference=reference, choice=form.cleaned_data["model"],
                    address=client_ip(request), keep_location=form.cleaned_data["keep_location"],
                )  # fmt: skip
            except (ImageRejected, StorageUnavailable) as exc:
                messages.error(request, f"{image.name}: {exc}")
                continue
            accepted.append(photo)
        if accepted:
            _announce_queued(request, accepted)
            return redirect("gallery:history")
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "limits": form.limits(), "no_model": _no_model()}
    return render(request, "gallery/upload.html", context, status=status)


@login_required
@require_POST
def upload_done(request: HttpRequest) -> HttpResponse:
    """Where the upload page's script goes once its photos are queued one by one: the
    history, with the messages that the form's upload gives."""
    _announce_queued(request, _selected(request))
    return redirect("gallery:history")


@login_required
def try_it(request: HttpRequest) -> HttpResponse:
    form = TryItForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        image, kind, strength, choice = (form.cleaned_data[name] for name in ("image", "kind", "strength", "model"))
        try:
            photo = accept_try_it(
                request.user, image, original_name=image.name, kind=kind, strength=strength / 100, choice=choice,
                address=client_ip(request),
            )  # fmt: skip
        except UploadRejected as exc:
            form.add_error("image", exc.message)
        except StorageUnavailable as exc:
            form.add_error(None, str(exc))
        else:
            blur = describe_blur(photo.synthetic_blur)
            messages.success(request, f"{image.name} blurred ({blur}) and queued for deblurring.")
            return redirect("gallery:detail", pk=photo.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "gallery/try_it.html", {"form": form, "no_model": _no_model()}, status=status)


@login_required
def history(request: HttpRequest) -> HttpResponse:
    photos = Photo.objects.filter(owner=request.user).select_related("restoration")
    query = GalleryQuery(request.GET, with_references=has_references(photos))
    page = Paginator(query.photos(photos), PAGE_SIZE).get_page(request.GET.get("page"))
    shown = list(page.object_list)
    queueing.attach_standings(photo.restoration for photo in shown)
    context = {
        "page": page,
        "cards": cards.render(shown, request, back=request.get_full_path()),
        "query": query,
        "no_model": _no_model(),
        "archives": _archives(request)[:ARCHIVES_LISTED],
    }
    return render(request, "gallery/history.html", context)


@login_required
def card(request: HttpRequest, pk: UUID) -> HttpResponse:
    """One gallery card, for the gallery page to swap in when its job finishes."""
    photo = _own_photo(request, pk)
    return render(request, "gallery/_card.html", {"photo": photo, "back": reverse("gallery:history")})


def _back(request: HttpRequest, default: str) -> str:
    """Where the form asked to return to (the gallery page with its filters), if it is on this site."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return default


def _selected(request: HttpRequest) -> list[Photo]:
    """The user's own photos among the ids the form sent; other ids are ignored."""
    ids = []
    for value in request.POST.getlist("ids"):
        try:
            ids.append(UUID(value))
        except ValueError:
            continue
    return list(Photo.objects.filter(owner=request.user, pk__in=ids).select_related("restoration"))


@login_required
@require_POST
def download_many(request: HttpRequest) -> HttpResponse:
    photos = _selected(request)
    if not photos:
        messages.error(request, "Select at least one photo to download.")
        return redirect(_back(request, reverse("gallery:history")))
    if (kept := _archives(request).count()) >= settings.ARCHIVE_MAX_PER_USER:
        messages.error(
            request,
            f"You have {kept} ZIPs kept for download, the most at once. Delete one, or wait: each goes "
            f"{settings.ARCHIVE_KEEP_HOURS} hours after it was made.",
        )
        return redirect(_back(request, reverse("gallery:history")))
    made = archive.request(request.user, photos)
    return redirect("gallery:archive", pk=made.pk)


def _archives(request: HttpRequest):
    # A ZIP holding a photo being deleted is as good as gone.
    return Archive.objects.filter(owner=request.user).exclude(photos__deleting_since__isnull=False)


def _own_archive(request: HttpRequest, pk: UUID) -> Archive:
    return get_object_or_404(_archives(request), pk=pk)


@login_required
def archive_page(request: HttpRequest, pk: UUID) -> HttpResponse:
    """A ZIP being built, with its progress (the page reloads itself until it is done), or
    ready to download."""
    made = _own_archive(request, pk)
    context = {"archive": made, "count": made.photos.count(), "refresh_seconds": ARCHIVE_REFRESH_SECONDS}
    return render(request, "gallery/archive.html", context)


@login_required
@require_POST
def archive_delete(request: HttpRequest, pk: UUID) -> HttpResponse:
    made = _own_archive(request, pk)
    cleanup.drop_archives([made])
    messages.success(request, f"Deleted {made.name}.")
    return redirect("gallery:history")


@login_required
def archive_file(request: HttpRequest, pk: UUID) -> HttpResponse:
    made = _own_archive(request, pk)
    if made.status != Archive.Status.READY:
        return redirect("gallery:archive", pk=made.pk)
    return file_response(made.file, download_name=made.name)


@login_required
@require_POST
def delete_many(request: HttpRequest) -> HttpResponse:
    photos = _selected(request)
    if not photos:
        messages.error(request, "Select at least one photo to delete.")
    pending = [photo.original_name for photo in photos if not delete_photo(photo)]
    if deleted := len(photos) - len(pending):
        messages.success(request, f"Deleted {deleted} photo{'s' if deleted != 1 else ''} and {'their' if deleted != 1 else 'its'} files.")
    if pending:
        messages.info(request, f"Being deleted: {', '.join(pending)}. The file store failed part-way; the remaining files will be removed shortly.")
    return redirect(_back(request, reverse("gallery:history")))


def _rerun_choices(job: Restoration) -> list[tuple[str, str]]:
    """The other choices a finished job can run again with: Auto, Camera shake, and the
    learned choices that a model serves."""
    if not job.is_done:
        return []
    serving = ServingChoice.models_by_key()
    offered = [key for key in Choice.values if serving.get(key, True) is not None and key != job.choice]
    return [(key, Choice(key).label) for key in offered]


@dataclass
class Listed:
    """One of a photo's results as its page lists it: its number, and for the viewer's
    comparison, its name there and its pictures."""

    number: int
    job: Restoration
    current: bool
    label: str
    preview: str
    full: str


def _listed(photo: Photo) -> list[Listed]:
    kept = []
    for number, job in enumerate(results.listed(photo), start=1):
        model = job.model_name or job.get_choice_display()
        label = f"Result {number}: {'unchanged' if job.method == 'none' else model}"
        preview, full = (reverse("gallery:result-file", args=[photo.pk, job.pk, kind]) for kind in RESULT_VIEWER_FILES)
        kept.append(Listed(number, job, job.pk == photo.restoration_id, label, preview, full))
    return kept


@login_required
def detail(request: HttpRequest, pk: UUID) -> HttpResponse:
    photo = _own_photo(request, pk)
    job = photo.restoration
    kept = _listed(photo)
    context = {
        "photo": photo,
        "job": job,
        "results": kept,
        # The viewer compares any two of these: the photo and its results that succeeded.
        "comparable": [listed for listed in kept if listed.job.status == Restoration.Status.SUCCEEDED],
        "no_model": _no_model(),
        "rerun_choices": _rerun_choices(job),
        "verdict_reason": _reason_under_heading(job),
        "names": image_names(photo),
        "files": _viewer_files("gallery:file", photo.pk),
    }
    return render(request, "gallery/detail.html", context)


# The pictures the viewer shows (gallery/_result.html), by the name the template knows them by.
VIEWER_FILES = ("original", "preview", "output", "result-preview", "reference", "kernel")
# Those of any of a photo's results, for the viewer's comparison: preview first, then full.
RESULT_VIEWER_FILES = ("result-preview", "output")


def _viewer_files(route: str, key) -> dict[str, str]:
    return {kind.replace("-", "_"): reverse(route, args=[key, kind]) for kind in VIEWER_FILES}


def _sample_photo(slug: str) -> Photo:
    photo = samples.photos().get(slug)
    if photo is None:
        raise Http404("No such sample.")
    return photo


def sample(request: HttpRequest, slug: str) -> HttpResponse:
    """A sample photo's result, for anyone: no account needed."""
    photo = _sample_photo(slug)
    context = {
        "sample": samples.BY_SLUG[slug],
        "samples": samples.SAMPLES,
        "photo": photo,
        "job": photo.restoration,
        "verdict_reason": _reason_under_heading(photo.restoration),
        "names": image_names(photo),
        "files": _viewer_files("gallery:sample-file", slug),
    }
    return render(request, "gallery/sample.html", context)


def sample_file(request: HttpRequest, slug: str, kind: str) -> HttpResponse:
    """The pictures of a sample's viewer, for anyone; no other file of any photo."""
    if kind not in VIEWER_FILES:
        raise Http404("No such file.")
    photo = _sample_photo(slug)
    owner_name, field, _ = FILES[kind]
    return file_response(getattr(photo if owner_name == "photo" else photo.restoration, field))


# The photo page's heading of a result that is not improved; its reason need not say it again.
NOT_IMPROVED = "We could not improve this photo"


def _reason_under_heading(job: Restoration) -> str:
    """The verdict's reason as the photo page shows it under its heading: without the
    heading's own words where the reason begins with them."""
    reason = job.verdict_reason.strip()
    if job.verdict == Verdict.NOT_IMPROVED and reason.lower().startswith(NOT_IMPROVED.lower()):
        reason = reason[len(NOT_IMPROVED) :].lstrip(" :;,.")
        reason = reason[:1].upper() + reason[1:]
    return reason


@login_required
def status(request: HttpRequest, pk: UUID) -> JsonResponse:
    job = _own_photo(request, pk).restoration
    return JsonResponse(
        {
            "status": job.status,
            "progress": job.live_progress,
            "error": job.error or None,
            "eta_seconds": job.eta_seconds,
            "wait_seconds": job.wait_seconds,
            "queue_position": job.queue_position,
            "glimpse_url": reverse("gallery:file", args=[pk, "glimpse"]) if job.result_glimpse else None,
        }
    )


@login_required
@require_POST
def delete(request: HttpRequest, pk: UUID) -> HttpResponse:
    photo = _own_photo(request, pk)
    if delete_photo(photo):
        messages.success(request, f"Deleted {photo.original_name} and its files.")
    else:
        messages.info(request, f"{photo.original_name}: {DELETE_PENDING}")
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
@require_POST
def cancel(request: HttpRequest, pk: UUID) -> HttpResponse:
    photo = _own_photo(request, pk)
    page = reverse("gallery:detail", args=[pk])
    back = _back(request, page)
    if not results.cancel(photo):
        messages.info(request, f"{photo.original_name} had already finished.")
    elif photo.restoration.status == Restoration.Status.SUCCEEDED:
        messages.success(request, f"Cancelled the new run of {photo.original_name}; its earlier result is current again.")
    elif back != page:
        # The photo's own page says it was cancelled; elsewhere (the gallery) a message does.
        messages.success(request, f"Cancelled {photo.original_name}; the original stays.")
    return redirect(back)


@login_required
@require_POST
def strength(request: HttpRequest, pk: UUID) -> HttpResponse:
    """Save the strength that downloads apply; the photo page's script asks for JSON."""
    job = _own_photo(request, pk).restoration
    form = StrengthForm(request.POST)
    wants_json = "application/json" in request.headers.get("Accept", "")
    if not form.is_valid():
        if wants_json:
            return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
        messages.error(request, " ".join(form.errors["strength"]))
        return redirect("gallery:detail", pk=pk)
    downloads.save_strength(job, form.cleaned_data["strength"])
    if wants_json:
        return JsonResponse({"strength": job.strength})
    messages.success(request, f"Strength saved: downloads are at {job.strength:.0%}.")
    return redirect("gallery:detail", pk=pk)


@login_required
@require_POST
def rerun(request: HttpRequest, pk: UUID) -> HttpResponse:
    photo = _own_photo(request, pk)
    form = RerunForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["model"]))
        return redirect("gallery:detail", pk=pk)
    choice = form.cleaned_data["model"]
    try:
        results.add_run(photo, choice, client_ip(request))
    except results.Refused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Running {photo.original_name} again with {Choice(choice).label}; its earlier results are kept.")
    return redirect("gallery:detail", pk=pk)


def _change_results(request: HttpRequest, pk: UUID, change: Callable[[Photo], object], done: str) -> HttpResponse:
    """Make a change to the photo's results (gallery.results), and say how it went."""
    photo = _own_photo(request, pk)
    try:
        change(photo)
    except results.NoSuchResult as exc:
        raise Http404(str(exc)) from exc
    except results.Refused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)
    return redirect("gallery:detail", pk=pk)


@login_required
@require_POST
def result_current(request: HttpRequest, pk: UUID, result_id: int) -> HttpResponse:
    """Make one of the photo's results the current one: what its downloads follow."""
    done = "Current result changed: downloads, ZIPs and the API follow it."
    return _change_results(request, pk, lambda photo: results.make_current(photo, result_id), done)


@login_required
@require_POST
def result_delete(request: HttpRequest, pk: UUID, result_id: int) -> HttpResponse:
    done = "Result deleted, with its files."
    return _change_results(request, pk, lambda photo: results.delete(photo, result_id), done)


@login_required
def result_file(request: HttpRequest, pk: UUID, result_id: int, kind: str) -> HttpResponse:
    """The pictures of any of a photo's results, for the viewer's comparison."""
    if kind not in RESULT_VIEWER_FILES:
        raise Http404("No such file.")
    job = get_object_or_404(_own_photo(request, pk).results, pk=result_id)
    return file_response(getattr(job, FILES[kind][1]))


@login_required
def stored_file(request: HttpRequest, pk: UUID, kind: str) -> HttpResponse:
    if kind not in KINDS:
        raise Http404("No such file.")
    photo = _own_photo(request, pk)
    if kind in RESULT_KINDS:
        try:
            return downloads.result_response(
                photo, RESULT_KINDS[kind], as_download=bool(request.GET.get("download")), credentials=request.GET.get("credentials") != "0"
            )
        except downloads.BlendPending as pending:
            # The page asks again by itself: the same address then answers with the file.
            context = {"photo": photo, "reason": str(pending), "retry_after": pending.retry_after}
            response = render(request, "gallery/preparing.html", context, status=202)
            response["Retry-After"] = str(pending.retry_after)
            return response
    if kind == UPLOADED:
        # Always as an attachment: the bytes are the uploader's, and never shown inline.
        file, name = names.original_download(photo)
        return file_response(file, download_name=name)
    owner_name, field, suffix = FILES[kind]
    file: FieldFile = getattr(photo if owner_name == "photo" else photo.restoration, field)
    download_name = None
    if request.GET.get("download") and suffix:
        if photo.synthetic_blur:
            suffix = names.TRY_IT_SUFFIXES.get(kind, suffix)
        download_name = PurePath(photo.original_name).stem + suffix
    return file_response(file, download_name=download_name)


def signed_file(request: HttpRequest, token: str) -> HttpResponse:
    """A short-lived link handed out by the API: the signature is the permission."""
    return _signed(signed_file_response, token)


def signed_blend(request: HttpRequest, token: str) -> HttpResponse:
    """The API's short-lived link to a result at a strength under 100 %."""
    return _signed(downloads.signed_blend_response, token)


def _signed(respond: Callable[[str], HttpResponse], token: str) -> HttpResponse:
    try:
        return respond(token)
    except LinkExpired as exc:
        return HttpResponse(str(exc), status=403, content_type="text/plain")
    except downloads.BlendPending as pending:
        response = HttpResponse(str(pending), status=202, content_type="text/plain")
        response["Retry-After"] = str(pending.retry_after)
        return response
