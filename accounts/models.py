import uuid

from django.db import models
from knox.models import AbstractAuthToken


class DeviceToken(AbstractAuthToken):
    """An expiring API token for one device. Only a hash of the token is stored
    (knox); the device name lets its owner tell tokens apart and revoke one."""

    # The knox primary key is the token's hash: never shown, so tokens get an id of their own.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    device_name = models.CharField(max_length=100)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.device_name} ({self.user})"
