"""Growing the training data: finding images, checking and storing them, ingestion jobs,
and keeping benchmark images out of training."""
