"""Growing the training data and training models.

- Ingestion (staff pages and `import_photos`, `import_pairs`, `ingest_unsplash`): `sources`
  and `unsplash` find images, `etl` checks and stores them, `ingest` runs jobs, `budget`
  paces the Unsplash API, `benchmark_guard` keeps benchmark images out of training,
  `datasets` turns datasets into folders for the trainer and the evaluator.
- Models (`train`, `evaluate` and the staff pages): `degrade` synthesises blur, `data` feeds
  patches, `trainer` and `critic` train, `evaluate` and `baseline` score, `benchmarks` lists
  what every model is scored on, `comparison` lays models side by side.
- Runs from the staff pages: `runs` (start, execute, stop, resume, watch), `run_files` (the
  run folder in storage), `run_report` (scoring, registration, model card), `run_estimate`,
  `charts`.
- `views/` has a module per page family: datasets, runs, model_versions.
"""
