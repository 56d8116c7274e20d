"""Training runs from the staff pages: their lifecycle on the train worker, their files in
storage, the report when they end, the estimate before they start, their charts."""
