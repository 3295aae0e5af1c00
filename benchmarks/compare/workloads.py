"""The workloads: a GraphQL document per GraphQL contestant and pgbench scripts for each.

Every document asks for the same data in each API's own words; ``canonical`` turns either
answer into one comparable form, so the harness can prove that the hub and PostGraphile
return the same data before it measures them.

pgbench cannot hold a USCC in a variable, so its scripts look enterprises up by id (a
primary-key probe instead of a probe of the unique USCC index: the same work). Two scripts
per workload: the hub's own statement, as its compiler writes it (``hubsql``), which builds
the answer's JSON; and ``one_statement``, which fetches the same data as plain rows in one
SELECT, the ceiling for a server that sends one statement per request. A workload sent with a
partner's bearer token (W1p) has no pgbench scripts: pgbench has no token to check, and its
statements would be those of the same workload without one.

A page workload (P1) GETs one of the portal's pages instead of POSTing a document: it is the
hub's alone (PostGraphile serves no pages, and pgbench would run the page's one statement,
which W5 already measures), and its keys may be drawn from a chosen population of enterprises
(``Population``) rather than from all of them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from benchmarks.compare.hubsql import hub_statement

README = Path(__file__).resolve().parents[2] / "README.md"

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


class Population(StrEnum):
    """The enterprises a workload's keys are drawn from."""

    ALL = "all"
    """Every enterprise, published or not (a draft answers null, or 404 on a page)."""
    FULL_RECORD = "full record"
    """The published enterprises whose public credit file has every list of ``FULL_RECORD``
    filled: the credit page with the most to show (see ``full_record_sql``)."""


Canonical = Callable[[Mapping[str, Any]], Any]


@dataclass(frozen=True, slots=True)
class Workload:
    key: str
    title: str
    keys: tuple[str, ...]
    """The document's variables that take a USCC, drawn afresh for each request: none (a
    fixed document), one, or BATCH."""
    zipf: float
    """0 for uniform keys, else the Zipf exponent."""
    documents: Mapping[Contestant, str]
    canonical: Mapping[Contestant, Canonical]
    one_statement: str | None
    """The pgbench script of "pgbench, 1 statement"; ``{draw}`` is where the key variables go.
    The script of "pgbench, hub's SQL" is the hub's own statement (``hubsql``). None: no
    pgbench contestant (a partner workload)."""
    partner: bool = False
    """Sent with a partner's bearer token (an ES256 JWT of the hub) to both GraphQL servers."""
    open_loop: bool = False
    """Also measured at a fixed arrival rate (half PostGraphile's peak) for the tail latency."""
    page: str | None = None
    """A portal page GETted instead of a document POSTed to /graphql: its path, ``{uscc}``
    where the key goes. Only the hub serves pages."""
    connections: int | None = None
    """Concurrent clients the workload is defined with (a target's own figure), whatever the
    run's ``--connections``; None: the run's."""
    population: Population = Population.ALL
    """Where the keys come from."""

    @property
    def batch(self) -> int:
        """USCCs per request: 0 (a fixed document), 1 or BATCH."""
        return len(self.keys)

    @property
    def contestants(self) -> tuple[Contestant, ...]:
        if self.page is not None:
            return (Contestant.HUB,)
        if self.one_statement is None:
            return (Contestant.HUB, Contestant.POSTGRAPHILE)
        return tuple(Contestant)


def _variables(count: int) -> str:
    return ", ".join(f"$u{i}: String!" for i in range(1, count + 1))


def _numbered(count: int) -> tuple[str, ...]:
    return tuple(f"u{i}" for i in range(1, count + 1))


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


def _w1(
    key: str, title: str, zipf: float, *, partner: bool = False, open_loop: bool = False
) -> Workload:
    return Workload(
        key=key,
        title=title,
        keys=_numbered(1),
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
        one_statement=None if partner else _W1_ONE,
        partner=partner,
        open_loop=open_loop,
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
    keys=(),
    zipf=0.0,
    documents={Contestant.HUB: _W2_HUB, Contestant.POSTGRAPHILE: _W2_POSTGRAPHILE},
    canonical={
        Contestant.HUB: lambda d: _w2_canonical(d["blacklist"]["nodes"], "listedAt", "enterprise"),
        Contestant.POSTGRAPHILE: lambda d: _w2_canonical(
            d["allBlacklistListings"]["nodes"], "listedOn", "enterpriseByEnterpriseId"
        ),
    },
    one_statement=_w2_one(),
    open_loop=True,
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
    keys=_numbered(BATCH),
    zipf=0.0,
    documents={
        Contestant.HUB: _w3_document("enterprise"),
        Contestant.POSTGRAPHILE: _w3_document("enterpriseByUscc"),
    },
    canonical={Contestant.HUB: _w3_canonical, Contestant.POSTGRAPHILE: _w3_canonical},
    one_statement=_W3_ONE,
)

# ---------------------------------------------------------------------------------------------
# W5: the README's first example, the whole credit file of one enterprise, as users send it.

README_EXAMPLE = "# A reporter: the whole credit file of one enterprise"
_README_KEY = re.compile(r'enterprise\(uscc: "[0-9A-Z]{18}"\)')


@cache
def readme_example() -> str:
    """The README's first example as it is written there, its USCC made the variable ``$u``:
    the benchmark follows the README, and a README example the harness cannot find is an
    error, never a stale copy."""
    lines = README.read_text(encoding="utf-8").splitlines()
    try:
        start = lines.index(README_EXAMPLE) + 1
    except ValueError:
        raise RuntimeError(f"README.md no longer has the example {README_EXAMPLE!r}") from None
    end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
    example = "\n".join(lines[start:end])
    document, found = _README_KEY.subn("enterprise(uscc: $u)", example, count=1)
    if found != 1 or not document.startswith("{"):
        raise RuntimeError(f"README.md's example {README_EXAMPLE!r} is not one enterprise(uscc:)")
    return "query W5($u: String!) " + document


# The same data in PostGraphile's words: each list is a relation of the tables, ordered as the
# hub orders it (newest first, the id breaking ties; a licence's history and a check's failed
# items in their own order), under setup.sql's row rules.
_W5_POSTGRAPHILE = (
    "query W5($u: String!) { enterpriseByUscc(uscc: $u) { "
    "uscc name status regionByRegionCode { code name } industryByIndustryCode { code name } "
    "creditGrade creditEvaluationsByEnterpriseId(first: 5, "
    "orderBy: [EVALUATED_AT_DESC, ROW_ID_DESC]) "
    "{ nodes { grade score evaluatedAt authority basis } } "
    "blacklisted blacklistEntriesByEnterpriseId(orderBy: [LISTED_ON_DESC, ROW_ID_DESC]) "
    "{ nodes { listType reason legalBasis authority listedOn publicityEndsOn "
    "blacklistRemovalByEntryId { removedOn reason } } } "
    "licencesByEnterpriseId(first: 10, orderBy: [VALID_FROM_DESC, ROW_ID_DESC]) "
    "{ nodes { number product status validFrom validUntil "
    "licenceStatusEventsByLicenceId(orderBy: [AT_ASC, ROW_ID_ASC]) "
    "{ nodes { status at reason } } } } "
    "spotChecksByEnterpriseId(first: 10, orderBy: [SAMPLED_ON_DESC, ROW_ID_DESC]) "
    "{ nodes { level sampledOn productByProductId { name brand gtin } result "
    "spotCheckFailedItemsBySpotCheckId(orderBy: [POSITION_ASC]) "
    "{ nodes { item standard required measured } } inspectingBody publishedAt } } "
    "recallsByEnterpriseId(first: 10, orderBy: [STARTED_ON_DESC, ROW_ID_DESC]) "
    "{ nodes { noticeNumber title hazard remedy affectedUnits startedOn status } } "
    "productsByEnterpriseId(first: 10, orderBy: [ROW_ID_DESC]) "
    "{ nodes { name brand model gtin category } } } }"
)


def _instant(value: str | None) -> str | None:
    """A timestamp as UTC: the hub writes UTC, PostGraphile the database session's zone."""
    if value is None:
        return None
    return dt.datetime.fromisoformat(value).astimezone(dt.UTC).isoformat()


def _pick(node: Mapping[str, Any] | None, *fields: str) -> tuple[Any, ...] | None:
    return None if node is None else tuple(node[f] for f in fields)


_W5_RECALL = ("noticeNumber", "title", "hazard", "remedy", "affectedUnits", "startedOn", "status")


def _w5_hub(data: Mapping[str, Any]) -> Any:
    firm = data["enterprise"]
    if firm is None:
        return None
    return {
        "enterprise": (firm["uscc"], firm["name"], firm["status"], firm["creditGrade"]),
        "region": _pick(firm["region"], "code", "name"),
        "industry": _pick(firm["industry"], "code", "name"),
        "credit_history": [
            (n["grade"], n["score"], _instant(n["evaluatedAt"]), n["authority"], n["basis"])
            for n in firm["creditHistory"]["nodes"]
        ],
        "blacklisted": firm["blacklisted"],
        "blacklist": [
            (
                b["listType"],
                b["reason"],
                b["legalBasis"],
                b["authority"],
                b["listedAt"],
                b["publicityEndsOn"],
                b["removedAt"],
                b["removalReason"],
            )
            for b in firm["blacklistEntries"]
        ],
        "licences": [
            (
                n["number"],
                n["product"],
                n["status"],
                n["validFrom"],
                n["validUntil"],
                [(h["status"], _instant(h["at"]), h["reason"]) for h in n["history"]],
            )
            for n in firm["licences"]["nodes"]
        ],
        "spot_checks": [
            (
                n["level"],
                n["sampledAt"],
                _pick(n["product"], "name", "brand", "gtin"),
                n["result"],
                _rows({"nodes": n["failedItems"]}, "item", "standard", "required", "measured"),
                n["inspectingBody"],
                _instant(n["publishedAt"]),
            )
            for n in firm["spotChecks"]["nodes"]
        ],
        "recalls": _rows(firm["recalls"], *_W5_RECALL),
        "products": _rows(firm["products"], "name", "brand", "model", "gtin", "category"),
    }


def _w5_postgraphile(data: Mapping[str, Any]) -> Any:
    firm = data["enterpriseByUscc"]
    if firm is None:
        return None

    def removal(entry: Mapping[str, Any], field: str) -> Any:
        found = entry["blacklistRemovalByEntryId"]
        return None if found is None else found[field]

    return {
        "enterprise": (firm["uscc"], firm["name"], firm["status"], firm["creditGrade"]),
        "region": _pick(firm["regionByRegionCode"], "code", "name"),
        "industry": _pick(firm["industryByIndustryCode"], "code", "name"),
        "credit_history": [
            (n["grade"], n["score"], _instant(n["evaluatedAt"]), n["authority"], n["basis"])
            for n in firm["creditEvaluationsByEnterpriseId"]["nodes"]
        ],
        "blacklisted": firm["blacklisted"],
        "blacklist": [
            (
                b["listType"],
                b["reason"],
                b["legalBasis"],
                b["authority"],
                b["listedOn"],
                b["publicityEndsOn"],
                removal(b, "removedOn"),
                removal(b, "reason"),
            )
            for b in firm["blacklistEntriesByEnterpriseId"]["nodes"]
        ],
        "licences": [
            (
                n["number"],
                n["product"],
                n["status"],
                n["validFrom"],
                n["validUntil"],
                [
                    (h["status"], _instant(h["at"]), h["reason"])
                    for h in n["licenceStatusEventsByLicenceId"]["nodes"]
                ],
            )
            for n in firm["licencesByEnterpriseId"]["nodes"]
        ],
        "spot_checks": [
            (
                n["level"],
                n["sampledOn"],
                _pick(n["productByProductId"], "name", "brand", "gtin"),
                n["result"],
                _rows(
                    n["spotCheckFailedItemsBySpotCheckId"],
                    "item",
                    "standard",
                    "required",
                    "measured",
                ),
                n["inspectingBody"],
                _instant(n["publishedAt"]),
            )
            for n in firm["spotChecksByEnterpriseId"]["nodes"]
        ],
        "recalls": _rows(firm["recallsByEnterpriseId"], *_W5_RECALL),
        "products": _rows(
            firm["productsByEnterpriseId"], "name", "brand", "model", "gtin", "category"
        ),
    }


def _json_list(select: str, order: str) -> str:
    """A list as one JSON array column: the rows of ``select`` (alias ``t``) in ``order``."""
    return f"(SELECT json_agg(x ORDER BY {order}) FROM ({select}) x)"


_W5_ONE = "\n".join(
    [
        "{draw}",
        "SELECT e.uscc, e.name, e.status, rg.code, rg.name, ind.code, ind.name, e.credit_grade, "
        + _json_list(
            "SELECT t.grade, t.score, t.evaluated_at, t.authority, t.basis, t.id "
            "FROM credit_evaluation t WHERE t.enterprise_id = e.id AND "
            + PUBLISHED.format(t="t")
            + " ORDER BY t.evaluated_at DESC, t.id DESC LIMIT 5",
            "x.evaluated_at DESC, x.id DESC",
        )
        + ", EXISTS (SELECT FROM blacklist_entry b WHERE b.enterprise_id = e.id AND "
        + IN_FORCE
        + "), "
        + _json_list(
            "SELECT b.list_type, b.reason, b.legal_basis, b.authority, b.listed_on, "
            "b.publicity_ends_on, rm.removed_on, rm.reason AS removal_reason, b.id "
            "FROM blacklist_entry b LEFT JOIN blacklist_removal rm ON rm.entry_id = b.id "
            "WHERE b.enterprise_id = e.id AND " + IN_FORCE,
            "x.listed_on DESC, x.id DESC",
        )
        + ", "
        + _json_list(
            "SELECT t.number, t.product, t.status, t.valid_from, t.valid_until, t.id, "
            + _json_list(
                "SELECT h.status, h.at, h.reason, h.id FROM licence_status_event h "
                "WHERE h.licence_id = t.id",
                "x.at, x.id",
            )
            + " AS history FROM licence t WHERE t.enterprise_id = e.id AND "
            + PUBLISHED.format(t="t")
            + " ORDER BY t.valid_from DESC, t.id DESC LIMIT 10",
            "x.valid_from DESC, x.id DESC",
        )
        + ", "
        + _json_list(
            "SELECT t.level, t.sampled_on, p.name, p.brand, p.gtin, t.result, "
            + _json_list(
                "SELECT f.item, f.standard, f.required, f.measured, f.position "
                "FROM spot_check_failed_item f WHERE f.spot_check_id = t.id",
                "x.position",
            )
            + " AS failed_items, t.inspecting_body, t.published_at, t.id FROM spot_check t "
            "LEFT JOIN product p ON p.id = t.product_id AND "
            + PUBLISHED.format(t="p")
            + " WHERE t.enterprise_id = e.id AND "
            + PUBLISHED.format(t="t")
            + " ORDER BY t.sampled_on DESC, t.id DESC LIMIT 10",
            "x.sampled_on DESC, x.id DESC",
        )
        + ", "
        + _json_list(
            "SELECT t.notice_number, t.title, t.hazard, t.remedy, t.affected_units, "
            "t.started_on, t.status, t.id FROM recall t WHERE t.enterprise_id = e.id AND "
            + PUBLISHED.format(t="t")
            + " ORDER BY t.started_on DESC, t.id DESC LIMIT 10",
            "x.started_on DESC, x.id DESC",
        )
        + ", "
        + _json_list(
            "SELECT t.name, t.brand, t.model, t.gtin, t.category, t.id FROM product t "
            "WHERE t.enterprise_id = e.id AND "
            + PUBLISHED.format(t="t")
            + " ORDER BY t.id DESC LIMIT 10",
            "x.id DESC",
        )
        + " FROM enterprise e LEFT JOIN region rg ON rg.code = e.region_code "
        "LEFT JOIN industry ind ON ind.code = e.industry_code WHERE e.id = :id AND "
        + PUBLISHED.format(t="e")
        + ";",
    ]
)


def _w5() -> Workload:
    return Workload(
        key="W5",
        title="the README's first example: the whole credit file of one enterprise by USCC "
        "(grade history, blacklist entries, licences with history, spot checks with product "
        "and failed items, recalls, products), uniform over all",
        keys=("u",),
        zipf=0.0,
        documents={Contestant.HUB: readme_example(), Contestant.POSTGRAPHILE: _W5_POSTGRAPHILE},
        canonical={Contestant.HUB: _w5_hub, Contestant.POSTGRAPHILE: _w5_postgraphile},
        one_statement=_W5_ONE,
        open_loop=True,
    )


# ---------------------------------------------------------------------------------------------
# P1: the portal's credit page of an enterprise with a full record (issue 14).

PAGE_CLIENTS = 8
"""Issue 14's concurrent clients for the credit page's p95."""

FULL_RECORD: dict[str, str] = {
    # Each list of the credit page that can be empty, as the public sees it, by its rule on
    # the enterprise ``e``. The page always has the rest (name, grade, region).
    "a blacklist listing in force": (
        f"EXISTS (SELECT FROM blacklist_entry b WHERE b.enterprise_id = e.id AND {IN_FORCE})"
    ),
    "licences": (
        f"EXISTS (SELECT FROM licence x WHERE x.enterprise_id = e.id AND {PUBLISHED.format(t='x')})"
    ),
    "spot checks with failed items": (
        "EXISTS (SELECT FROM spot_check x WHERE x.enterprise_id = e.id AND "
        f"{PUBLISHED.format(t='x')} AND "
        "EXISTS (SELECT FROM spot_check_failed_item f WHERE f.spot_check_id = x.id))"
    ),
    "recalls": (
        f"EXISTS (SELECT FROM recall x WHERE x.enterprise_id = e.id AND {PUBLISHED.format(t='x')})"
    ),
    "products": (
        f"EXISTS (SELECT FROM product x WHERE x.enterprise_id = e.id AND {PUBLISHED.format(t='x')})"
    ),
}


def lists_shown(enterprise: Mapping[str, Any]) -> int:
    """How many of ``FULL_RECORD``'s lists the credit page's read (``enterprise`` of
    hub/portal/queries/enterprise.graphql) has filled: the same rules, read by the hub."""
    return sum(
        (
            enterprise["blacklisted"] is True,
            enterprise["licences"]["totalCount"] > 0,
            any(check["failedItems"] for check in enterprise["spotChecks"]["nodes"]),
            enterprise["recalls"]["totalCount"] > 0,
            enterprise["products"]["totalCount"] > 0,
        )
    )


def full_record_sql() -> str:
    """One query for P1's keys: ``uscc|lists`` of the published enterprises with the most of
    ``FULL_RECORD``'s lists filled, in id order. At a million enterprises that should be all
    five, for a few dozen of them (an estimate from the demo data's shares at 20,000: 1% listed
    in force, an eighth of those with licences and failed checks, 2% of enterprises with
    recalls); a small seed may have no full record, and then its fullest are taken and the
    report says so. PostgreSQL hashes each EXISTS once (a hashed SubPlan), so the query reads
    each table once, whatever the size."""
    filled = " + ".join(f"({rule})::int" for rule in FULL_RECORD.values())
    return (
        "SELECT uscc, lists FROM (SELECT id, uscc, lists, max(lists) OVER () AS most FROM "
        f"(SELECT e.id, e.uscc, {filled} AS lists FROM enterprise e "
        f"WHERE {PUBLISHED.format(t='e')}) filled) ranked WHERE lists = most ORDER BY id"
    )


P1 = Workload(
    key="P1",
    title="the portal's credit page: GET /enterprises/{uscc} (HTML, the page's one read and its "
    f"template), {PAGE_CLIENTS} concurrent clients, USCCs uniform over the enterprises with a "
    "full public record (" + ", ".join(FULL_RECORD) + "); hub only",
    keys=("uscc",),
    zipf=0.0,
    documents={},
    canonical={},
    one_statement=None,
    page="/enterprises/{uscc}",
    connections=PAGE_CLIENTS,
    population=Population.FULL_RECORD,
)


ZIPF_EXPONENT = 1.1
"""pgbench's random_zipfian needs an exponent above 1; 1.1 sends about a quarter of the
requests to the hottest 100 enterprises of a million."""

WORKLOADS: dict[str, Workload] = {
    w.key: w
    for w in (
        _w1("W1", "credit file: one enterprise by USCC, uniform over all", 0.0, open_loop=True),
        _w1(
            "W1z", f"credit file: one enterprise by USCC, Zipf (s = {ZIPF_EXPONENT})", ZIPF_EXPONENT
        ),
        W2,
        W3,
        _w5(),
        _w1(
            "W1p",
            "W1 sent by a partner: the same document with a partner client's bearer token (an "
            "ES256 JWT from the hub's token endpoint), verified by each server",
            0.0,
            partner=True,
        ),
        P1,
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
    if workload.one_statement is None:
        raise ValueError(f"{workload.key} has no pgbench contestant")
    draw = pgbench_draw(workload, enterprises)
    if contestant is Contestant.PGBENCH_HUB_SQL:
        statement = hub_statement(workload.documents[Contestant.HUB], workload.keys)
        return f"{draw}\n{statement}\n"
    return workload.one_statement.replace("{draw}", draw) + "\n"
