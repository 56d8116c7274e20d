from django.urls import include, path

from accounts import views

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("profile/", views.profile, name="profile"),
    path("devices/<uuid:pk>/revoke/", views.revoke_device, name="revoke-device"),
    path("", include("django.contrib.auth.urls")),
]
