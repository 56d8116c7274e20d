"""Deleting an account: every file of its photos and ZIPs goes from storage at once, then
its rows. The web page, the API and the admin all delete through delete_account."""

import logging
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser

from accounts.models import DeviceToken
from deblursite.rate_limits import Charge, Rate, Refused, take
from gallery import cleanup
from gallery.models import Photo, Restoration, bytes_used

log = logging.getLogger(__name__)
# Tries at confirming with the password: a stolen session or token must not become a way
# to guess it.
CONFIRM_RATE = Rate.parse("10/hour")


@dataclass(frozen=True)
class Holdings:
    """What deleting the account removes, as the page lists it."""

    photos: int
    results: int
    archives: int
    devices: int
    bytes_stored: int


def holdings_of(user: AbstractBaseUser) -> Holdings:
    return Holdings(
        photos=Photo.objects.filter(owner=user).count(),
        results=Restoration.objects.filter(photo__owner=user, status=Restoration.Status.SUCCEEDED).count(),
        archives=user.archives.count(),
        devices=DeviceToken.objects.filter(user=user).count(),
        bytes_stored=bytes_used(user),
    )


def delete_account(user: AbstractBaseUser) -> bool:
    """Delete the user, every file of their photos and ZIPs, and their rows. False when the
    store failed part-way: the account is gone all the same, and the storage sweep removes
    the files that no row names any more once its grace period has passed."""
    complete = cleanup.delete_photos(Photo.all_objects.filter(owner=user))
    try:
        cleanup.drop_archives(user.archives.all())
    except Exception:
        log.exception("deleting the ZIPs of user %s failed; the storage sweep will remove them", user.pk)
        complete = False
    user.delete()
    return complete


def charge_confirmation(user: AbstractBaseUser) -> Refused | None:
    return take(Charge(f"delete-account:{user.pk}", CONFIRM_RATE))
