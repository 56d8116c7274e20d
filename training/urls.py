from django.urls import path

from training.views import datasets, model_versions, runs

app_name = "training"
urlpatterns = [
    path("datasets/", datasets.datasets, name="datasets"),
    path("datasets/ingest/", datasets.start_ingestion, name="ingest"),
    path("datasets/<slug:name>/", datasets.dataset_detail, name="dataset"),
    path("datasets/<slug:name>/benchmark/", datasets.toggle_benchmark, name="benchmark"),
    path("datasets/<slug:name>/delete/", datasets.delete, name="delete"),
    path("images/<int:pk>/<slug:kind>", datasets.image_file, name="image-file"),
    path("jobs/<int:pk>/", datasets.job_detail, name="job"),
    path("jobs/<int:pk>/status", datasets.job_status, name="job-status"),
    path("jobs/<int:pk>/stop/", datasets.job_stop, name="job-stop"),
    path("jobs/<int:pk>/resume/", datasets.job_resume, name="job-resume"),
    path("runs/", runs.run_list, name="runs"),
    path("runs/new/", runs.run_new, name="run-new"),
    path("runs/estimate", runs.run_estimate, name="run-estimate"),
    path("runs/<int:pk>/", runs.run_detail, name="run"),
    path("runs/<int:pk>/status", runs.run_status, name="run-status"),
    path("runs/<int:pk>/charts/<slug:name>.svg", runs.run_chart, name="run-chart"),
    path("runs/<int:pk>/samples/<str:name>", runs.run_sample, name="run-sample"),
    path("runs/<int:pk>/stop/", runs.run_stop, name="run-stop"),
    path("runs/<int:pk>/resume/", runs.run_resume, name="run-resume"),
    path("models/", model_versions.model_list, name="models"),
    path("models/rollback/<slug:choice>/", model_versions.model_rollback, name="model-rollback"),
    path("models/<slug:name>/", model_versions.model_detail, name="model"),
    path("models/<slug:name>/promote/", model_versions.model_promote, name="model-promote"),
    path("models/<slug:name>/retire/", model_versions.model_retire, name="model-retire"),
    path("models/<slug:name>/score/", model_versions.model_score, name="model-score"),
]
