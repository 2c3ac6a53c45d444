"""Text from outside (S3 keys, labels, queue messages, files) made safe for where the tool shows it: a terminal
or an HTML page. Uploaders choose keys, and whoever reads the results must not have their screen rewritten or
their gallery broken by one (docs/security.md, "Hostile keys, labels and files").

- `for_terminal`: control characters (C0 with ESC, CR, BEL and backspace; DEL; C1), the Unicode bidirectional
  controls that reorder what is shown (Trojan Source, CVE-2021-42574) and the line and paragraph separators are
  written as Python escapes (`\\x1b`, `\\u202e`), so a key can neither move the cursor, erase a line, ring, nor
  read as another key.
- `shown`: the same, with rich's markup escaped too, for any text that rich renders (`console.print`, table
  cells): `[red]x[/red]` or `[link=...]` in a key prints as written. (Our consoles have emoji codes off.)
- `json_for_html`: data for a `<script type="application/json">` element: `<`, `>`, `&`, U+2028 and U+2029 as
  JSON escapes (nothing can end the element, open a comment, or break a JavaScript string), and every non-finite
  number as the string "NaN", "Infinity" or "-Infinity", since `JSON.parse` refuses a bare NaN.
"""

from __future__ import annotations

import json
import math
from typing import Any

from rich.markup import escape as _escape_markup

BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
"""ALM, LRM, RLM, the embeddings and overrides (LRE RLE PDF LRO RLO) and the isolates (LRI RLI FSI PDI)."""
SEPARATORS = "\u2028\u2029"

_TERMINAL = {
    code: (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
    for code in [*range(0x20), 0x7F, *range(0x80, 0xA0), *map(ord, BIDI_CONTROLS + SEPARATORS)]
}
_TERMINAL_KEEPING_LINES = {code: text for code, text in _TERMINAL.items() if code != ord("\n")}


def for_terminal(text: Any, *, keep_newlines: bool = False) -> str:
    """`text` (made a str) with every control, bidi control and separator escaped; `keep_newlines` leaves line
    breaks as they are, for a message of several lines that the tool wrote itself."""
    return str(text).translate(_TERMINAL_KEEPING_LINES if keep_newlines else _TERMINAL)


def shown(text: Any, *, keep_newlines: bool = False) -> str:
    """`for_terminal`, then rich's markup escaped: what to put in a rich string or table cell so it prints as is.
    Rich halves backslashes only before a tag, so trailing ones are doubled and closed by an empty `[none]` tag:
    exact whether a tag, more text or nothing follows."""
    plain = for_terminal(text, keep_newlines=keep_newlines)
    body = plain.rstrip("\\")
    trailing = len(plain) - len(body)
    return _escape_markup(body) + ("\\" * 2 * trailing + "[none][/none]" if trailing else "")


_HTML = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026", 0x2028: "\\u2028", 0x2029: "\\u2029"}


def finite(data: Any) -> Any:
    """`data` with every NaN or infinite float replaced by its name as a string (valid JSON, and still visible)."""
    if isinstance(data, float) and not math.isfinite(data):
        return "NaN" if math.isnan(data) else ("Infinity" if data > 0 else "-Infinity")
    if isinstance(data, dict):
        return {key: finite(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [finite(value) for value in data]
    return data


def json_for_html(data: Any) -> str:
    """JSON to embed in an HTML page's `<script type="application/json">`, read back with `JSON.parse`."""
    return json.dumps(finite(data), ensure_ascii=False, allow_nan=False).translate(_HTML)
