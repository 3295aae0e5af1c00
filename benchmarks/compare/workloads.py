"""The workloads: a GraphQL document per GraphQL contestant and pgbench scripts for each.

Every document asks for the same data in each API's own words; ``canonical`` turns either
answer into one comparable form, so the harness can prove that the hub and PostGraphile
return the same data before it measures them.

pgbench cannot hold a USCC in a variable, so its scripts look enterprises up by id (a
primary-key probe instead of a probe of the unique USCC index: the same work). Two scripts
per workload: the hub's own statement, as its compiler writes it (``hubsql``), which builds
the answer's JSON; and ``one_statement``, which fetches the same data as plain rows in one
SELECT, the ceiling for a server that sends one statement per request.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from benchmarks.compare.hubsql import hub_statement

BATCH = 100
"""Enterprises per W3 request."""

REGION = "440000"
"""The province of W2 (Guangdong, the largest in the demo data); a province code, as
PostGraphile's view filters on the province."""

TODAY = "(now() AT TIME ZONE 'Asia/Shanghai')::date"
PUBLISHED = "{t}.published_at IS NOT NULL AND {t}.published_at <= now()"
IN_FORCE = (
    f"b.published_at <= now() AND b.listed_on <= {TODAY} AND b.publicity_ends_on >= {TODAY} "
    "AND NOT EXISTS (SELECT FROM blacklist_removal r WHERE r.entry_id = b.id "
    f"AND r.removed_on <= {TODAY})"
)


class Contestant(StrEnum):
    HUB = "hub"
    POSTGRAPHILE = "postgraphile"
    PGBENCH_HUB_SQL = "pgbench-hub-sql"
    PGBENCH_ONE = "pgbench-1-stmt"

    @property
    def is_graphql(self) -> bool:
        return self in (Contestant.HUB, Contestant.POSTGRAPHILE)


Canonical = Callable[[Mapping[str, Any]], Any]


@dataclass(frozen=True, slots=True)
class Workload:
    key: str
    title: str
    batch: int
    """USCCs per request: 0 (a fixed document), 1 or BATCH."""
    zipf: float
    """0 for uniform keys, else the Zipf exponent."""
    documents: Mapping[Contestant, str]
    canonical: Mapping[Contestant, Canonical]
    one_statement: str
    """The pgbench script of "pgbench, 1 statement"; ``{draw}`` is where the key variables go.
    The script of "pgbench, hub's SQL" is the hub's own statement (``hubsql``)."""


def _variables(count: int) -> str:
    return ", ".join(f"$u{i}: String!" for i in range(1, count + 1))


# ---------------------------------------------------------------------------------------------
# W1: the credit file of one enterprise.

_W1_HUB = (
    "query W1($u1: String!) { enterprise(uscc: $u1) { uscc name creditGrade blacklisted "
    "licences(first: 10) { nodes { number product status validFrom validUntil } } "
    "spotChecks(first: 10) { nodes { reportNumber level sampledAt result inspectingBody } } "
    "recalls(first: 10) { nodes { noticeNumber title hazard startedOn status } } } }"
)
_W1_POSTGRAPHILE = (
    "query W1($u1: String!) { enterpriseByUscc(uscc: $u1) { uscc name creditGrade blacklisted "
    "licencesByEnterpriseId(first: 10, orderBy: [VALID_FROM_DESC, ROW_ID_DESC]) "
    "{ nodes { number product status validFrom validUntil } } "
    "spotChecksByEnterpriseId(first: 10, orderBy: [SAMPLED_ON_DESC, ROW_ID_DESC]) "
    "{ nodes { reportNumber level sampledOn result inspectingBody } } "
    "recallsByEnterpriseId(first: 10, orderBy: [STARTED_ON_DESC, ROW_ID_DESC]) "
    "{ nodes { noticeNumber title hazard startedOn status } } } }"
)


def _rows(connection: Mapping[str, Any] | None, *fields: str) -> list[tuple[Any, ...]]:
    nodes = (connection or {}).get("nodes") or []
    return [tuple(node[f] for f in fields) for node in nodes]


def _w1_canonical(root: str, names: Mapping[str, str]) -> Canonical:
    def canonical(data: Mapping[str, Any]) -> Any:
        firm = data[root]
        if firm is None:
            return None
        return {
            "enterprise": (firm["uscc"], firm["name"], firm["creditGrade"], firm["blacklisted"]),
            "licences": _rows(
                firm[names["licences"]], "number", "product", "status", "validFrom", "validUntil"
            ),
            "spot_checks": _rows(
                firm[names["spotChecks"]],
                "reportNumber",
                "level",
                names["sampledAt"],
                "result",
                "inspectingBody",
            ),
            "recalls": _rows(
                firm[names["recalls"]], "noticeNumber", "title", "hazard", "startedOn", "status"
            ),
        }

    return canonical


def _latest(table: str, columns: str, order: str) -> str:
    return (
        f"(SELECT json_agg(x) FROM (SELECT {columns} FROM {table} t WHERE t.enterprise_id = e.id "
        f"AND {PUBLISHED.format(t='t')} ORDER BY {order} LIMIT 10) x)"
    )


_W1_ONE = "\n".join(
    [
        "{draw}",
        "SELECT e.uscc, e.name, e.credit_grade, "
        "EXISTS (SELECT FROM blacklist_entry b WHERE b.enterprise_id = e.id AND "
        + IN_FORCE
        + "), "
        + _latest(
            "licence",
            "number, product, status, valid_from, valid_until",
            "valid_from DESC, id DESC",
        )
        + ", "
        + _latest(
            "spot_check",
            "report_number, level, sampled_on, result, inspecting_body",
            "sampled_on DESC, id DESC",
        )
        + ", "
        + _latest(
            "recall",
            "notice_number, title, hazard, started_on, status",
            "started_on DESC, id DESC",
        )
        + " FROM enterprise e WHERE e.id = :id AND "
        + PUBLISHED.format(t="e")
        + ";",
    ]
)


def _w1(key: str, title: str, zipf: float) -> Workload:
    return Workload(
        key=key,
        title=title,
        batch=1,
        zipf=zipf,
        documents={Contestant.HUB: _W1_HUB, Contestant.POSTGRAPHILE: _W1_POSTGRAPHILE},
        canonical={
            Contestant.HUB: _w1_canonical(
                "enterprise",
                {
                    "licences": "licences",
                    "spotChecks": "spotChecks",
                    "recalls": "recalls",
                    "sampledAt": "sampledAt",
                },
            ),
            Contestant.POSTGRAPHILE: _w1_canonical(
                "enterpriseByUscc",
                {
                    "licences": "licencesByEnterpriseId",
                    "spotChecks": "spotChecksByEnterpriseId",
                    "recalls": "recallsByEnterpriseId",
                    "sampledAt": "sampledOn",
                },
            ),
        },
        one_statement=_W1_ONE,
    )


# ---------------------------------------------------------------------------------------------
# W2: the 50 newest blacklist listings in one province, with enterprise names.

_W2_HUB = (
    f'query W2 {{ blacklist(filter: {{ regionCode: "{REGION}" }}, first: 50) {{ nodes {{ '
    "decisionNumber listType reason listedAt publicityEndsOn enterprise { uscc name } } } }"
)
# peers/setup.sql's view blacklist_listing: listings in force with the enterprise's province.
_W2_POSTGRAPHILE = (
    f'query W2 {{ allBlacklistListings(condition: {{ provinceCode: "{REGION}" }}, '
    "orderBy: [LISTED_ON_DESC, ROW_ID_DESC], first: 50) { nodes { "
    "decisionNumber listType reason listedOn publicityEndsOn "
    "enterpriseByEnterpriseId { uscc name } } } }"
)


def _w2_canonical(entries: Any, listed: str, enterprise: str) -> Any:
    return [
        (
            e["decisionNumber"],
            e["listType"],
            e["reason"],
            e[listed],
            e["publicityEndsOn"],
            None if e[enterprise] is None else (e[enterprise]["uscc"], e[enterprise]["name"]),
        )
        for e in entries
    ]


def _region_bounds(code: str) -> tuple[str, str]:
    from hub.kit.codes import region_range

    return region_range(code)


def _w2_one() -> str:
    low, high = _region_bounds(REGION)
    published = PUBLISHED.format(t="e")
    return (
        "SELECT b.decision_number, b.list_type, b.reason, b.listed_on, b.publicity_ends_on, "
        f"CASE WHEN {published} THEN e.uscc END, CASE WHEN {published} THEN e.name END "
        f"FROM blacklist_entry b JOIN enterprise e ON e.id = b.enterprise_id WHERE {IN_FORCE} "
        f"AND b.region_code >= '{low}' AND b.region_code < '{high}' "
        "ORDER BY b.listed_on DESC, b.id DESC LIMIT 50;"
    )


W2 = Workload(
    key="W2",
    title=f"blacklist page: 50 newest listings in force in {REGION}, with enterprise names",
    batch=0,
    zipf=0.0,
    documents={Contestant.HUB: _W2_HUB, Contestant.POSTGRAPHILE: _W2_POSTGRAPHILE},
    canonical={
        Contestant.HUB: lambda d: _w2_canonical(d["blacklist"]["nodes"], "listedAt", "enterprise"),
        Contestant.POSTGRAPHILE: lambda d: _w2_canonical(
            d["allBlacklistListings"]["nodes"], "listedOn", "enterpriseByEnterpriseId"
        ),
    },
    one_statement=_w2_one(),
)


# ---------------------------------------------------------------------------------------------
# W3: a partner's batch of 100 enterprises by USCC, with grade and blacklist status.


def _w3_document(field: str) -> str:
    aliases = " ".join(
        f"e{i}: {field}(uscc: $u{i}) {{ uscc creditGrade blacklisted }}"
        for i in range(1, BATCH + 1)
    )
    return f"query W3({_variables(BATCH)}) {{ {aliases} }}"


def _w3_canonical(data: Mapping[str, Any]) -> Any:
    return {
        alias: None if v is None else (v["uscc"], v["creditGrade"], v["blacklisted"])
        for alias, v in data.items()
    }


_IDS = ", ".join(f":id{i}" for i in range(1, BATCH + 1))
_W3_ONE = "\n".join(
    [
        "{draw}",
        "SELECT e.uscc, e.credit_grade, EXISTS (SELECT FROM blacklist_entry b "
        f"WHERE b.enterprise_id = e.id AND {IN_FORCE}) FROM enterprise e "
        f"WHERE e.id IN ({_IDS}) AND {PUBLISHED.format(t='e')};",
    ]
)

W3 = Workload(
    key="W3",
    title=f"partner batch: {BATCH} enterprises by USCC (aliases), grade and blacklist status",
    batch=BATCH,
    zipf=0.0,
    documents={
        Contestant.HUB: _w3_document("enterprise"),
        Contestant.POSTGRAPHILE: _w3_document("enterpriseByUscc"),
    },
    canonical={Contestant.HUB: _w3_canonical, Contestant.POSTGRAPHILE: _w3_canonical},
    one_statement=_W3_ONE,
)

ZIPF_EXPONENT = 1.1
"""pgbench's random_zipfian needs an exponent above 1; 1.1 sends about a quarter of the
requests to the hottest 100 enterprises of a million."""

WORKLOADS: dict[str, Workload] = {
    w.key: w
    for w in (
        _w1("W1", "credit file: one enterprise by USCC, uniform over all", 0.0),
        _w1(
            "W1z", f"credit file: one enterprise by USCC, Zipf (s = {ZIPF_EXPONENT})", ZIPF_EXPONENT
        ),
        W2,
        W3,
    )
}


def pgbench_draw(workload: Workload, enterprises: int) -> str:
    """The pgbench meta-commands that draw the enterprise ids of one request."""
    if workload.batch == 0:
        return ""
    if workload.zipf:
        draw = f"random_zipfian(1, {enterprises}, {workload.zipf})"
    else:
        draw = f"random(1, {enterprises})"
    if workload.batch == 1:
        return f"\\set id {draw}"
    return "\n".join(f"\\set id{i} {draw}" for i in range(1, workload.batch + 1))


def pgbench_script(workload: Workload, contestant: Contestant, enterprises: int) -> str:
    draw = pgbench_draw(workload, enterprises)
    if contestant is Contestant.PGBENCH_HUB_SQL:
        statement = hub_statement(workload.documents[Contestant.HUB], workload.batch)
        return f"{draw}\n{statement}\n"
    return workload.one_statement.replace("{draw}", draw) + "\n"
