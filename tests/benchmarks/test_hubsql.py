"""``hub_statement``: the hub's own statement for each workload, made fit for pgbench.

The smoke run (``test_smoke.py``) runs these scripts against PostgreSQL without an error;
here, that they are what the hub sends, with only the keys and the constants written in.
"""

from __future__ import annotations

import re

import pytest

from benchmarks.compare.hubsql import NotCompiledError, compiled_queries, hub_statement
from benchmarks.compare.workloads import BATCH, WORKLOADS, Contestant

MEASURED_BY_PGBENCH = sorted(k for k, w in WORKLOADS.items() if w.one_statement is not None)
"""Workloads with pgbench contestants: all but the partner's (W1p)."""


def _compiles(key: str) -> bool:
    return compiled_queries().plan(WORKLOADS[key].documents[Contestant.HUB], None) is not None


def _hub_sql(key: str) -> str:
    """The statement the hub's compiled path sends for the workload, placeholders and all."""
    workload = WORKLOADS[key]
    plan = compiled_queries().plan(workload.documents[Contestant.HUB], None)
    assert plan is not None
    sql, _ = plan.bind({name: "91350100M000100Y43" for name in workload.keys})
    return sql


@pytest.mark.parametrize("key", MEASURED_BY_PGBENCH)
def test_the_script_is_the_hubs_statement_with_keys_and_constants_written_in(key: str) -> None:
    workload = WORKLOADS[key]
    if not _compiles(key):
        # The hub answers it through its resolvers: no statement, and the run says so.
        with pytest.raises(NotCompiledError, match="does not compile"):
            hub_statement(workload.documents[Contestant.HUB], workload.keys)
        return
    statement = hub_statement(workload.documents[Contestant.HUB], workload.keys)
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
    # Constants (escape strings included: a colon pgbench would read is written \x3a).
    ours = re.sub(r"\bE'(?:[^'\\]|\\.|'')*'|'[^']*'|\b\d+\b", "?", ours)
    hub = re.sub(r"'[^']*'|\b\d+\b", "?", hub)
    assert ours.rstrip(";") == hub


def test_a_document_the_hub_does_not_compile_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="does not compile"):
        hub_statement("{ enterprise(uscc: 1) { nope } }", ())


def test_the_partner_workload_has_no_pgbench_contestants() -> None:
    assert WORKLOADS["W1p"].contestants == (Contestant.HUB, Contestant.POSTGRAPHILE)
    assert WORKLOADS["W1p"].documents == WORKLOADS["W1"].documents
    assert WORKLOADS["W5"].contestants == tuple(Contestant)
