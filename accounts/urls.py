from django.urls import include, path

from accounts import views

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("profile/", views.profile, name="profile"),
    path("delete/", views.delete_me, name="delete-account"),
    path("devices/<uuid:pk>/revoke/", views.revoke_device, name="revoke-device"),
    # Before Django's own, which it replaces.
    path("password_reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("", include("django.contrib.auth.urls")),
]
