"""The promotion gate's grammar (customlabels/lifecycle/gate.py): what it reads, that printing and reading again
gives the same gate for every gate Hypothesis draws, that any other text is a GateError naming what is allowed, and
each term's verdict with the figure it saw."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from customlabels.lifecycle.gate import (
    GRAMMAR,
    METRICS,
    OPERATORS,
    Figures,
    Gate,
    GateError,
    Term,
    check_gate,
    parse_gate,
    verdict_lines,
)

pytestmark = pytest.mark.unit


def test_the_documented_example_reads_as_three_terms():
    gate = parse_gate("f1>=0.9, bee.recall>=0.8, precision >= current - 0.02")
    assert gate.terms == (
        Term(None, "f1", ">=", 0.9),
        Term("bee", "recall", ">=", 0.8),
        Term(None, "precision", ">=", None, -0.02),
    )
    assert str(gate) == "f1>=0.9,bee.recall>=0.8,precision>=current-0.02"
    assert gate.needs_current


def test_overall_names_the_whole_model_and_a_label_may_hold_dots_and_spaces():
    assert parse_gate("overall.F1>0.5").terms == (Term(None, "f1", ">", 0.5),)
    assert parse_gate("honey bee.v2.recall<0.3").terms == (Term("honey bee.v2", "recall", "<", 0.3),)


labels = st.text(
    st.characters(blacklist_characters=",<>=", blacklist_categories=("Cs", "Zs", "Cc", "Zl", "Zp")), min_size=1
).filter(lambda label: label.strip() == label and label.lower() != "overall")
fractions = st.floats(min_value=0, max_value=1, allow_nan=False)
terms = st.builds(
    Term,
    st.none() | labels,
    st.sampled_from(METRICS),
    st.sampled_from(sorted(OPERATORS)),
    fractions,
) | st.builds(
    lambda label, metric, operator, delta: Term(label, metric, operator, None, delta),
    st.none() | labels,
    st.sampled_from(METRICS),
    st.sampled_from(sorted(OPERATORS)),
    st.floats(min_value=-1, max_value=1, allow_nan=False),
)


@given(st.lists(terms, min_size=1, max_size=5).map(lambda found: Gate(tuple(found))))
def test_a_printed_gate_reads_back_as_the_same_gate(gate):
    assert parse_gate(str(gate)) == gate


@given(st.text(max_size=40))
def test_any_text_is_a_gate_or_a_gate_error_never_a_traceback(text):
    try:
        gate = parse_gate(text)
    except GateError as error:
        assert "--gate" in str(error)
    else:
        assert parse_gate(str(gate)) == gate


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("", "an empty term"),
        ("f1>=0.9,", "an empty term"),
        ("f2>=0.9", "'f2' is not a metric"),
        ("accuracy>=0.9", "'accuracy' is not a metric"),
        ("f1=0.9", "asks for an exact figure. Fix: use >=, >, <= or <"),
        ("f1>=90", "is not a fraction from 0 to 1; did you mean 0.9?"),
        ("f1>=high", "'high' in 'f1>=high' is not a number or current"),
        ("f1>=nan", "is not a fraction from 0 to 1"),
        ("f1 0.9", "cannot read 'f1 0.9'"),
        (".f1>=0.9", "cannot read"),
    ],
)
def test_wrong_gates_are_named_with_what_is_allowed(text, said):
    with pytest.raises(GateError) as error:
        parse_gate(text)
    assert said in str(error.value)
    if "exact figure" not in said:
        assert GRAMMAR in str(error.value) or "did you mean" in said or "fraction" in said


def test_each_term_is_checked_with_the_figure_it_saw():
    candidate = Figures("the candidate", {"f1": 0.91, "precision": 0.88}, {"bee": {"recall": 0.75}})
    current = Figures("the version in service", {"f1": 0.9, "precision": 0.92})
    verdict = check_gate(
        parse_gate("f1>=0.9,bee.recall>=0.8,precision>=current-0.02,recall>=0.5,wasp.f1>=0.1"), candidate, current
    )
    assert [(t.passed, t.seen, t.bound) for t in verdict.terms] == [
        (True, 0.91, 0.9),
        (False, 0.75, 0.8),
        (False, 0.88, pytest.approx(0.90)),
        (False, None, None),
        (False, None, None),
    ]
    assert not verdict.passed
    assert verdict_lines(verdict)[:2] == [
        "PASS f1>=0.9: 0.9100 against 0.9000",
        "FAIL bee.recall>=0.8: 0.7500 against 0.8000",
    ]
    assert "the candidate has no recall for the model" in verdict_lines(verdict)[3]


def test_current_without_the_current_versions_figures_fails_its_term_saying_why():
    verdict = check_gate(parse_gate("f1>=current"), Figures("c", {"f1": 0.9}))
    [term] = verdict.terms
    assert not term.passed and term.note == "no figures of the version in service to compare with"
