"""Tooling around the Rekognition Custom Labels S3 inference pipeline."""

__version__ = "0.1.0"
