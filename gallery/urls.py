from django.urls import path

from . import views

app_name = "gallery"
urlpatterns = [
    path("", views.history, name="history"),
    path("upload/", views.upload, name="upload"),
    path("<uuid:pk>/", views.detail, name="detail"),
    path("<uuid:pk>/status", views.status, name="status"),
    path("<uuid:pk>/delete/", views.delete, name="delete"),
    path("<uuid:pk>/retry/", views.retry, name="retry"),
    path("<uuid:pk>/files/<slug:kind>", views.stored_file, name="file"),
    path("links/<str:token>", views.signed_file, name="signed-file"),
]
