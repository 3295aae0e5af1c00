"""Personal data: whole for internal callers, masked for partners with the scope, absent for
the public; every read audited in the read's own transaction, or not answered at all."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import async_sessionmaker

from hub.auth.audit import AuditRecord
from hub.db import HubSession
from tests.fixtures.enterprise import make_enterprise
from tests.fixtures.principals import INTERNAL, PARTNER, PARTNER_WITHOUT_SCOPES, PUBLIC, run_as

QUERY = """query($u: String!) { enterprise(uscc: $u) {
    name legalRepresentativeIdNumber legalRepresentativePhone } }"""


async def _audit(session: HubSession) -> list[tuple[str | None, str, str, int, list[str]]]:
    rows = await session.scalars(select(AuditRecord).order_by(AuditRecord.id))
    return [(r.client_id, r.tier, r.record_type, r.record_id, r.fields) for r in rows]


async def test_partner_sees_masked_forms_and_is_audited(
    session: HubSession, sessionmaker: async_sessionmaker[HubSession]
) -> None:
    firm = await make_enterprise(
        session,
        legal_representative_id_number="440304198507211234",
        legal_representative_phone="13912345678",
    )
    await session.commit()

    answer = await run_as(PARTNER, sessionmaker, QUERY, {"u": firm.uscc})

    assert answer == {
        "data": {
            "enterprise": {
                "name": firm.name,
                "legalRepresentativeIdNumber": "4403**********1234",
                "legalRepresentativePhone": "139****5678",
            }
        }
    }
    assert await _audit(session) == [
        (
            "partner-full",
            "partner",
            "Enterprise",
            firm.id,
            ["legalRepresentativeIdNumber", "legalRepresentativePhone"],
        )
    ]


async def test_internal_sees_everything_and_is_audited(
    session: HubSession, sessionmaker: async_sessionmaker[HubSession]
) -> None:
    firm = await make_enterprise(
        session,
        legal_representative_id_number="440304198507211234",
        legal_representative_phone=None,
    )
    await session.commit()

    answer = await run_as(INTERNAL, sessionmaker, QUERY, {"u": firm.uscc})

    assert answer["data"]["enterprise"]["legalRepresentativeIdNumber"] == "440304198507211234"
    assert answer["data"]["enterprise"]["legalRepresentativePhone"] is None
    # a null was not a read of personal data
    assert await _audit(session) == [
        ("agency", "internal", "Enterprise", firm.id, ["legalRepresentativeIdNumber"])
    ]


async def test_partner_without_the_scope_is_forbidden(
    session: HubSession, sessionmaker: async_sessionmaker[HubSession]
) -> None:
    firm = await make_enterprise(session, legal_representative_id_number="440304198507211234")
    await session.commit()

    answer = await run_as(PARTNER_WITHOUT_SCOPES, sessionmaker, QUERY, {"u": firm.uscc})

    assert answer["data"] == {
        "enterprise": {
            "name": firm.name,
            "legalRepresentativeIdNumber": None,
            "legalRepresentativePhone": None,
        }
    }
    assert {e["extensions"]["code"] for e in answer["errors"]} == {"FORBIDDEN"}
    assert "1234" not in str(answer)
    assert await _audit(session) == []


async def test_the_public_schema_has_no_such_field(
    session: HubSession, sessionmaker: async_sessionmaker[HubSession]
) -> None:
    firm = await make_enterprise(session)
    answer = await run_as(
        PUBLIC,
        sessionmaker,
        "query($u: String!) { enterprise(uscc: $u) { legalRepresentativeIdNumber } }",
        {"u": firm.uscc},
    )
    assert answer == {
        "data": None,
        "errors": [
            {
                # the suggestion names a public field only
                "message": "Cannot query field 'legalRepresentativeIdNumber' on type "
                "'Enterprise'. Did you mean 'legalRepresentative'?",
                "locations": [{"line": 1, "column": 45}],
                "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"},
            }
        ],
    }


async def test_no_audit_no_answer(
    session: HubSession, sessionmaker: async_sessionmaker[HubSession]
) -> None:
    # given an audit trail that cannot be written (dropped inside the test's transaction)
    firm = await make_enterprise(session, legal_representative_id_number="440304198507211234")
    await session.execute(text("DROP TABLE audit_record"))
    await session.commit()

    # when
    answer = await run_as(INTERNAL, sessionmaker, QUERY, {"u": firm.uscc})

    # then the read is withheld
    assert answer == {
        "data": None,
        "errors": [
            {
                "message": "The read could not be audited, so it was not answered.",
                "extensions": {"code": "INTERNAL"},
            }
        ],
    }
