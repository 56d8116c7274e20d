"""Per-device API tokens: issue and revoke, for the API and the profile page alike."""

from uuid import UUID

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet
from django.utils import timezone
from knox.settings import knox_settings

from .models import DeviceToken


class TooManyDevices(Exception):
    """The user already holds the most tokens allowed."""


def devices_of(user: AbstractBaseUser) -> QuerySet[DeviceToken]:
    """The user's tokens that still work, newest first."""
    return DeviceToken.objects.filter(Q(expiry__isnull=True) | Q(expiry__gt=timezone.now()), user=user)


def issue_token(user: AbstractBaseUser, device_name: str) -> tuple[DeviceToken, str]:
    """A new token for one device; returns the row and the token, which is shown
    this once and never stored in the clear."""
    DeviceToken.objects.filter(user=user, expiry__lte=timezone.now()).delete()
    limit = knox_settings.TOKEN_LIMIT_PER_USER
    if limit is not None and DeviceToken.objects.filter(user=user).count() >= limit:
        raise TooManyDevices(
            f"You are signed in on {limit} devices, the most allowed. Sign out on one of them, "
            "or revoke one on your profile page."
        )
    return DeviceToken.objects.create(user, device_name=device_name)


def revoke_token(user: AbstractBaseUser, public_id: UUID) -> bool:
    deleted, _ = DeviceToken.objects.filter(user=user, public_id=public_id).delete()
    return bool(deleted)
