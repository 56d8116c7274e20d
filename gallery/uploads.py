"""Accepting an upload: validate, store under generated names, create the job.

One path for the web form and the API. A rejected file stores nothing; a store that dies
part-way leaves files no row names, which the storage sweep (gallery.cleanup) removes."""

import logging
import uuid
from dataclasses import dataclass
from typing import BinaryIO

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Sum
from django.template.defaultfilters import filesizeformat, pluralize
from PIL import Image

from deblursite.rate_limits import Charge, Rate, in_words, take
from deblursite.unavailable import StoreUnavailable
from inference.images import (
    FORMAT_FILES,
    DecodedImage,
    ImageRejected,
    Metadata,
    decode_image_bounded,
    encode_png,
    make_thumbnail,
)
from inference.models import Choice, ModelVersion

from . import cleanup, jobs
from .models import Photo, Restoration, bytes_used, photo_file_names

log = logging.getLogger(__name__)



class StorageUnavailable(StoreUnavailable):
    """The file store could not be written; the photo was not kept."""


# What a delete whose store failed part-way says: the photo is gone for its owner already.
DELETE_PENDING = "The photo is being deleted; its remaining files will be removed shortly."


class UploadRejected(ImageRejected):
    """A refused upload, naming the file it is about: the photo or its reference."""

    def __init__(self, message: str, code: str, field: str = "image") -> None:
        super().__init__(message, code)
        self.field = field


class UploadLimited(UploadRejected):
    """Refused for how much the user uploads or has waiting, not for the file: the same
    file may be sent again after retry_after seconds."""

    def __init__(self, message: str, code: str, retry_after: int) -> None:
        super().__init__(message, code)
        self.retry_after = retry_after


# What a full queue tells a client to wait before asking again: about one large photo's job.
QUEUE_FULL_RETRY_SECONDS = 60


@dataclass(frozen=True)
class Given:
    """An uploaded file as it was given, and what of its metadata the results carry."""

    content: bytes
    media_type: str
    metadata: Metadata


def decode_upload(upload: BinaryIO | bytes, field: str, keep_location: bool = False) -> DecodedImage:
    """The uploaded file decoded within the upload limits; a refusal names the field."""
    try:
        return decode_image_bounded(
            upload,
            cpu_seconds=settings.DECODE_CPU_SECONDS,
            max_bytes=settings.UPLOAD_MAX_BYTES,
            max_pixels=settings.UPLOAD_MAX_PIXELS,
            min_side=settings.UPLOAD_MIN_SIDE,
            keep_location=keep_location,
        )
    except ImageRejected as exc:
        raise UploadRejected(exc.message, exc.code, field) from exc


def _check_reference(photo: DecodedImage, reference: DecodedImage) -> None:
    if photo.image.size != reference.image.size:
        (w, h), (rw, rh) = photo.image.size, reference.image.size
        raise UploadRejected(
            f"The sharp reference must be the same size as the photo ({w}×{h}); it is {rw}×{rh}.",
            code="reference_size",
            field="reference",
        )


def _check_quota(user: AbstractBaseUser, new_bytes: int) -> None:
    if bytes_used(user) + new_bytes > settings.USER_QUOTA_BYTES:
        raise UploadRejected(
            f"Your storage quota of {filesizeformat(settings.USER_QUOTA_BYTES)} would be exceeded. "
            "Delete some photos to make room.",
            code="quota",
        )


def waiting_pixels(**whose) -> int:
    """The pixels of the photos whose jobs are queued or running, of an owner (owner=user)
    or sent from an address (restoration__submitted_from=address)."""
    waiting = Photo.objects.filter(restoration__status__in=[Restoration.Status.QUEUED, Restoration.Status.RUNNING], **whose)
    return waiting.aggregate(pixels=Sum(F("width") * F("height")))["pixels"] or 0


def _check_queue(waiting: int, pixels: int, limit_megapixels: int, whose: str) -> None:
    # A photo is let in on its own whatever its size (UPLOAD_MAX_PIXELS bounds that).
    if waiting and waiting + pixels > limit_megapixels * 1_000_000:
        raise UploadLimited(
            f"{whose} {waiting / 1e6:.0f} MP waiting to be deblurred and this photo is {pixels / 1e6:.1f} MP; "
            f"at most {limit_megapixels} MP may wait. Wait for some to finish, or cancel some, then send it again.",
            code="queue_full",
            retry_after=QUEUE_FULL_RETRY_SECONDS,
        )


def _upload_rates(address_wide: bool) -> tuple[Rate, Rate]:
    """The upload rates in photos and in megapixels: a user's, or all accounts' at one address."""
    if address_wide:
        return Rate.parse(settings.UPLOAD_ADDRESS_RATE_PHOTOS), Rate.parse(settings.UPLOAD_ADDRESS_RATE_MEGAPIXELS)
    return Rate.parse(settings.UPLOAD_RATE_PHOTOS), Rate.parse(settings.UPLOAD_RATE_MEGAPIXELS)


def _take_upload(user: AbstractBaseUser, address: str | None, pixels: int | None) -> None:
    """Count one photo (pixels None) or its pixels against the user's upload rates and their
    address's. Counting is atomic, so uploads sent at once cannot all slip past a rate."""
    charges = []
    # Many new accounts from one address would each have rates of their own.
    for key, address_wide in [(str(user.pk), False)] + ([(f"address:{address}", True)] if address else []):
        photos, megapixels = _upload_rates(address_wide)
        if pixels is None:
            charges.append(Charge(f"upload-photos:{key}", photos))
        else:
            charges.append(Charge(f"upload-pixels:{key}", Rate(megapixels.limit * 1_000_000, megapixels.window), pixels))
    if refused := take(*charges):
        address_wide = refused.charge is not charges[0]
        photos, megapixels = _upload_rates(address_wide)
        whose = "Your network address has reached its" if address_wide else "You have reached the"
        over_all = ", over all its accounts" if address_wide else ""
        raise UploadLimited(
            f"{whose} upload limit of {photos.limit:,} photo{pluralize(photos.limit)} {photos.per} or "
            f"{megapixels.limit:,} megapixel{pluralize(megapixels.limit)} {megapixels.per}{over_all}. "
            f"Please try again in {in_words(refused.wait)}.",
            code="rate_limited",
            retry_after=refused.wait,
        )


def charge_photo(user: AbstractBaseUser, address: str | None) -> None:
    """Count one photo against the upload rates before its file is decoded: a file refused
    after a costly decode counts too, so nobody can send such files without end."""
    _take_upload(user, address, pixels=None)


def _check_limits(user: AbstractBaseUser, pixels: int, address: str | None) -> None:
    """The user's queue of work and their address's, then the upload rates in megapixels
    (the photo itself was counted before decoding: charge_photo). The queues are read
    without a lock, so uploads sent at once can overrun them by a few photos at most."""
    _check_queue(waiting_pixels(owner=user), pixels, settings.UPLOAD_QUEUE_MEGAPIXELS, "You have")
    if address:
        waiting = waiting_pixels(restoration__submitted_from=address)
        _check_queue(waiting, pixels, settings.UPLOAD_ADDRESS_QUEUE_MEGAPIXELS, "Your network address has")
    _take_upload(user, address, pixels)


# What each choice is for, in a line, wherever the choices are offered (forms, API).
CHOICE_HELP = {
    Choice.AUTO: "Picks per photo: camera shake and focus blur go to the kernel engine, blur that differs "
    "from place to place to the Best quality network.",
    Choice.BEST: "Street scenes, moving things.",
    Choice.FAST: "Quick: light blur and noise.",
    Choice.SHAKE: "Hand-held shake and focus blur: estimates the blur and undoes it.",
}


def unknown_choice(sent: str) -> str:
    """The message for a choice that is none of the choices, for the form and the API alike;
    `sent` is the placeholder where each framework puts what was sent."""
    *others, last = (f'"{key}"' for key in Choice.values)
    return f'Choose {", ".join(others)} or {last}, not "{sent}".'


def choice_refusal(choice: str, serving: dict[str, ModelVersion | None]) -> str | None:
    """Why an upload for this choice is refused, or None. Auto and Camera shake need no
    model (the kernel engine); a learned choice (`serving`'s keys: best, fast) needs the
    model an administrator set to serve it."""
    if serving.get(choice, True) is not None:
        return None
    offered = [key for key in Choice.values if serving.get(key, True) is not None]
    named = [f'"{Choice(key).label}" ({key})' for key in offered]
    instead = ", ".join(named[:-1]) + f" or {named[-1]}"
    return f'No model serves "{Choice(choice).label}" yet. Choose {instead}.'


def _store(files: dict[str, bytes], media_types: dict[str, str]) -> None:
    """Write every file or none: a failure removes what was already written, or, with the
    store down, leaves it to the storage sweep. S3 keeps each object's media type, where
    `media_types` gives one its name does not tell."""
    written = []
    try:
        for name, content in files.items():
            file = ContentFile(content)
            file.content_type = media_types.get(name)
            written.append(default_storage.save(name, file))
    except Exception as exc:
        log.exception("storing an upload failed")
        jobs.delete_quietly(written)
        raise StorageUnavailable("The file store is unavailable right now, so the photo was not saved. Please try again.") from exc


def accept_photo(
    user: AbstractBaseUser,
    upload: BinaryIO,
    *,
    original_name: str,
    reference: BinaryIO | None = None,
    strength: float = 1.0,
    choice: str = Choice.AUTO,
    address: str | None = None,
    keep_location: bool = False,
) -> Photo:
    """Validate one upload (and its optional sharp reference), store it as it was given and
    normalised, and queue its deblurring job, with the model choice it is for, once the rows
    are committed. Its results keep its GPS location only when `keep_location`."""
    charge_photo(user, address)
    # One byte over the limit is enough for decoding to refuse it as too large.
    content = upload.read(settings.UPLOAD_MAX_BYTES + 1)
    decoded = decode_upload(content, "image", keep_location)
    decoded_reference = decode_upload(reference, "reference") if reference is not None else None
    if decoded_reference is not None:
        _check_reference(decoded, decoded_reference)
    return keep_photo(
        user,
        decoded.image,
        original_name=original_name,
        reference=decoded_reference.image if decoded_reference else None,
        notes=decoded.notes,
        strength=strength,
        choice=choice,
        address=address,
        given=Given(content, FORMAT_FILES[decoded.format][0], decoded.metadata),
    )


def keep_photo(
    user: AbstractBaseUser,
    image: Image.Image,
    *,
    original_name: str,
    reference: Image.Image | None = None,
    notes: list[str],
    strength: float = 1.0,
    choice: str = Choice.AUTO,
    synthetic_blur: dict | None = None,
    address: str | None = None,
    given: Given | None = None,
) -> Photo:
    """Store a decoded photo (and its reference, of the same size, and the file it was
    decoded from as given) under generated names within the user's quota and upload limits,
    and queue its job once the rows are committed. `address` is the client's, for the limits
    and the queue's turns (gallery.queueing)."""
    _check_limits(user, image.width * image.height, address)
    photo_id = uuid.uuid4()
    owned = photo_file_names(photo_id)
    names = {field: owned[field] for field in ("original", "thumbnail", "preview")}
    names["reference"] = owned["reference"] if reference is not None else ""
    files = {
        names["original"]: encode_png(image),
        names["thumbnail"]: make_thumbnail(image, jobs.THUMBNAIL_SIZE),
        names["preview"]: make_thumbnail(image, jobs.PREVIEW_SIZE),
    }
    if reference is not None:
        files[names["reference"]] = encode_png(reference)
    kept = {"given": "", "given_type": "", "exif": b"", "icc_profile": b""}
    if given is not None:
        files[owned["given"]] = given.content
        kept = {"given": owned["given"], "given_type": given.media_type, **vars(given.metadata)}
    total_bytes = sum(len(content) for content in files.values())
    _check_quota(user, total_bytes)

    _store(files, {owned["given"]: kept["given_type"]})
    try:
        with transaction.atomic():
            photo = Photo.objects.create(
                id=photo_id,
                owner=user,
                original_name=original_name[:255],
                width=image.width,
                height=image.height,
                mode=image.mode,
                bytes_stored=total_bytes,
                notes=notes,
                synthetic_blur=synthetic_blur or {},
                **names,
                **kept,
            )
            restoration = Restoration.objects.create(
                photo=photo, strength=strength, choice=choice, submitted_from=address,
                **jobs.placement(choice, photo.megapixels),
            )  # fmt: skip
            photo.restoration = restoration
            photo.save(update_fields=["restoration"])
            transaction.on_commit(lambda: jobs.enqueue(restoration.pk), robust=True)
    except Exception:
        jobs.delete_quietly(list(files))
        raise
    return photo


def delete_photo(photo: Photo) -> bool:
    """Delete the photo: gone for its owner at once, then its files, then its rows. False
    when the store failed part-way: the photo stays marked as being deleted, and the
    storage sweep removes the rest (DELETE_PENDING says so)."""
    return cleanup.delete_photos([photo])
