"""Operating a deployed pipeline stack: its outputs, the model's lifecycle, the thresholds parameter, images in and
results out, the dead-letter queue, and what it costs. Never imports the local twin: the same commands work
against the local stack only because it answers the same AWS APIs."""
