from django.urls import path

from . import views

app_name = "gallery"
urlpatterns = [
    path("", views.history, name="history"),
    path("upload/", views.upload, name="upload"),
    path("upload/done/", views.upload_done, name="upload-done"),
    path("try/", views.try_it, name="try-it"),
    path("download/", views.download_many, name="download-many"),
    path("delete/", views.delete_many, name="delete-many"),
    path("zips/<uuid:pk>/", views.archive_page, name="archive"),
    path("zips/<uuid:pk>/file", views.archive_file, name="archive-file"),
    path("zips/<uuid:pk>/delete/", views.archive_delete, name="archive-delete"),
    path("<uuid:pk>/", views.detail, name="detail"),
    path("<uuid:pk>/status", views.status, name="status"),
    path("<uuid:pk>/card", views.card, name="card"),
    path("<uuid:pk>/delete/", views.delete, name="delete"),
    path("<uuid:pk>/retry/", views.retry, name="retry"),
    path("<uuid:pk>/cancel/", views.cancel, name="cancel"),
    path("<uuid:pk>/strength/", views.strength, name="strength"),
    path("<uuid:pk>/rerun/", views.rerun, name="rerun"),
    path("<uuid:pk>/files/<slug:kind>", views.stored_file, name="file"),
    path("<uuid:pk>/results/<int:result_id>/current/", views.result_current, name="result-current"),
    path("<uuid:pk>/results/<int:result_id>/delete/", views.result_delete, name="result-delete"),
    path("<uuid:pk>/results/<int:result_id>/files/<slug:kind>", views.result_file, name="result-file"),
    path("samples/<slug:slug>/", views.sample, name="sample"),
    path("samples/<slug:slug>/files/<slug:kind>", views.sample_file, name="sample-file"),
    path("links/<str:token>", views.signed_file, name="signed-file"),
    path("links/blend/<str:token>", views.signed_blend, name="signed-blend"),
]
