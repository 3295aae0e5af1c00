"""Credit reports and /verify through the real app, on SQLite and PostgreSQL: the PDF holds the
public credit file and nothing more, the hub records what it issued, /verify tells genuine from
unknown without telling numbers apart, both are rate-limited, and the signature validates with
the certificate the hub publishes."""

from __future__ import annotations

import asyncio
import hashlib
import io
import re
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pypdfium2  # type: ignore[import-untyped]
import pytest
import zxingcpp
from pypdf import PdfReader
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import async_sessionmaker

from hub.config import Settings
from hub.db import HubSession
from hub.enterprise.models import Enterprise
from hub.kit.time import SHANGHAI
from hub.report.codes import CODE_BITS, hash_code
from hub.report.models import CreditReport
from hub.report.settings import ReportSettings
from tests.fixtures.codes import uscc
from tests.fixtures.credit_file import full_credit_file
from tests.fixtures.enterprise import make_enterprise
from tests.fixtures.limits import hub_client

TODAY = date.today()
HTML = {"accept": "text/html"}
NUMBER = re.compile(r"QCR-\d{8}-[0-9A-Z]{10}")
CODE = re.compile(r"[0-9A-Z]{4}(?:-[0-9A-Z]{4}){4}")
INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00 Asia/Shanghai")


def pdf_text(pdf: bytes) -> str:
    """The report's text without line breaks: table cells wrap values across lines."""
    pages = PdfReader(io.BytesIO(pdf)).pages
    return "".join(page.extract_text() for page in pages).replace("\n", "")


def main_of(page: str) -> str:
    found = re.search(r"<main id=\"main\"[^>]*>(.*)</main>", page, re.DOTALL)
    assert found is not None, page
    return found.group(1)


def verdict_of(page: str) -> str:
    found = re.search(r'<section aria-labelledby="verdict".*?</section>', page, re.DOTALL)
    assert found is not None, page
    return found.group(0)


async def download(client: httpx.AsyncClient, enterprise: Enterprise) -> httpx.Response:
    response = await client.get(f"/reports/{enterprise.uscc}.pdf")
    assert response.status_code == 200, response.text
    return response


def printed(pdf: bytes) -> tuple[str, str, str]:
    """The number, code and instant a report prints."""
    text = pdf_text(pdf)
    number, code, instant = NUMBER.search(text), CODE.search(text), INSTANT.search(text)
    assert number is not None and code is not None and instant is not None, text
    return number.group(0), code.group(0), instant.group(0)


async def verify(client: httpx.AsyncClient, number: str, code: str) -> httpx.Response:
    return await client.post("/verify", data={"number": number, "code": code})


# -- the report ---------------------------------------------------------------------------------


async def test_a_report_is_the_public_credit_file_at_an_instant_and_is_recorded(
    client: httpx.AsyncClient, session: HubSession
) -> None:
    # given
    enterprise = await full_credit_file(session)
    # when
    response = await download(client, enterprise)
    # then a PDF to keep, made now
    assert response.headers["content-type"] == "application/pdf"
    number = response.headers["x-report-number"]
    assert response.headers["content-disposition"] == (
        f'attachment; filename="credit-report-{enterprise.uscc}-{number}.pdf"'
    )
    assert response.headers["cache-control"] == "no-store"
    assert response.content.startswith(b"%PDF-")
    text = pdf_text(response.content)
    printed_number, code, instant = printed(response.content)
    assert printed_number == number
    # in Chinese by default, with the data of the credit page
    assert "企业质量信用报告" in text
    assert "北京健宝乳业有限公司" in text
    assert enterprise.uscc in text
    assert "C 级：失信" in text
    assert "京市监信黑〔2025〕7号" in text
    assert "XK13-101-00042" in text
    assert "GJCC-2025-77777" in text
    assert "蛋白质" in text
    assert "ZH-2025-9999" in text
    assert "健宝婴儿奶粉" in text
    assert "http://127.0.0.1:8000/verify" in text
    # and nothing an anonymous API caller cannot read: a removed listing, an unpublished check
    assert "京市监信黑〔2024〕1号" not in text
    assert "GJCC-2025-88888" not in text
    # the hub recorded it: its number, USCC, instant, SHA-256, and a hash of the code only
    record = await session.scalar(select(CreditReport).where(CreditReport.number == number))
    assert record is not None
    sha256 = hashlib.sha256(response.content).hexdigest()
    assert (record.uscc, record.enterprise_name, record.sha256) == (
        enterprise.uscc,
        "北京健宝乳业有限公司",
        sha256,
    )
    assert response.headers["x-report-sha256"] == sha256
    assert instant == f"{record.issued_at.astimezone(SHANGHAI).isoformat()} Asia/Shanghai"
    assert abs(record.issued_at - datetime.now(UTC)) < timedelta(minutes=1)
    assert record.code_hash == hash_code(code)
    assert code.replace("-", "") not in (record.code_hash, record.number)


async def test_every_download_is_a_new_report(
    client: httpx.AsyncClient, session: HubSession
) -> None:
    enterprise = await make_enterprise(session)
    await session.commit()
    first, second = await download(client, enterprise), await download(client, enterprise)
    assert printed(first.content)[:2] != printed(second.content)[:2]
    count = await session.scalar(
        select(func.count()).select_from(CreditReport).where(CreditReport.uscc == enterprise.uscc)
    )
    assert count == 2


async def test_a_head_request_issues_no_report(
    client: httpx.AsyncClient, session: HubSession
) -> None:
    enterprise = await make_enterprise(session)
    await session.commit()
    response = await client.head(f"/reports/{enterprise.uscc}.pdf")
    assert (response.status_code, response.content) == (200, b"")
    assert response.headers["content-type"] == "application/pdf"
    count = await session.scalar(select(func.count()).select_from(CreditReport))
    assert count == 0


async def test_labels_follow_the_language_and_the_data_stays_chinese(
    client: httpx.AsyncClient, session: HubSession
) -> None:
    enterprise = await make_enterprise(session, name="上海市乙食品有限公司")
    await session.commit()
    response = await client.get(f"/reports/{enterprise.uscc}.pdf?lang=en")
    text = pdf_text(response.content)
    assert "Enterprise quality credit report" in text
    assert "Verification code" in text
    assert "上海市乙食品有限公司" in text
    assert "企业质量信用报告" not in text


async def test_a_report_links_to_the_public_url(
    sessionmaker: async_sessionmaker[HubSession], session: HubSession, tmp_path: Path
) -> None:
    enterprise = await make_enterprise(session)
    await session.commit()
    settings = Settings(
        public_url="https://credit.example.cn/", signing_key_path=tmp_path / "key.pem"
    )
    async with hub_client(settings, sessionmaker) as client:
        response = await download(client, enterprise)
    text = pdf_text(response.content)
    assert "https://credit.example.cn/verify" in text
    assert "https://credit.example.cn/reports/certificate.pem" in text


async def test_an_unpublished_enterprise_has_no_report(
    client: httpx.AsyncClient, session: HubSession
) -> None:
    hidden = await make_enterprise(session, name="未公开企业", published=False)
    await session.commit()
    response = await client.get(f"/reports/{hidden.uscc}.pdf", headers=HTML)
    assert response.status_code == 404
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "未公开企业" not in response.text
    count = await session.scalar(select(func.count()).select_from(CreditReport))
    assert count == 0


async def test_an_unknown_uscc_is_a_404_page_and_a_malformed_one_a_400_page(
    client: httpx.AsyncClient,
) -> None:
    unknown = uscc("110000", 987655)
    missing = await client.get(f"/reports/{unknown}.pdf")
    assert missing.status_code == 404
    assert f"公开记录中没有统一社会信用代码为 {unknown} 的企业。" in main_of(missing.text)
    malformed = await client.get("/reports/123.pdf")
    assert malformed.status_code == 400
    assert "<h1>请求有误，无法处理</h1>" in malformed.text
    assert "Invalid value for &#39;uscc&#39;: not a valid USCC" in malformed.text


async def test_the_credit_page_links_its_report_and_verify(
    client: httpx.AsyncClient, session: HubSession
) -> None:
    enterprise = await make_enterprise(session)
    await session.commit()
    page = (await client.get(f"/enterprises/{enterprise.uscc}")).text
    assert (
        f'<a class="report" href="/reports/{enterprise.uscc}.pdf" download>下载信用报告（PDF）</a>'
        in main_of(page)
    )
    assert '<a href="/verify">核验信用报告</a>' in page


# -- /verify --------------------------------------------------------------------------------


async def test_verify_shows_a_genuine_reports_facts_and_sha256(
    client: httpx.AsyncClient, session: HubSession
) -> None:
    # given a report
    enterprise = await make_enterprise(session, name="广州市安心乳业有限公司")
    await session.commit()
    response = await download(client, enterprise)
    number, code, instant = printed(response.content)
    # when its number and code are entered as printed
    checked = await verify(client, number, code)
    # then
    assert checked.status_code == 200
    assert checked.headers["cache-control"] == "no-store"
    verdict = verdict_of(checked.text)
    assert "真实有效" in verdict
    assert f'<dd class="code" id="verified-number">{number}</dd>' in verdict
    assert f'<dd class="code" id="verified-instant">{instant}</dd>' in verdict
    assert f'<dd class="code" id="verified-uscc">{enterprise.uscc}</dd>' in verdict
    assert "广州市安心乳业有限公司" in verdict
    sha256 = hashlib.sha256(response.content).hexdigest()
    assert f'<code class="code" id="verified-sha256">{sha256}</code>' in verdict
    # the code is never shown back
    assert code not in checked.text


async def test_verify_reads_codes_as_people_type_them(
    client: httpx.AsyncClient, session: HubSession
) -> None:
    enterprise = await make_enterprise(session)
    await session.commit()
    number, code, _ = printed((await download(client, enterprise)).content)
    # lower case, spaces for hyphens, O for 0 and I or L for 1
    typed = code.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    checked = await verify(client, f" {number.lower()} ", typed)
    assert "真实有效" in verdict_of(checked.text)


def qr_codes(pdf: bytes) -> list[str]:
    """The text of every QR code on the report's pages, as a phone's camera would read it:
    each page rendered at 150 dpi (pdfium) and scanned (ZXing)."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        found = []
        for page in document:
            image = page.render(scale=150 / 72).to_pil()
            found += [code.text for code in zxingcpp.read_barcodes(image)]
        return found
    finally:
        document.close()


async def test_the_qr_code_opens_the_verify_form_of_the_report(
    client: httpx.AsyncClient, session: HubSession
) -> None:
    enterprise = await full_credit_file(session)
    response = await download(client, enterprise)
    number = response.headers["x-report-number"]
    assert qr_codes(response.content) == [f"http://127.0.0.1:8000/verify?number={number}"]
    # and the form it opens has the number filled in, for the code to be typed
    form = await client.get(f"/verify?number={number}")
    assert f'name="number" type="text" value="{number}"' in form.text


async def test_a_wrong_code_and_an_unknown_number_get_the_same_answer(
    client: httpx.AsyncClient, session: HubSession
) -> None:
    enterprise = await make_enterprise(session)
    await session.commit()
    number, code, _ = printed((await download(client, enterprise)).content)
    wrong_code = "0000-0000-0000-0000-0000" if code != "0000-0000-0000-0000-0000" else "1" * 20
    unknown_number = number[:-4] + ("ZZZZ" if not number.endswith("ZZZZ") else "0000")

    wrong = await verify(client, number, wrong_code)
    unknown = await verify(client, unknown_number, code)

    assert wrong.status_code == unknown.status_code == 200
    assert verdict_of(wrong.text) == verdict_of(unknown.text)
    assert "无此编号和核验码的报告记录" in verdict_of(wrong.text)
    assert enterprise.uscc not in wrong.text
    assert enterprise.uscc not in unknown.text


async def test_the_verify_form(client: httpx.AsyncClient) -> None:
    # a report's QR code opens the form with its number filled in
    page = await client.get("/verify?number=QCR-20250101-0123456789")
    assert page.status_code == 200
    assert '<form class="filters" action="/verify" method="post">' in page.text
    assert 'name="number" type="text" value="QCR-20250101-0123456789"' in page.text
    assert "<h1>核验信用报告</h1>" in page.text
    english = await client.get("/verify?lang=en")
    assert "<h1>Verify a credit report</h1>" in english.text
    # a field left empty is named, and nothing is looked up
    empty = await client.post("/verify", data={"number": "QCR-20250101-0123456789", "code": ""})
    assert empty.status_code == 400
    assert 'id="code-missing"' in empty.text
    assert 'aria-labelledby="verdict"' not in empty.text


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'{"number": "x", "code": "y"}', "application/json"),
        (b"number=x&code=" + b"y" * 5000, "application/x-www-form-urlencoded"),
        (b"number=\xff&code=y", "application/x-www-form-urlencoded"),
    ],
)
async def test_verify_answers_a_bad_form_with_a_400_page(
    client: httpx.AsyncClient, content: bytes, content_type: str
) -> None:
    response = await client.post("/verify", content=content, headers={"content-type": content_type})
    assert response.status_code == 400
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "the form must be URL-encoded, at most 2048 bytes" in response.text


def test_codes_are_long_enough_that_guessing_is_hopeless() -> None:
    assert CODE_BITS == 100


# -- rate limits ------------------------------------------------------------------------------


async def test_reports_have_a_budget_of_their_own(
    sessionmaker: async_sessionmaker[HubSession], session: HubSession, tmp_path: Path
) -> None:
    # given a budget of two reports per address
    enterprise = await make_enterprise(session)
    await session.commit()
    settings = Settings(
        reports=ReportSettings(rate_limit=2, rate_window=600),
        signing_key_path=tmp_path / "key.pem",
    )
    async with hub_client(settings, sessionmaker) as client:
        made = [await client.get(f"/reports/{enterprise.uscc}.pdf") for _ in range(2)]
        refused = await client.get(f"/reports/{enterprise.uscc}.pdf", headers=HTML)
        # pages still answer: the report budget is not the page budget
        page = await client.get(f"/enterprises/{enterprise.uscc}")
    assert [r.status_code for r in made] == [200, 200]
    assert [r.headers["x-ratelimit-remaining"] for r in made] == ["1", "0"]
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    assert refused.headers["cache-control"] == "no-store"
    assert "<h1>请求过于频繁</h1>" in refused.text
    assert page.status_code == 200
    count = await session.scalar(select(func.count()).select_from(CreditReport))
    assert count == 2


async def test_verify_has_a_budget_of_its_own(
    sessionmaker: async_sessionmaker[HubSession], tmp_path: Path
) -> None:
    settings = Settings(
        reports=ReportSettings(verify_rate_limit=3, verify_rate_window=600),
        signing_key_path=tmp_path / "key.pem",
    )
    async with hub_client(settings, sessionmaker) as client:
        guesses = [
            await verify(client, "QCR-20250101-0123456789", f"{n:04d}-AAAA-AAAA-AAAA-AAAA")
            for n in range(4)
        ]
        form = await client.get("/verify")
    assert [r.status_code for r in guesses] == [200, 200, 200, 429]
    assert int(guesses[-1].headers["retry-after"]) > 0
    assert "<h1>请求过于频繁</h1>" in guesses[-1].text
    # the empty form looks nothing up and stays available
    assert form.status_code == 200


# -- the signature ----------------------------------------------------------------------------


async def test_pyhanko_validates_the_signature_with_the_published_certificate(
    client: httpx.AsyncClient, session: HubSession, tmp_path: Path
) -> None:
    # given a report and the certificate the hub publishes
    enterprise = await make_enterprise(session)
    await session.commit()
    report = tmp_path / "report.pdf"
    report.write_bytes((await download(client, enterprise)).content)
    published = await client.get("/reports/certificate.pem")
    assert published.status_code == 200
    assert published.text.startswith("-----BEGIN CERTIFICATE-----")
    assert "PRIVATE KEY" not in published.text
    certificate = tmp_path / "certificate.pem"
    certificate.write_bytes(published.content)
    # when pyHanko's own command validates it with that certificate as the only trust root
    status, output = await pyhanko_validate(certificate, report)
    # then the signature is intact, trusted and covers the whole file
    assert status == 0, output
    assert re.fullmatch(r"QualityCreditHub:[0-9a-f]{64}:INTACT:TRUSTED,UNTOUCHED\n", output)
    # and one changed byte breaks it
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(report.read_bytes().replace(b"/Title", b"/Tytle", 1))
    status, output = await pyhanko_validate(certificate, tampered)
    assert status != 0


async def pyhanko_validate(trust: Path, pdf: Path) -> tuple[int, str]:
    """``pyhanko sign validate`` with ``trust`` as the one trust root: its status and output."""
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("pyhanko")),
        *("sign", "validate", "--trust", str(trust), "--trust-replace", str(pdf)),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()


# -- failures ---------------------------------------------------------------------------------


async def test_a_missing_font_is_a_503_page_naming_the_package(
    sessionmaker: async_sessionmaker[HubSession], session: HubSession, tmp_path: Path
) -> None:
    enterprise = await make_enterprise(session)
    await session.commit()
    settings = Settings(
        reports=ReportSettings(font_path=tmp_path / "no-such-font.ttc"),
        signing_key_path=tmp_path / "key.pem",
    )
    async with hub_client(settings, sessionmaker) as client:
        response = await client.get(f"/reports/{enterprise.uscc}.pdf", headers=HTML)
    assert response.status_code == 503
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "install the Debian package fonts-wqy-zenhei" in response.text
    # nothing was recorded for a report that was never issued
    count = await session.scalar(select(func.count()).select_from(CreditReport))
    assert count == 0


async def test_an_unusable_signing_key_issues_and_records_nothing(
    sessionmaker: async_sessionmaker[HubSession], session: HubSession, tmp_path: Path
) -> None:
    enterprise = await make_enterprise(session)
    await session.commit()
    (tmp_path / "report-signing.pem").write_text("not a key\n")
    settings = Settings(signing_key_path=tmp_path / "key.pem")
    async with hub_client(settings, sessionmaker) as client:
        response = await client.get(f"/reports/{enterprise.uscc}.pdf", headers=HTML)
        certificate = await client.get("/reports/certificate.pem", headers=HTML)
    assert response.status_code == 503
    assert "the report signing file must hold a PEM private key and its certificate" in (
        response.text
    )
    assert certificate.status_code == 503
    count = await session.scalar(select(func.count()).select_from(CreditReport))
    assert count == 0


async def test_a_ledger_that_cannot_be_written_is_a_503_page_not_a_500(
    client: httpx.AsyncClient, session: HubSession
) -> None:
    # given a database that refuses the ledger's writes and reads (the table is gone, until
    # the test's transaction is rolled back)
    enterprise = await make_enterprise(session)
    await session.execute(text("DROP TABLE credit_report"))
    await session.commit()
    # when
    report = await client.get(f"/reports/{enterprise.uscc}.pdf", headers=HTML)
    checked = await verify(client, "QCR-20250101-0123456789", "AAAA-AAAA-AAAA-AAAA-AAAA")
    # then
    for response in (report, checked):
        assert response.status_code == 503
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert "the ledger of credit reports cannot be reached just now" in response.text
