"""Growing the training data and training models.

- `ingestion/`: finding images (`sources`, `unsplash`, `budget` paces Unsplash's API),
  checking and storing them (`etl`), ingestion jobs (`jobs`), keeping benchmark images out
  of training (`benchmark_guard`), and datasets as folders for the trainer and the evaluator
  (`datasets`).
- Models, for `train`, `evaluate` and the staff pages alike: blur synthesis (`degrade`),
  patches (`data`), the trainer and its critic (`trainer`, `critic`), scoring (`evaluate`,
  `baseline`), what every model is scored on (`benchmarks`), models side by side
  (`comparison`).
- `runs/`: runs started from the staff pages: their `lifecycle` on the train worker, their
  `files` in storage, the `report` when they end, the `estimate` before they start, `charts`.
- `views/`: a module per page family (datasets, runs, model_versions); `tasks` are thin.
"""
