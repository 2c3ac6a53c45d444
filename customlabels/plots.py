"""Matplotlib for files only: the evaluation report and the manifest statistics draw with the same backend."""


def agg_pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only, never a window
    from matplotlib import pyplot

    return pyplot
