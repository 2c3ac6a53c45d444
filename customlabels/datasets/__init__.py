"""Data sets: SageMaker Ground Truth manifests (reading, validating, rewriting, splitting, statistics) and a
generated sample data set."""
