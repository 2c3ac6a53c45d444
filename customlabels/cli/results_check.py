"""`customlabels results --check`: each downloaded result JSON against the published result schema
(customlabels_runtime/schemas/result.schema.json), with what is wrong and where in the document."""

from __future__ import annotations

from customlabels.cli.common import error_console
from customlabels.escaping import shown
from customlabels.results.schema_check import schema_problems

LISTED_PER_RESULT = 5
"""Problems shown per result; the count says how many more."""


def print_schema_check(statuses: list, result_key) -> int:
    """Name each result that breaks the schema (or is not a JSON object) and what is wrong, on stderr; the number
    of such results."""
    from customlabels.operations.transfer import UNREADABLE

    unreadable = [item for item in statuses if item.status == UNREADABLE]
    for item in unreadable:
        error_console.print(f"[red]{shown(result_key(item.key))}[/]: {shown(item.problem)}", soft_wrap=True)
    broken = len(unreadable)
    checked = [item for item in statuses if item.result is not None]
    for item in checked:
        problems = schema_problems(item.result)
        if not problems:
            continue
        broken += 1
        error_console.print(f"[red]{shown(result_key(item.key))}[/] breaks the result schema:", soft_wrap=True)
        for problem in problems[:LISTED_PER_RESULT]:
            error_console.print(f"  {shown(problem)}", soft_wrap=True, highlight=False)
        if len(problems) > LISTED_PER_RESULT:
            error_console.print(f"  and {len(problems) - LISTED_PER_RESULT} more", soft_wrap=True)
    verdict = f"[red]{broken} break it[/]" if broken else "[green]all valid[/]"
    error_console.print(
        f"Schema check: {len(checked) + len(unreadable)} result(s) against result.schema.json "
        f"(docs/result-contract.md): {verdict}",
        soft_wrap=True,
    )
    return broken
