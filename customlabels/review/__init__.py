"""The feedback loop: the images a person should look at, as a manifest to review (docs/results-and-gallery.md)."""
