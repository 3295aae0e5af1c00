"""The workloads' documents and the files the load generators read, without running them."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from benchmarks.compare import workloads
from benchmarks.compare.hubsql import _without_colon_names
from benchmarks.compare.load import write_wrk_config
from benchmarks.compare.openloop import write_targets
from benchmarks.compare.postgres import server_of
from benchmarks.compare.workloads import WORKLOADS, Contestant, readme_example
from tests.fixtures.databases import postgres_admin_url

README = Path(__file__).resolve().parents[2] / "README.md"


def test_w5_is_the_readmes_first_example_with_its_uscc_as_the_variable_u() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    start = lines.index("# A reporter: the whole credit file of one enterprise") + 1
    example = lines[start : lines.index("", start)]
    document = WORKLOADS["W5"].documents[Contestant.HUB].splitlines()
    assert example[0].startswith('{ enterprise(uscc: "')
    assert document[0] == "query W5($u: String!) { enterprise(uscc: $u) {"
    assert document[1:] == example[1:]
    assert WORKLOADS["W5"].keys == ("u",)


def test_a_readme_without_the_example_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "README.md").write_text("# Quality Credit Hub\n")
    monkeypatch.setattr(workloads, "README", tmp_path / "README.md")
    readme_example.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="no longer has the example"):
            readme_example()
    finally:
        readme_example.cache_clear()


def test_w5_answers_in_either_api_translate_to_the_same_data() -> None:
    hub = {
        "enterprise": {
            "uscc": "91110000600037341L",
            "name": "北京测试有限公司",
            "status": "ACTIVE",
            "region": {"code": "110000", "name": "北京市"},
            "industry": None,
            "creditGrade": "B",
            "creditHistory": {
                "nodes": [
                    {
                        "grade": "B",
                        "score": 79.1,
                        "evaluatedAt": "2026-11-26T05:45:00+00:00",
                        "authority": "北京市市场监督管理局",
                        "basis": "年度评价",
                    }
                ]
            },
            "blacklisted": False,
            "blacklistEntries": [],
            "licences": {
                "nodes": [
                    {
                        "number": "XK16-108-00001",
                        "product": "电线电缆",
                        "status": "VALID",
                        "validFrom": "2024-01-01",
                        "validUntil": "2029-01-01",
                        "history": [
                            {"status": "VALID", "at": "2024-01-01T00:00:00Z", "reason": "发证"}
                        ],
                    }
                ]
            },
            "spotChecks": {
                "nodes": [
                    {
                        "level": "NATIONAL",
                        "sampledAt": "2026-03-21",
                        "product": None,
                        "result": "FAIL",
                        "failedItems": [
                            {
                                "item": "发热",
                                "standard": "GB 4706.1",
                                "required": "≤100 K",
                                "measured": "136 K",
                            }
                        ],
                        "inspectingBody": "检验院",
                        "publishedAt": "2026-04-27T06:00:00+00:00",
                    }
                ]
            },
            "recalls": {"nodes": []},
            "products": {"nodes": []},
        }
    }
    postgraphile = {
        "enterpriseByUscc": {
            "uscc": "91110000600037341L",
            "name": "北京测试有限公司",
            "status": "ACTIVE",
            "regionByRegionCode": {"code": "110000", "name": "北京市"},
            "industryByIndustryCode": None,
            "creditGrade": "B",
            "creditEvaluationsByEnterpriseId": {
                "nodes": [
                    {
                        "grade": "B",
                        "score": 79.1,
                        # The database session's zone, not UTC: the same instant.
                        "evaluatedAt": "2026-11-26T13:45:00+08:00",
                        "authority": "北京市市场监督管理局",
                        "basis": "年度评价",
                    }
                ]
            },
            "blacklisted": False,
            "blacklistEntriesByEnterpriseId": {"nodes": []},
            "licencesByEnterpriseId": {
                "nodes": [
                    {
                        "number": "XK16-108-00001",
                        "product": "电线电缆",
                        "status": "VALID",
                        "validFrom": "2024-01-01",
                        "validUntil": "2029-01-01",
                        "licenceStatusEventsByLicenceId": {
                            "nodes": [
                                {
                                    "status": "VALID",
                                    "at": "2024-01-01T08:00:00+08:00",
                                    "reason": "发证",
                                }
                            ]
                        },
                    }
                ]
            },
            "spotChecksByEnterpriseId": {
                "nodes": [
                    {
                        "level": "NATIONAL",
                        "sampledOn": "2026-03-21",
                        "productByProductId": None,
                        "result": "FAIL",
                        "spotCheckFailedItemsBySpotCheckId": {
                            "nodes": [
                                {
                                    "item": "发热",
                                    "standard": "GB 4706.1",
                                    "required": "≤100 K",
                                    "measured": "136 K",
                                }
                            ]
                        },
                        "inspectingBody": "检验院",
                        "publishedAt": "2026-04-27T14:00:00+08:00",
                    }
                ]
            },
            "recallsByEnterpriseId": {"nodes": []},
            "productsByEnterpriseId": {"nodes": []},
        }
    }
    canonical = WORKLOADS["W5"].canonical
    ours = canonical[Contestant.HUB](hub)
    assert ours == canonical[Contestant.POSTGRAPHILE](postgraphile)
    assert ours["credit_history"] == [
        ("B", 79.1, "2026-11-26T05:45:00+00:00", "北京市市场监督管理局", "年度评价")
    ]
    # A different failed item is a difference.
    postgraphile["enterpriseByUscc"]["spotChecksByEnterpriseId"]["nodes"][0][
        "spotCheckFailedItemsBySpotCheckId"
    ]["nodes"][0]["measured"] = "135 K"
    assert ours != canonical[Contestant.POSTGRAPHILE](postgraphile)
    assert canonical[Contestant.HUB]({"enterprise": None}) is None
    assert canonical[Contestant.POSTGRAPHILE]({"enterpriseByUscc": None}) is None


def test_wrk_config_names_the_variables_and_carries_the_token(tmp_path: Path) -> None:
    keys = tmp_path / "usccs.txt"
    config = write_wrk_config(
        WORKLOADS["W1p"], Contestant.POSTGRAPHILE, keys, tmp_path, seed=3, authorization="Bearer t"
    )
    lines = config.read_text().splitlines()
    assert lines[:2] == ["batch=1", "names=u1"]
    assert lines[-1] == "authorization=Bearer t"
    w5 = write_wrk_config(WORKLOADS["W5"], Contestant.HUB, keys, tmp_path, seed=3)
    assert w5.read_text().splitlines()[:2] == ["batch=1", "names=u"]
    assert not any(line.startswith("authorization=") for line in w5.read_text().splitlines())
    body = (tmp_path / "W5-hub.body").read_text()
    assert body.endswith(', "variables": {')


def test_open_loop_targets_are_the_same_requests_for_both_contestants(tmp_path: Path) -> None:
    keys = ["91350100M000100Y43", "91110000600037341L", "914403000827511304"]
    paths = {
        c: write_targets(
            WORKLOADS["W5"],
            c,
            f"http://127.0.0.1:{4201 + i}/graphql",
            keys,
            tmp_path / f"{c}.targets",
            count=50,
            seed=17,
            authorization="Bearer t" if c is Contestant.HUB else None,
        )
        for i, c in enumerate((Contestant.HUB, Contestant.POSTGRAPHILE))
    }
    targets = {c: [json.loads(x) for x in p.read_text().splitlines()] for c, p in paths.items()}
    assert [len(t) for t in targets.values()] == [50, 50]
    bodies = {c: [json.loads(base64.b64decode(t["body"])) for t in ts] for c, ts in targets.items()}
    hub, peer = bodies[Contestant.HUB], bodies[Contestant.POSTGRAPHILE]
    assert [b["variables"] for b in hub] == [b["variables"] for b in peer]
    assert {b["variables"]["u"] for b in hub} == set(keys)
    assert hub[0]["query"] == WORKLOADS["W5"].documents[Contestant.HUB]
    assert peer[0]["query"] == WORKLOADS["W5"].documents[Contestant.POSTGRAPHILE]
    first = targets[Contestant.HUB][0]
    assert first["method"] == "POST"
    assert first["url"] == "http://127.0.0.1:4201/graphql"
    assert first["header"] == {"Content-Type": ["application/json"], "Authorization": ["Bearer t"]}
    assert targets[Contestant.POSTGRAPHILE][0]["header"] == {"Content-Type": ["application/json"]}
    # A fixed document (W2) is one target, used again and again.
    w2 = write_targets(
        WORKLOADS["W2"], Contestant.HUB, "http://h/graphql", keys, tmp_path / "w2", 50, 17
    )
    assert len(w2.read_text().splitlines()) == 1


def test_string_literals_pgbench_would_read_as_variables_are_escaped() -> None:
    sql = "SELECT to_char(t.at, 'YYYY-MM-DD\"T\"HH24:MI:SS'), 'a::b', 'it''s', x::text"
    assert _without_colon_names(sql) == (
        "SELECT to_char(t.at, E'YYYY-MM-DD\"T\"HH24\\x3aMI\\x3aSS'), 'a::b', 'it''s', x::text"
    )
    assert _without_colon_names("SELECT 'c:\\d:x'") == "SELECT E'c\\x3a\\\\d\\x3ax'"


@pytest.mark.postgres
def test_the_escaped_literal_is_the_same_constant_to_postgresql() -> None:
    original = "SELECT 'YYYY-MM-DD\"T\"HH24:MI:SS' = 'YYYY-MM-DD\"T\"HH24' || chr(58) || 'MI:SS'"
    escaped = _without_colon_names(original)
    assert "E'" in escaped and ":MI" not in escaped.split("=")[0]
    server = server_of(postgres_admin_url())
    assert server.psql("postgres", escaped) == "t"
