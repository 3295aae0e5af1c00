"""The access matrix: every field of every type, against every kind of caller.

Generated from the declarations in schema/access.py, so a new field is covered without
anyone remembering to add it. For each field a document reaches it by the shortest path from
the root; the cell is allowed when the caller's tier and scopes satisfy every field on the
path. Allowed cells return data without errors; denied cells return nothing of it: the field
is absent from the caller's schema (validation fails) or refused (FORBIDDEN, null).

Each document goes over HTTP, as production serves it: with a bearer token from the hub's
token endpoint for partners and internal agencies, to the app with compiled reads on (the
default), on PostgreSQL, where the compiled path answers what it can, and on SQLite. Where
the document compiles for the caller's tier, the compiled path must be the one that answered.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
from graphql import (
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLObjectType,
    get_named_type,
    is_leaf_type,
    is_required_argument,
)
from strawberry.types.base import StrawberryObjectDefinition

from hub.auth.principal import Principal, Tier
from hub.db import HubSession
from hub.enterprise.models import CreditGrade
from hub.kit.time import today
from hub.quality.models import CheckResult
from schema.access import Access, access_of
from schema.build import build_schema
from schema.node import encode_id
from tests.fixtures.blacklist import make_entry, make_removal
from tests.fixtures.complaint import make_complaint
from tests.fixtures.credit import make_evaluation
from tests.fixtures.enterprise import make_enterprise
from tests.fixtures.hubs import (
    compiled_reads_of,
    hub_over_http,
    hub_settings,
    own_database,
    post_as,
    tokens_of_everyone,
)
from tests.fixtures.licence import make_licence
from tests.fixtures.principals import EVERYONE
from tests.fixtures.quality import make_product, make_spot_check
from tests.fixtures.recall import make_recall
from tests.fixtures.warning import make_warning

USCC = "91110000600037341L"
GTIN = "6901234567892"
LICENCE = "XK16-108-00001"

# Values for arguments a path cannot leave out.
REQUIRED_ARGUMENTS = {
    ("Query", "enterprise"): f'uscc: "{USCC}"',
    ("Query", "licence"): f'number: "{LICENCE}"',
    ("Query", "product"): f'gtin: "{GTIN}"',
    ("Query", "complaintStatistics"): "groupBy: [REGION]",
    ("Query", "searchEnterprises"): 'query: "测试"',
    ("Query", "searchRecalls"): 'query: "召回"',
    ("Query", "searchConsumerWarnings"): 'query: "电动自行车"',
    ("Query", "node"): 'id: "ENTERPRISE_GLOBAL_ID"',
    ("Query", "nodes"): 'ids: ["ENTERPRISE_GLOBAL_ID"]',
}
# Root fields a path may not start from: they need an ID from a previous answer.
NOT_A_PATH = {("Query", "node"), ("Query", "nodes")}


@dataclass(frozen=True)
class Step:
    parent: str
    field: str


def _declarations() -> dict[tuple[str, str], Access]:
    schema = build_schema(Tier.INTERNAL)
    found = {}
    for name, concrete in schema.schema_converter.type_map.items():
        definition = concrete.definition
        if isinstance(definition, StrawberryObjectDefinition):
            for field in definition.fields:
                access = access_of(field)
                if access is not None:
                    graphql_name = schema.config.name_converter.get_graphql_name(field)
                    found[(name, graphql_name)] = access
    return found


def _paths() -> dict[str, list[Step]]:
    """The shortest path of fields from Query to each object type of the internal schema."""
    schema = build_schema(Tier.INTERNAL)._schema
    assert schema.query_type is not None
    paths: dict[str, list[Step]] = {"Query": []}
    queue = deque(["Query"])
    while queue:
        type_name = queue.popleft()
        named = schema.get_type(type_name)
        assert isinstance(named, GraphQLObjectType | GraphQLInterfaceType)
        for field_name, field in named.fields.items():
            if (type_name, field_name) in NOT_A_PATH:
                continue
            needs_arguments = any(is_required_argument(a) for a in field.args.values())
            if needs_arguments and (type_name, field_name) not in REQUIRED_ARGUMENTS:
                continue
            target = get_named_type(field.type)
            if isinstance(target, GraphQLObjectType) and target.name not in paths:
                paths[target.name] = [*paths[type_name], Step(type_name, field_name)]
                queue.append(target.name)
    return paths


def _document(path: list[Step], leaf: Step, field: GraphQLField) -> str:
    selection = "" if is_leaf_type(get_named_type(field.type)) else " { __typename }"
    text = leaf.field + _arguments(leaf) + selection
    for step in reversed(path):
        text = f"{step.field}{_arguments(step)} {{ {text} }}"
    return "{ " + text + " }"


def _arguments(step: Step) -> str:
    given = REQUIRED_ARGUMENTS.get((step.parent, step.field))
    return f"({given})" if given else ""


def _allowed(
    principal: Principal, steps: list[Step], declared: dict[tuple[str, str], Access]
) -> bool:
    for step in steps:
        access = declared[(step.parent, step.field)]
        if principal.tier < access.tier or not principal.has_scopes(access.scopes):
            return False
    return True


def _cells() -> list[tuple[str, str]]:
    schema = build_schema(Tier.INTERNAL)._schema
    paths = _paths()
    cells = []
    for type_name in sorted(paths):
        named = schema.get_type(type_name)
        assert isinstance(named, GraphQLObjectType)
        cells += [(type_name, field_name) for field_name in named.fields]
    return cells


CELLS = _cells()


@dataclass(frozen=True)
class Matrix:
    hub: httpx.AsyncClient
    tokens: dict[str, str | None]
    enterprise_id: str


@pytest.fixture(scope="module")
async def matrix(dialect: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Matrix]:
    """The hub over HTTP on a database of its own holding one record of every kind, and a
    token for every caller; seeded once for all the cells of a dialect."""
    directory = tmp_path_factory.mktemp(f"matrix-{dialect}")
    async with own_database(dialect, directory) as database:
        async with database.sessionmaker() as session:
            enterprise_id = await one_of_everything(session)
        async with hub_over_http(hub_settings(directory), database.sessionmaker) as hub:
            tokens = await tokens_of_everyone(hub, database.sessionmaker)
            yield Matrix(hub, tokens, enterprise_id)


async def one_of_everything(session: HubSession) -> str:
    """Seeds one record of every kind; returns the enterprise's global ID."""
    firm = await make_enterprise(
        session,
        uscc=USCC,
        legal_representative_id_number="110101198001011234",
        legal_representative_phone="13800001111",
    )
    await make_evaluation(session, firm, CreditGrade.A, datetime(2025, 1, 1, tzinfo=UTC))
    entry = await make_entry(session, firm, listed_on=today(), publicity_ends_on=today())
    await make_removal(session, entry, removed_on=today().replace(year=today().year + 1))
    await make_licence(session, firm, number=LICENCE)
    product = await make_product(session, firm, gtin=GTIN)
    await make_spot_check(session, product, CheckResult.FAIL, failed=[("铅", "GB", "≤1", "2")])
    recall = await make_recall(session, firm, product, started_on=today())
    await make_warning(session, recalls=[recall], products=[product], issued_on=today())
    for _ in range(10):
        await make_complaint(session, enterprise_id=firm.id, product_id=product.id)
    await session.commit()
    return encode_id("Enterprise", firm.id)


def test_the_matrix_covers_every_declared_field() -> None:
    declared = _declarations()
    covered = set(CELLS)
    reachable = {key for key in declared if key[0] in _paths()}
    assert reachable <= covered
    assert len(CELLS) > 150


@pytest.mark.parametrize(("type_name", "field_name"), CELLS, ids=[f"{t}.{f}" for t, f in CELLS])
async def test_cell(matrix: Matrix, type_name: str, field_name: str) -> None:
    declared = _declarations()
    schema = build_schema(Tier.INTERNAL)._schema
    path = _paths()[type_name]
    named = schema.get_type(type_name)
    assert isinstance(named, GraphQLObjectType)
    leaf = Step(type_name, field_name)
    document = _document(path, leaf, named.fields[field_name]).replace(
        "ENTERPRISE_GLOBAL_ID", matrix.enterprise_id
    )
    compiled = compiled_reads_of(matrix.hub)

    for who, principal in EVERYONE.items():
        response = await post_as(matrix.hub, matrix.tokens[who], document)
        assert response.status_code == 200, (who, document, response.text)
        answer = response.json()
        if _allowed(principal, [*path, leaf], declared):
            assert "errors" not in answer, (who, document, answer)
            assert answer["data"] is not None, (who, document)
            if compiled is not None and compiled.tiers[principal.tier].reason(document) is None:
                # Production's path: a document that compiles is answered by its statement.
                assert response.headers["x-hub-plan"] == "compiled", (who, document)
        else:
            codes = {e["extensions"]["code"] for e in answer.get("errors", [])}
            assert codes <= {"GRAPHQL_VALIDATION_FAILED", "FORBIDDEN"} and codes, (who, answer)
            assert f'"{field_name}": ' not in json.dumps(_non_null(answer["data"])), (who, answer)


def _non_null(data: object) -> object:
    """The answer without its null leaves, which carry nothing."""
    if isinstance(data, dict):
        return {k: _non_null(v) for k, v in data.items() if v is not None}
    if isinstance(data, list):
        return [_non_null(v) for v in data]
    return data
