from django.urls import path

from . import views

app_name = "training"
urlpatterns = [
    path("datasets/", views.datasets, name="datasets"),
    path("datasets/ingest/", views.start_ingestion, name="ingest"),
    path("datasets/<slug:name>/", views.dataset_detail, name="dataset"),
    path("datasets/<slug:name>/benchmark/", views.toggle_benchmark, name="benchmark"),
    path("datasets/<slug:name>/delete/", views.delete, name="delete"),
    path("images/<int:pk>/<slug:kind>", views.image_file, name="image-file"),
    path("jobs/<int:pk>/", views.job_detail, name="job"),
    path("jobs/<int:pk>/status", views.job_status, name="job-status"),
    path("jobs/<int:pk>/stop/", views.job_stop, name="job-stop"),
    path("jobs/<int:pk>/resume/", views.job_resume, name="job-resume"),
]
