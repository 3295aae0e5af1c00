"""Credit reports and their verification: ``/reports/{uscc}.pdf``, ``/verify`` and the signing
certificate at ``/reports/certificate.pem``.

A report is made from the public tier's read of the credit page (``queries/enterprise.graphql``
with ``MAX_PAGE_SIZE`` records of each kind where the page shows 20), through the portal's
``read``, which spends the caller's public budget as any page does, so it can hold nothing an
anonymous API caller could not read. Making one is expensive (a PDF set and signed), so
reports also spend a budget of their own per address, and ``/verify`` has one as well: with it
and codes of 100 bits, the form cannot be used to guess codes, and
since an unknown number and a wrong code get the same answer, nor to find numbers.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import parse_qsl

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from hub.kit.pagination import MAX_PAGE_SIZE
from hub.portal.language import Choice, choose
from hub.portal.pages import Portal
from hub.portal.reads import PublicBudget
from hub.portal.report_document import render_report, shown_instant
from hub.report.errors import ReportUnavailableError
from hub.report.font import register_font
from hub.report.service import Issue, IssuedReport
from hub.report.settings import ReportSettings
from hub.report.signing import LazySigner

log = logging.getLogger("hub.portal")

#: The most a /verify form may send: a number and a code are a few dozen bytes.
MAX_FORM_BYTES = 2_048
CERTIFICATE_FILENAME = "quality-credit-hub-reports.pem"


class ReportLedger(Protocol):
    """The record of issued reports; each call is a unit of work (``hub.report.service``)."""

    async def record(
        self, issue: Issue, *, uscc: str, enterprise_name: str, sha256: str
    ) -> IssuedReport: ...

    async def verify(self, number: str, code: str) -> IssuedReport | None: ...


class ReportPages:
    """The report routes, beside the portal's pages and rendered like them.

    ``report_budget`` and ``verify_budget`` count requests per address, each against its own
    small rate; ``base_url`` is where the public reaches the hub (printed in every report).
    """

    def __init__(
        self,
        portal: Portal,
        ledger: ReportLedger,
        *,
        report_budget: PublicBudget,
        verify_budget: PublicBudget,
        base_url: str,
        settings: ReportSettings,
        signer: LazySigner,
    ) -> None:
        self.portal = portal
        self.ledger = ledger
        self.report_budget = report_budget
        self.verify_budget = verify_budget
        self.verify_url = f"{base_url}/verify"
        self.certificate_url = f"{base_url}/reports/certificate.pem"
        self.settings = settings
        self.signer = signer

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/reports/certificate.pem", self.certificate, name="report_certificate"),
            Route("/reports/{uscc}.pdf", self.report, name="report"),
            Route("/verify", self.verify, methods=["GET", "POST"], name="verify"),
        ]

    # -- /reports/{uscc}.pdf -----------------------------------------------------------------

    async def report(self, request: Request) -> Response:
        choice = choose(request)
        uscc = request.path_params["uscc"]
        # The read first: a malformed or unknown USCC costs a page's budget, not a report's.
        read = await self.portal.read(
            request, choice, "enterprise", {"uscc": uscc, "first": MAX_PAGE_SIZE}, uscc=uscc
        )
        if isinstance(read, Response):
            return read
        if request.method == "HEAD":
            # A link checker's or a prefetcher's look: no report is issued for it.
            return Response(
                media_type="application/pdf", headers={**read.headers, "Cache-Control": "no-store"}
            )
        admission = await self.report_budget(request)
        headers = dict(admission.headers)
        if not admission.allowed:
            headers["Retry-After"] = str(admission.retry_after)
            return self.portal.problem(
                request, choice, 429, headers, retry_after=admission.retry_after
            )
        enterprise = read.data["enterprise"]
        issue = Issue.new()
        try:
            pdf = await to_thread.run_sync(self._make, enterprise, issue, choice)
        except ReportUnavailableError as error:
            log.error("a credit report cannot be made: %s", error.message)
            return self.portal.problem(request, choice, 503, headers, problems=[error.message])
        sha256 = hashlib.sha256(pdf).hexdigest()
        # Recorded before it is sent: a report the ledger does not know is never handed out.
        try:
            await self.ledger.record(
                issue, uscc=enterprise["uscc"], enterprise_name=enterprise["name"], sha256=sha256
            )
        except ReportUnavailableError as error:
            return self.portal.problem(request, choice, 503, headers, problems=[error.message])
        filename = f"credit-report-{enterprise['uscc']}-{issue.number}.pdf"
        return Response(
            pdf,
            media_type="application/pdf",
            headers={
                **headers,
                "Content-Disposition": f'attachment; filename="{filename}"',
                # Each request issues a new report, with its own number and code.
                "Cache-Control": "no-store",
                "X-Report-Number": issue.number,
                "X-Report-SHA256": sha256,
            },
        )

    def _make(self, enterprise: Mapping[str, Any], issue: Issue, choice: Choice) -> bytes:
        """Set, then sign: the blocking part, in a worker thread."""
        font = register_font(self.settings.font_path, self.settings.font_index)
        pdf = render_report(
            enterprise,
            issue,
            verify_url=self.verify_url,
            certificate_url=self.certificate_url,
            language=choice.language,
            font=font,
        )
        return self.signer.get().sign(pdf)

    async def certificate(self, request: Request) -> Response:
        try:
            signer = await to_thread.run_sync(self.signer.get)
        except ReportUnavailableError as error:
            log.error("the report signing certificate cannot be read: %s", error.message)
            return self.portal.problem(request, choose(request), 503, {}, problems=[error.message])
        return Response(
            signer.certificate_pem,
            media_type="application/x-pem-file",
            headers={
                "Content-Disposition": f'attachment; filename="{CERTIFICATE_FILENAME}"',
                "Cache-Control": "public, max-age=3600",
            },
        )

    # -- /verify -------------------------------------------------------------------------------

    async def verify(self, request: Request) -> Response:
        choice = choose(request)
        if request.method == "GET":
            # The empty form (a report's QR code fills in the number): no lookup, no budget.
            number = request.query_params.get("number", "").strip()[:64]
            return self._verify_page(request, choice, {"number": number})
        form = await _form(request)
        if form is None:
            return self.portal.problem(
                request,
                choice,
                400,
                {},
                problems=[f"the form must be URL-encoded, at most {MAX_FORM_BYTES} bytes"],
            )
        number = form.get("number", "").strip()
        code = form.get("code", "").strip()
        context: dict[str, Any] = {"number": number[:64]}
        missing = [name for name, value in (("number", number), ("code", code)) if not value]
        if missing:
            return self._verify_page(
                request, choice, {**context, "missing": missing}, status_code=400
            )
        admission = await self.verify_budget(request)
        headers = dict(admission.headers)
        if not admission.allowed:
            headers["Retry-After"] = str(admission.retry_after)
            return self.portal.problem(
                request, choice, 429, headers, retry_after=admission.retry_after
            )
        try:
            found = await self.ledger.verify(number[:64], code[:64])
        except ReportUnavailableError as error:
            return self.portal.problem(request, choice, 503, headers, problems=[error.message])
        return self._verify_page(
            request,
            choice,
            {**context, "checked": True, "report": found},
            headers=headers,
        )

    def _verify_page(
        self,
        request: Request,
        choice: Choice,
        context: Mapping[str, Any],
        *,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        return self.portal.pages.render(
            request,
            choice,
            "verify.html",
            {
                "checked": False,
                "report": None,
                "missing": [],
                "shown_instant": shown_instant,
                **context,
            },
            status_code=status_code,
            headers=headers,
            # An answer about one report is for the one who asked; the empty form may be kept.
            cacheable=request.method == "GET",
        )


async def _form(request: Request) -> dict[str, str] | None:
    """The fields of a URL-encoded form, None when it is not one or is too long.

    Read here rather than by Starlette's ``request.form()``, which needs python-multipart for
    a form this small, and read no further than ``MAX_FORM_BYTES``.
    """
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=False, max_num_fields=10)
    except (UnicodeDecodeError, ValueError):
        return None
    return dict(pairs)
