"""The pipeline's results as the tool reads them: the model (`model`) and where they are read from (`reading`)."""
