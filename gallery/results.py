"""A photo's results, one per run. Running a photo again adds a result and makes it the
current one; its owner can make any succeeded result current again, and delete the others.
The current result is what the photo's page shows first, and what downloads, ZIPs and the
API's result follow; every kept result counts towards the owner's quota."""

from django.conf import settings
from django.db import transaction
from django.template.defaultfilters import filesizeformat

from . import jobs
from .models import Photo, Restoration, bytes_used

Status = Restoration.Status


class Refused(Exception):
    """Why the change cannot be made, in a sentence for the person."""


class NoSuchResult(Refused):
    """The photo has no result of that id."""


def listed(photo: Photo) -> list[Restoration]:
    """The photo's results, oldest first: their place in the list is their number."""
    return list(photo.results.select_related("model_version").order_by("created", "pk"))


def _locked(photo: Photo) -> Photo:
    """The photo's row, locked until the transaction ends, with its current result: two
    requests at once change a photo's results one after the other."""
    return Photo.objects.select_for_update(of=("self",)).select_related("restoration").get(pk=photo.pk)


def _of(photo: Photo, result_id: int) -> Restoration:
    result = photo.results.filter(pk=result_id).first()
    if result is None:
        raise NoSuchResult("This photo has no such result.")
    return result


def _set_current(photo: Photo, result: Restoration) -> None:
    Photo.all_objects.filter(pk=photo.pk).update(restoration=result)
    photo.restoration = result


def add_run(photo: Photo, choice: str, address: str | None = None) -> Restoration:
    """Run the photo again with this choice, as a new result that becomes the current one;
    the earlier results are kept. Refused while a run is in progress, and when the owner's
    kept files fill their quota."""
    with transaction.atomic():
        locked = _locked(photo)
        if not locked.restoration.is_done:
            raise Refused(f"{photo.original_name} is still being deblurred: wait for it, or cancel it.")
        if bytes_used(photo.owner) >= settings.USER_QUOTA_BYTES:
            raise Refused(
                f"Your storage quota of {filesizeformat(settings.USER_QUOTA_BYTES)} is full: delete a result "
                "or a photo to make room for another result."
            )
        run = Restoration.objects.create(
            photo=locked, choice=choice, strength=locked.restoration.strength, submitted_from=address,
            **jobs.placement(choice, locked.megapixels),
        )  # fmt: skip
        _set_current(locked, run)
        transaction.on_commit(lambda: jobs.enqueue(run.pk), robust=True)
    photo.restoration = run
    return run


def make_current(photo: Photo, result_id: int) -> Restoration:
    """Make one of the photo's succeeded results its current one."""
    with transaction.atomic():
        locked = _locked(photo)
        result = _of(locked, result_id)
        if not locked.restoration.is_done:
            raise Refused("A run is in progress: wait for it, or cancel it, before choosing another result.")
        if result.status != Status.SUCCEEDED:
            raise Refused("Only a result that succeeded can be the current one.")
        _set_current(locked, result)
    photo.restoration = result
    return result


def _fallback(photo: Photo, leaving: Restoration) -> Restoration | None:
    """The result that becomes current when `leaving` goes: the newest other that succeeded,
    else the newest other."""
    others = photo.results.exclude(pk=leaving.pk).order_by("-created", "-pk")
    return others.filter(status=Status.SUCCEEDED).first() or others.first()


def delete(photo: Photo, result_id: int) -> None:
    """Delete one of the photo's results and its files. The current one hands over to the
    newest other result. A photo keeps one result at least (deleting the photo removes them
    all), and a run in progress is cancelled rather than deleted. The row goes first: files
    a failing store keeps are then nobody's, and the storage sweep removes them."""
    with transaction.atomic():
        locked = _locked(photo)
        result = _of(locked, result_id)
        if not result.is_done:
            raise Refused("This result is still being made: cancel it instead.")
        following = _fallback(locked, result)
        if following is None:
            raise Refused("A photo keeps one result at least: delete the photo to remove it all.")
        if locked.restoration_id == result.pk:
            _set_current(locked, following)
        names = result.every_file_name()
        result.delete()
    photo.restoration = locked.restoration
    transaction.on_commit(lambda: jobs.delete_quietly(names), robust=True)


def cancel(photo: Photo) -> bool:
    """Cancel the photo's run in progress; False when it had finished. A cancelled run keeps
    nothing, so a run that was adding a result goes from the list, and the result that was
    current before it is current again."""
    with transaction.atomic():
        locked = _locked(photo)
        run = locked.restoration
        if not jobs.cancel(run):
            return False
        earlier = _fallback(locked, run)
        if earlier is not None and earlier.status == Status.SUCCEEDED:
            _set_current(locked, earlier)
            run.delete()
    photo.restoration = locked.restoration
    return True
