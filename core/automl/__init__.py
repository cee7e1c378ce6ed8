"""AutoML: time-boxed model search on a table, experiment tracking and a model registry."""
