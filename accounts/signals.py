"""A new password signs out every device: the API tokens issued under the old one end, and
so does a password made unusable (the admin's "Disable password-based authentication").

Browser sessions need nothing here: Django ends those whose stored password hash no
longer matches, and the password change view keeps the session that made the change."""

from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver

from .models import DeviceToken


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def sign_out_devices_on_new_password(sender, instance, created: bool, **kwargs) -> None:
    # Every way a password is set (change, reset, admin, manage.py changepassword) goes
    # through set_password(), which keeps the new password in _password until save() has
    # told the password validators; the hash upgrade at a sign-in clears it before saving,
    # as it is no change of password. Comparing hashes would take that upgrade for one.
    # set_unusable_password() sets no _password: an account shut out of sign-in keeps no device.
    if not created and (instance._password is not None or not instance.has_usable_password()):
        DeviceToken.objects.filter(user=instance).delete()
