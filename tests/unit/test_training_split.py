"""The emulator's auto-split (DistributeDatasetEntries, TestingData.AutoCreate) over any labeled data set: the
documented 20% of the images move, no image is in both datasets, every label keeps a training image, and a label
with one image cannot be split."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from customlabels.datasets.manifest import ManifestEntry
from customlabels.local.emulator.trained import TEST_SHARE, split_for_test

pytestmark = pytest.mark.unit

LABELS = ("bee", "wasp", "flower", "hive")


@st.composite
def data_sets(draw):
    count = draw(st.integers(min_value=2, max_value=60))
    labels = [draw(st.sets(st.sampled_from(LABELS), min_size=1, max_size=3)) for _ in range(count)]
    return [ManifestEntry(n, f"s3://b/img/{n}.jpg", (), tuple(sorted(found))) for n, found in enumerate(labels)]


@given(data_sets(), st.text(max_size=8))
def test_the_split_moves_20_percent_and_keeps_a_training_image_of_every_label(entries, seed):
    counts = {label: sum(label in e.all_labels for e in entries) for label in LABELS}
    moved = split_for_test(entries, seed)
    if any(0 < count < 2 for count in counts.values()):
        assert moved is None
        return
    assert moved is not None and len(moved) == len(set(moved))
    assert len(moved) <= max(1, round(len(entries) * TEST_SHARE))
    kept = [e for e in entries if e.source_ref not in moved]
    assert {label for e in kept for label in e.all_labels} == {label for e in entries for label in e.all_labels}
    assert split_for_test(entries, seed) == moved  # the same data set and seed: the same split


def test_a_data_set_that_allows_it_moves_exactly_the_documented_share():
    entries = [ManifestEntry(n, f"s3://b/{n}.jpg", (), (("bee", "wasp")[n % 2],)) for n in range(20)]
    assert len(split_for_test(entries, "s")) == 4
