"""The promotion gate: what a candidate version must reach before the pipeline switches to it.

A gate is one or more terms joined by commas (docs/model-lifecycle.md, "The gate")::

    gate   := term ("," term)*
    term   := [LABEL "."] METRIC OP VALUE
    METRIC := f1 | precision | recall          (without LABEL: the whole model's; "overall." may prefix it)
    OP     := >= | > | <= | <
    VALUE  := a fraction 0-1 | current | current+D | current-D

`f1>=0.9, bee.recall>=0.8, precision>=current-0.02`: the model's F1 at least 0.9, the recall of `bee` at least
0.8, and a precision at most 0.02 below the version in service's. A label is named as the results name it (no
comma, no `<`, `>` or `=` in it; a label whose name ends in `.f1` and the like is still read whole, since the
metric is the last dot's). Each term is checked on `Figures` (the candidate's, and the current version's for
`current`), and the verdict lists every term with the figure it saw.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

METRICS = ("f1", "precision", "recall")
OPERATORS = {">=": float.__ge__, ">": float.__gt__, "<=": float.__le__, "<": float.__lt__}
OVERALL = "overall"
GRAMMAR = (
    "a gate is terms joined by commas, each [LABEL.]METRIC OP VALUE: METRIC one of f1, precision, recall (the whole "
    "model's, or LABEL's); OP one of >=, >, <=, <; VALUE a fraction 0-1, or current, current+D or current-D (the "
    'version in service\'s figure). Example: --gate "f1>=0.9,bee.recall>=0.8,precision>=current-0.02"'
)
_TERM = re.compile(
    r"^(?:(?P<label>[^,<>=]+)\.)?(?P<metric>[A-Za-z0-9_]+)\s*(?P<op>>=|<=|>|<|==|=)\s*(?P<value>\S(?:.*\S)?)$"
)
_CURRENT = re.compile(r"^current(?:\s*(?P<sign>[+-])\s*(?P<delta>\S+))?$")


class GateError(ValueError):
    """A gate expression that cannot be read; the message names the term and what is allowed."""


@dataclass(frozen=True)
class Term:
    label: str | None
    """None: the whole model's metric."""
    metric: str
    operator: str
    value: float | None
    """The fraction to compare with; None: the version in service's figure (plus `delta`)."""
    delta: float = 0.0

    def __str__(self) -> str:
        subject = self.metric if self.label is None else f"{self.label}.{self.metric}"
        if self.value is not None:
            return f"{subject}{self.operator}{self.value!r}"
        shift = "" if self.delta == 0 else f"{self.delta:+}"
        return f"{subject}{self.operator}current{shift}"

    @property
    def compares_with_current(self) -> bool:
        return self.value is None


@dataclass(frozen=True)
class Gate:
    terms: tuple[Term, ...]

    def __str__(self) -> str:
        return ",".join(str(term) for term in self.terms)

    @property
    def needs_current(self) -> bool:
        return any(term.compares_with_current for term in self.terms)


def parse_gate(text: str) -> Gate:
    """The gate `text` describes; GateError naming the first term that is wrong and the grammar."""
    parts = [part.strip() for part in text.split(",")]
    if not text.strip() or any(not part for part in parts):
        raise GateError(f"--gate {text!r}: an empty term. Fix: {GRAMMAR}")
    return Gate(tuple(_term(part, text) for part in parts))


def _term(part: str, text: str) -> Term:
    match = _TERM.match(part)
    if not match:
        raise GateError(f"--gate {text!r}: cannot read {part!r}. Fix: {GRAMMAR}")
    label, metric, operator = match["label"], match["metric"].lower(), match["op"]
    if metric not in METRICS:
        raise GateError(
            f"--gate {text!r}: {match['metric']!r} is not a metric (allowed: {', '.join(METRICS)}). Fix: {GRAMMAR}"
        )
    if operator in ("=", "=="):
        raise GateError(f"--gate {text!r}: {part!r} asks for an exact figure. Fix: use >=, >, <= or <")
    label = None if label is None or label.strip().lower() == OVERALL else label.strip()
    if label == "":
        raise GateError(f"--gate {text!r}: {part!r} has an empty label before the dot. Fix: {GRAMMAR}")
    value, delta = _value(match["value"], part, text)
    return Term(label, metric, operator, value, delta)


def _value(text: str, part: str, gate: str) -> tuple[float | None, float]:
    current = _CURRENT.match(text.strip().lower())
    if current:
        if current["delta"] is None:
            return None, 0.0
        delta = _fraction(current["delta"], part, gate)
        return None, delta if current["sign"] == "+" else -delta
    return _fraction(text, part, gate), 0.0


def _fraction(text: str, part: str, gate: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise GateError(f"--gate {gate!r}: {text!r} in {part!r} is not a number or current. Fix: {GRAMMAR}") from None
    if not math.isfinite(value) or not 0 <= value <= 1:
        hint = f"; did you mean {value / 100:g}?" if math.isfinite(value) and 1 < value <= 100 else ""
        raise GateError(f"--gate {gate!r}: {text!r} in {part!r} is not a fraction from 0 to 1{hint}")
    return value


# --- checking -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """One version's metrics as fractions: the whole model's and per label (None: not known)."""

    source: str
    """Where they come from, for the verdict ("the service's evaluation", "the manifest M")."""
    overall: dict[str, float | None] = field(default_factory=dict)
    per_label: dict[str, dict[str, float | None]] = field(default_factory=dict)

    def figure(self, label: str | None, metric: str) -> float | None:
        values = self.overall if label is None else self.per_label.get(label, {})
        return values.get(metric)


@dataclass(frozen=True)
class TermVerdict:
    term: Term
    seen: float | None
    """The candidate's figure."""
    bound: float | None
    """What it was compared with (the value, or the current version's figure plus delta)."""
    passed: bool
    note: str = ""
    """Why a term could not be checked (a figure not known)."""


@dataclass(frozen=True)
class Verdict:
    terms: tuple[TermVerdict, ...]
    source: str

    @property
    def passed(self) -> bool:
        return all(term.passed for term in self.terms)

    def failures(self) -> list[TermVerdict]:
        return [term for term in self.terms if not term.passed]


def check_gate(gate: Gate, candidate: Figures, current: Figures | None = None) -> Verdict:
    """Each term on the candidate's figures (and the current version's, for `current`); a figure that is not known
    fails its term, with a note saying which."""
    return Verdict(tuple(_check(term, candidate, current) for term in gate.terms), candidate.source)


def _check(term: Term, candidate: Figures, current: Figures | None) -> TermVerdict:
    seen = candidate.figure(term.label, term.metric)
    subject = "the model" if term.label is None else f"label {term.label!r}"
    if seen is None:
        return TermVerdict(term, None, None, False, f"the candidate has no {term.metric} for {subject}")
    bound = term.value
    if term.compares_with_current:
        reference = None if current is None else current.figure(term.label, term.metric)
        if reference is None:
            why = "no figures of the version in service" if current is None else f"no {term.metric} for {subject}"
            return TermVerdict(term, seen, None, False, f"{why} to compare with")
        bound = reference + term.delta
    return TermVerdict(term, seen, bound, OPERATORS[term.operator](float(seen), float(bound)))


def verdict_lines(verdict: Verdict) -> list[str]:
    """`PASS f1>=0.9: 0.93 (bound 0.9)` per term, as the CLI prints them."""
    lines = []
    for term in verdict.terms:
        mark = "PASS" if term.passed else "FAIL"
        seen = "n/a" if term.seen is None else f"{term.seen:.4f}"
        bound = "" if term.bound is None else f" against {term.bound:.4f}"
        lines.append(f"{mark} {term.term}: {seen}{bound}" + (f" ({term.note})" if term.note else ""))
    return lines
