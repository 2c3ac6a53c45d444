"""Evaluation of results against a manifest's ground truth (`evaluate`), threshold tuning, and the report."""
