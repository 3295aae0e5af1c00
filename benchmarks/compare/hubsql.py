"""The statement the hub sends for a workload's document, as pgbench runs it.

The hub answers each workload with one statement that its compiler (``schema.compiled``)
writes for the public tier. ``hub_statement`` asks that compiler for it, so that the
contestant "pgbench, hub's SQL" runs what the hub itself sends, and the gap between the two
is the hub's own cost: HTTP, GraphQL, binding the variables, moving the answer. Two changes,
both because pgbench is not the hub:

- parameters that do not change from request to request (``first: 10``, a region's bounds)
  are written in as literals; pgbench prepares the statement once, as the hub's driver does;
- pgbench cannot hold a USCC in a variable, so enterprises are looked up by the ids the script
  draws, a primary-key probe instead of a probe of the unique USCC index: the same work.

And one change of spelling only: pgbench reads ``:name`` as a variable anywhere in the text,
string literals included, so a literal with such a colon (a timestamp format's ``HH24:MI:SS``)
is written as an escape string with the colon as ``\x3a``: the same constant.

The changes are made on the text, by patterns; a statement that no longer has the expected
shape is an error, never a silently different measurement.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import Any

from stdnum.cn import uscc as stdnum_uscc

from benchmarks.compare.servers import HUB_LIMITS
from hub.auth.principal import Tier
from hub.limits import Limits
from schema.build import build_schema
from schema.compiled.plan import CompiledQueries
from schema.compiled.render import sql_constant

_PARAMETER = re.compile(r"\$(\d+)\b")
_PGBENCH_VARIABLE = re.compile(r"(?<!:):[A-Za-z_]")
"""What pgbench would read as a variable: one colon (not a ``::`` cast) and a name."""
_STRING = re.compile(r"(?<![\w'])'((?:[^']|'')*)'")
"""A standard SQL string literal (not an escape string ``E'...'``)."""


class NotCompiledError(RuntimeError):
    """The hub answers the document through its resolvers: there is no one statement to run."""


def _uscc(number: int) -> str:
    body = f"91{number:06d}MA0000000"
    return body + stdnum_uscc.calc_check_digit(body)


def _without_colon_names(sql: str) -> str:
    """String literals in which pgbench would see a variable, as escape strings of the same
    value with ``:`` written ``\x3a``."""

    def escaped(literal: re.Match[str]) -> str:
        body = literal[1]
        if not _PGBENCH_VARIABLE.search(body):
            return literal[0]
        return "E'" + body.replace("\\", "\\\\").replace(":", "\\x3a") + "'"

    return _STRING.sub(escaped, sql)


def _literal(value: Any) -> str:
    literal = sql_constant(value)
    if literal is None:
        raise RuntimeError(f"no literal for {value!r} in the hub's statement")
    return literal


@cache
def compiled_queries() -> CompiledQueries:
    """The public tier's compiler, with the limits the benchmark gives the hub (``HUB_LIMITS``)."""
    prefix = "HUB_LIMITS__PUBLIC__"
    raised = {
        name.removeprefix(prefix).lower(): int(v)
        for name, v in HUB_LIMITS.items()
        if name.startswith(prefix)
    }
    limits = Limits().of(Tier.PUBLIC).model_copy(update=raised)
    return CompiledQueries(build_schema(Tier.PUBLIC)._schema, limits, sees_unpublished=False)


def hub_statement(document: str, key_names: Sequence[str]) -> str:
    """The hub's statement for ``document``, the USCCs of its variables ``key_names`` (none,
    one, or more) read from the pgbench variables ``:id`` (one) or ``:id1`` .. ``:idN`` (more),
    ids of enterprises."""
    queries = compiled_queries()
    plan = queries.plan(document, None)
    if plan is None:
        head = " ".join(document.split())[:80]
        raise NotCompiledError(f"the hub does not compile {head}...: {queries.reason(document)}")
    batch = len(key_names)
    usccs = [_uscc(n) for n in range(1, batch + 1)]
    sql, params = plan.bind(dict(zip(key_names, usccs, strict=True)))

    def keys(index: int) -> str:
        value = params[index - 1]
        if batch == 1 and value == usccs[0]:
            return ":id"
        if batch > 1 and value == usccs:
            return "ARRAY[" + ", ".join(f":id{n}" for n in range(1, batch + 1)) + "]"
        return ""

    key_parameters = [i for i in range(1, len(params) + 1) if keys(i)]
    if len(key_parameters) != (1 if batch else 0):
        raise RuntimeError(f"expected one parameter of USCCs, found {len(key_parameters)}")
    if batch == 1:
        (index,) = key_parameters
        sql, found = re.subn(rf"(\w+)\.uscc = \${index}\b", r"\1.id = :id", sql)
    elif batch > 1:
        (index,) = key_parameters
        sql, found = re.subn(
            rf"unnest\(\${index}::CHAR\(18\)\[\]", f"unnest({keys(index)}::bigint[]", sql
        )
        sql, probes = re.subn(r"(\w+)\.uscc = k\.v\b", r"\1.id = k.v", sql)
        found = min(found, probes)
    if batch and found != 1:
        raise RuntimeError("the hub's statement no longer looks enterprises up as expected")
    sql = _PARAMETER.sub(lambda m: keys(int(m[1])) or _literal(params[int(m[1]) - 1]), sql)
    sql = _without_colon_names(sql)
    stray = [m[0] for m in _PGBENCH_VARIABLE.finditer(sql.replace(":id", ""))]
    if stray:
        raise RuntimeError(f"pgbench would read {stray} in the hub's statement as variables")
    return sql + ";"
