"""Model versions: train one, check it against a gate, and promote it to the version in service (or roll back)."""
