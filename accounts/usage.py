from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser

from gallery.models import bytes_used


@dataclass(frozen=True)
class Usage:
    photo_count: int
    bytes_used: int
    quota_bytes: int

    @property
    def percent_used(self) -> int:
        return min(100, round(100 * self.bytes_used / self.quota_bytes)) if self.quota_bytes else 100


def usage_of(user: AbstractBaseUser) -> Usage:
    return Usage(photo_count=user.photos.count(), bytes_used=bytes_used(user), quota_bytes=settings.USER_QUOTA_BYTES)
