"""Every domain's models, imported once so that Alembic and the demo see the whole metadata."""

from hub.auth.audit import AuditRecord
from hub.auth.models import OAuthClient, RevokedToken
from hub.blacklist.models import BlacklistEntry, BlacklistRemoval, ListType
from hub.complaint.models import Complaint, ComplaintChannel, ComplaintStatus
from hub.credit.models import CreditEvaluation
from hub.db import Base
from hub.enterprise.models import CreditGrade, Enterprise, EnterpriseStatus, Industry, Region
from hub.licence.models import Licence, LicenceStatus, LicenceStatusEvent
from hub.quality.models import CheckLevel, CheckResult, FailedItem, Product, SpotCheck
from hub.recall.models import Recall, RecallKind, RecallStatus
from hub.report.models import CreditReport
from hub.warning.models import ConsumerWarning, Severity, warning_product, warning_recall
from search.models import OutboxEntry, SearchDocument  # noqa: F401  (tables of the search)

__all__ = [
    "AuditRecord",
    "Base",
    "BlacklistEntry",
    "BlacklistRemoval",
    "CheckLevel",
    "CheckResult",
    "Complaint",
    "ComplaintChannel",
    "ComplaintStatus",
    "ConsumerWarning",
    "CreditEvaluation",
    "CreditGrade",
    "CreditReport",
    "Enterprise",
    "EnterpriseStatus",
    "FailedItem",
    "Industry",
    "Licence",
    "LicenceStatus",
    "LicenceStatusEvent",
    "ListType",
    "OAuthClient",
    "Product",
    "Recall",
    "RecallKind",
    "RecallStatus",
    "Region",
    "RevokedToken",
    "Severity",
    "SpotCheck",
    "warning_product",
    "warning_recall",
]
