"""`local run`'s account of the result events: one event per result, checked by result key, so that a duplicate or
a missing event never looks like a match of the counts; the results without an event are named."""

import json
from types import SimpleNamespace

import pytest

from customlabels.cli.local_events import print_result_events
from customlabels.local.result_events import event_account

pytestmark = pytest.mark.unit


def event(result_key):
    return {"detail": {"Result": {"Bucket": "b", "Key": result_key}}}


def test_one_event_per_result_by_key():
    account = event_account([event("a.json"), event("b.json")], {"a.json", "b.json"})
    assert account == {"events": 2, "results": 2, "without_event": [], "more_than_one": [], "not_a_result": []}


def test_a_duplicate_and_a_missing_event_are_named_though_the_counts_agree():
    account = event_account([event("a.json"), event("a.json")], {"a.json", "b.json"})
    assert (account["events"], account["results"]) == (2, 2)
    assert account["without_event"] == ["b.json"] and account["more_than_one"] == ["a.json"]
    assert event_account([event("x.json")], set())["not_a_result"] == ["x.json"]


def printed(tmp_path, capsys, result_events):
    (tmp_path / "summary.json").write_text(json.dumps({"result_events": result_events}))
    pipeline = SimpleNamespace(resources=SimpleNamespace(result_events=None))
    print_result_events(pipeline, tmp_path)
    return " ".join(capsys.readouterr().out.split())


def test_the_summary_line_is_green_only_for_one_event_each(tmp_path, capsys):
    good = event_account([event("a.json")], {"a.json"})
    assert "Result events: 1 for 1 result(s), one each, on the default bus" in printed(
        tmp_path, capsys, {"bus": "default", **good}
    )
    bad = event_account([event("a.json"), event("a.json")], {"a.json", "b.json"})
    said = printed(tmp_path, capsys, {"bus": "default", **bad})
    assert "Result events: 2 for 2 result(s), on the default bus" in said and "one each" not in said
    assert "1 result(s) without an event: b.json" in said
    assert "1 result(s) with more than one event: a.json" in said


def test_off_says_off(tmp_path, capsys):
    assert printed(tmp_path, capsys, "off") == "Result events: off (result_events=off); no events.jsonl"
