"""The version in service under test: a second version of the tests' project, another project's, and a parameter
reader that caches like Powertools' SSMProvider on a clock the test moves (never a timer)."""

from customlabels_runtime.model_version import Retiring, VersionDocument
from support.aws import ACCOUNT, MODEL_ARN, REGION

SECOND_ARN = f"arn:aws:rekognition:{REGION}:{ACCOUNT}:project/bees/version/bees.2026-12-01T10.00.00/1764583200000"
OTHER_PROJECT_ARN = f"arn:aws:rekognition:{REGION}:{ACCOUNT}:project/wasps/version/wasps.v1/1764583200000"
VERSION_PARAMETER = "/customlabels/test/model-version"


def promoted(version_arn=SECOND_ARN, previous_arn=MODEL_ARN, stop_after=None) -> str:
    """The document `model promote` writes at its switch."""
    retiring = Retiring(previous_arn, stop_after) if stop_after else None
    return VersionDocument(version_arn, previous_arn, "2026-12-02T10:00:00+00:00", retiring).to_json()


class CachedParameters:
    """`get(name, max_age)` as Powertools' provider answers it: the value read from `store` is reused until `max_age`
    seconds of `clock` have passed; a value in `store` that is an exception is raised by the read."""

    def __init__(self, clock, store=None):
        self.clock, self.store, self.reads = clock, dict(store or {}), []
        self._cache = {}

    def get(self, name, max_age):
        cached = self._cache.get(name)
        if cached is not None and self.clock() < cached[0] + max_age:
            return cached[1]
        self.reads.append((name, max_age))
        value = self.store[name]
        if isinstance(value, Exception):
            raise value
        self._cache[name] = (self.clock(), value)
        return value
