"""Text from outside made safe where the tool shows it: terminals (control characters, bidi controls, rich's
markup) and HTML pages (the JSON a page embeds)."""

import io
import json
import math
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from customlabels.escaping import BIDI_CONTROLS, finite, for_terminal, json_for_html, shown

pytestmark = pytest.mark.unit

HOSTILE_KEY = "test_images/x\x1b[1A\x1b[2Kbee.jpg"


def dangerous(character: str) -> bool:
    return unicodedata.category(character) in ("Cc", "Zl", "Zp") or character in BIDI_CONTROLS


@given(st.text())
def test_no_control_or_bidi_character_reaches_the_terminal(text):
    escaped = for_terminal(text)
    assert not any(dangerous(character) for character in escaped)
    if not any(dangerous(character) for character in text):
        assert escaped == text, "everything else is left as written (unicode keys stay readable)"


def test_the_escapes_say_which_character_was_there():
    assert for_terminal(HOSTILE_KEY) == "test_images/x\\x1b[1A\\x1b[2Kbee.jpg"
    assert for_terminal("a\rb\x07c\x08d\x9be\u202ef\u2066g\nh") == "a\\x0db\\x07c\\x08d\\x9be\\u202ef\\u2066g\\x0ah"
    assert for_terminal("line one\nline two", keep_newlines=True) == "line one\nline two"


def printed(markup: str) -> str:
    out = io.StringIO()
    Console(file=out, width=400, emoji=False, color_system=None).print(markup, soft_wrap=True)
    return out.getvalue()


@given(st.text(st.characters(codec="utf-8")) | st.sampled_from(["[red]x[/red].jpg", "[link=https://e.com]y[/link]"]))
def test_rich_prints_a_shown_value_as_written(text):
    """Through a rich console with markup on (as every command prints) the value comes out exactly as its escapes
    say, whatever follows it: more markup, text, or nothing (trailing backslashes, `[/]` and `:bee:` included)."""
    value = for_terminal(text)
    assert printed(f"[green]key[/]: {shown(text)}") == f"key: {value}\n"
    assert printed(f"[green]{shown(text)}[/] after") == f"{value} after\n"


def test_a_table_cell_of_a_hostile_key_prints_it_escaped():
    from rich.table import Table

    out = io.StringIO()
    table = Table()
    table.add_column("image")
    for key in (HOSTILE_KEY, "[red]x[/red].jpg", "[link=https://example.com]y[/link].jpg", "x\\"):
        table.add_row(shown(key))
    Console(file=out, width=200, emoji=False, color_system=None).print(table)
    cells = [line.strip("│ ") for line in out.getvalue().splitlines()[3:-1]]
    assert cells == [
        "test_images/x\\x1b[1A\\x1b[2Kbee.jpg",
        "[red]x[/red].jpg",
        "[link=https://example.com]y[/link].jpg",
        "x\\",
    ]


def test_json_for_html_cannot_end_the_script_element_and_reads_back_exactly():
    data = {
        "key": "test_images/<!--<script>.jpg",
        "label": "</script><b>&amp;",
        "separators": "\u2028\u2029",
        "confidence": math.nan,
        "boxes": [math.inf, -math.inf, 0.5],
    }
    embedded = json_for_html(data)
    assert not any(character in embedded for character in "<>&\u2028\u2029")
    assert "NaN" not in embedded.replace('"NaN"', ""), "never a bare NaN, which JSON.parse refuses"
    assert json.loads(embedded) == {**data, "confidence": "NaN", "boxes": ["Infinity", "-Infinity", 0.5]}


@given(
    st.recursive(st.floats() | st.text() | st.none(), lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner))
)
def test_finite_leaves_no_nan_anywhere(data):
    json.dumps(finite(data), allow_nan=False)
