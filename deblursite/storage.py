"""Named storages that follow the STORAGES setting, even when tests change it.

A FileField binds its storage when models load; these lazy proxies look the
alias up on first use instead, and forget it whenever STORAGES changes."""

from django.core.files.storage import Storage, storages
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.functional import LazyObject, empty


class NamedStorage(LazyObject):
    def __init__(self, alias: str) -> None:
        super().__init__()
        self.__dict__["alias"] = alias

    def _setup(self) -> None:
        self._wrapped = storages[self.__dict__["alias"]]


models_storage = NamedStorage("models")
datasets_storage = NamedStorage("datasets")


def get_models_storage() -> Storage:
    return models_storage


def get_datasets_storage() -> Storage:
    return datasets_storage


def is_s3(storage: Storage) -> bool:
    """True for S3-compatible storages, whose objects are read through presigned URLs."""
    if isinstance(storage, LazyObject):
        if storage._wrapped is empty:
            storage._setup()
        storage = storage._wrapped
    return hasattr(storage, "bucket_name")


@receiver(setting_changed)
def _forget_storages(setting: str, **kwargs) -> None:
    if setting == "STORAGES":
        models_storage._wrapped = empty
        datasets_storage._wrapped = empty
