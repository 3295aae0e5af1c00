"""``hub_statement``: the hub's own statement for each workload, made fit for pgbench.

The smoke run (``test_smoke.py``) runs these scripts against PostgreSQL without an error;
here, that they are what the hub sends, with only the keys and the constants written in.
"""

from __future__ import annotations

import re

import pytest

from benchmarks.compare.hubsql import compiled_queries, hub_statement
from benchmarks.compare.workloads import BATCH, WORKLOADS, Contestant


def _hub_sql(key: str) -> str:
    """The statement the hub's compiled path sends for the workload, placeholders and all."""
    workload = WORKLOADS[key]
    plan = compiled_queries().plan(workload.documents[Contestant.HUB], None)
    assert plan is not None
    usccs = ["91350100M000100Y43"] * max(workload.batch, 1)
    sql, _ = plan.bind({f"u{n}": u for n, u in enumerate(usccs, start=1)})
    return sql


@pytest.mark.parametrize("key", sorted(WORKLOADS))
def test_the_script_is_the_hubs_statement_with_keys_and_constants_written_in(key: str) -> None:
    workload = WORKLOADS[key]
    statement = hub_statement(workload.documents[Contestant.HUB], workload.batch)
    assert "$" not in statement
    assert statement.endswith(";") and statement.count(";") == 1
    variables = re.findall(r"(?<!:):(id\d*)\b", statement)
    if workload.batch == 0:
        assert variables == []
    elif workload.batch == 1:
        assert variables == ["id"]
        assert re.search(r"\bt\d+\.id = :id\b", statement)
    else:
        assert variables == [f"id{n}" for n in range(1, BATCH + 1)]
        assert "::bigint[]" in statement and ".uscc = k.v" not in statement
    # Apart from the keys and the parameters, the text is the hub's own.
    hub = re.sub(r"\$\d+", "?", _hub_sql(key))
    ours = re.sub(r"ARRAY\[(:id\d+, )*:id\d+\]::bigint\[\]", "?::CHAR(18)[]", statement)
    ours = re.sub(
        r"\.id = (:id|k\.v)\b", lambda m: ".uscc = " + ("?" if m[1] == ":id" else "k.v"), ours
    )
    ours = re.sub(r"'[^']*'|\b\d+\b", "?", ours)
    hub = re.sub(r"'[^']*'|\b\d+\b", "?", hub)
    assert ours.rstrip(";") == hub


def test_a_document_the_hub_does_not_compile_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="does not compile"):
        hub_statement("{ enterprise(uscc: 1) { nope } }", 0)
