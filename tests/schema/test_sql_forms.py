"""Every field of every tier's schema has a SQL form, except those ``RESOLVER_ONLY`` lists.

For each field a document reaches it by the shortest compilable path from the root (the access
matrix's paths and arguments), and the compiler must take it: a new plain field compiles
without anyone remembering it, and a new field the compiler cannot take fails here until it
gets a SQL form or a line, with its reason, in ``schema.compiled.relations.RESOLVER_ONLY``.
A listed field must really need the resolvers, so the list cannot go stale either.
"""

from __future__ import annotations

from collections import deque

import pytest
from graphql import GraphQLObjectType, get_named_type, is_required_argument

from hub.auth.principal import Tier
from hub.limits import Limits
from schema.build import build_schema
from schema.compiled.plan import CompiledQueries
from schema.compiled.relations import RESOLVER_ONLY
from schema.node import encode_id
from tests.schema.test_access_matrix import NOT_A_PATH, REQUIRED_ARGUMENTS, Step, _document


def _reasons(tier: Tier) -> dict[str, str | None]:
    """Each field reachable in ``tier``'s schema, and why it does not compile (None: it does)."""
    schema = build_schema(tier)._schema
    plans = CompiledQueries(schema, Limits().of(tier), sees_unpublished=tier >= Tier.INTERNAL)
    paths: dict[str, list[Step]] = {"Query": []}
    queue = deque(["Query"])
    found: dict[str, str | None] = {}
    while queue:
        type_name = queue.popleft()
        parent = schema.get_type(type_name)
        assert isinstance(parent, GraphQLObjectType)
        for name, field in parent.fields.items():
            if (type_name, name) in NOT_A_PATH - {("Query", "nodes"), ("Query", "node")}:
                continue
            required = any(is_required_argument(a) for a in field.args.values())
            assert not required or (type_name, name) in REQUIRED_ARGUMENTS, (type_name, name)
            document = _document(paths[type_name], Step(type_name, name), field)
            document = document.replace("ENTERPRISE_GLOBAL_ID", encode_id("Enterprise", 1))
            reason = plans.reason(document)
            found[f"{type_name}.{name}"] = reason
            target = get_named_type(field.type)
            if isinstance(target, GraphQLObjectType) and target.name not in paths and not reason:
                paths[target.name] = [*paths[type_name], Step(type_name, name)]
                queue.append(target.name)
    return found


@pytest.mark.parametrize("tier", list(Tier), ids=lambda t: t.label)
def test_every_field_has_a_sql_form_or_a_reason_not_to(tier: Tier) -> None:
    reasons = _reasons(tier)
    missing = {f: r for f, r in reasons.items() if r is not None and f not in RESOLVER_ONLY}
    assert missing == {}, "give these a SQL form, or a reason in RESOLVER_ONLY"
    stale = [f for f in RESOLVER_ONLY if f in reasons and reasons[f] is None]
    assert stale == [], "these compile now: take them out of RESOLVER_ONLY"


def test_the_list_names_fields_that_exist() -> None:
    everywhere = {f for tier in Tier for f in _reasons(tier)}
    assert set(RESOLVER_ONLY) <= everywhere
    # every tier reaches the compiled roots: the public one too
    public = _reasons(Tier.PUBLIC)
    assert public["Query.enterprise"] is None
    assert public["Query.node"] is None
    assert public["Query.statistics"] == "Query.statistics"
