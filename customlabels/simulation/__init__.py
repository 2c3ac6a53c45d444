"""Simulations of the pipeline on a simulated clock, with its real code: the model's lifecycle (the real model
manager against simulated services), for `make bench` and `customlabels cost`."""
