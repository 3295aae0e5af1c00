"""Types of the public statistics: spot-check failure rates, recalls and listings per month."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from hub.auth.principal import ANONYMOUS
from hub.blacklist.repository import BlacklistRepository
from hub.db import HubSession
from hub.errors import BadUserInputError
from hub.kit.memo import SlowReads
from hub.kit.months import MonthCount, parse_month
from hub.kit.suppression import SUPPRESSION_THRESHOLD
from hub.quality.repository import FailureRate, RateGrouping, SpotCheckRepository
from hub.recall.repository import RecallRepository
from schema.access import argument, field, resolver
from schema.context import Info
from schema.credit import loaders as credit_loaders
from schema.credit.types import Region
from schema.figures import kept, kept_by

FromMonth = Annotated[
    str | None,
    argument("First month counted, YYYY-MM (Asia/Shanghai); null: from the first on record."),
]
ToMonth = Annotated[
    str | None,
    argument(
        "Last month counted, YYYY-MM (Asia/Shanghai); null, or a month not yet over: the "
        "last month that is over."
    ),
]

_RULE = (
    f"A count below {SUPPRESSION_THRESHOLD} is withheld (null), and so are the complementary "
    "counts that keep it from being worked out from a total, by the rules of the public "
    "complaint statistics."
)
_WITHHELD = f"Counts below {SUPPRESSION_THRESHOLD} are withheld, with complementary ones."
_KEPT = (
    "Counted over every published spot check, so kept up to five minutes: a check published "
    "now counts within five minutes. "
)


@strawberry.type(
    description="Spot checks of one province or one product category, and how many failed. "
    "A group is two cells of its table, its passed and its failed checks; a withheld cell "
    "leaves both counts and the rate null."
)
class SpotCheckRate:
    region: Region | None = field(
        description="Province where the samples were taken, in spotChecksByRegion."
    )
    category: str | None = field(description="Product category, in spotChecksByCategory.")
    checks: int | None = field(
        description="Number of spot checks; null when a cell of the group is withheld."
    )
    failed: int | None = field(
        description="How many of the spot checks failed; null when withheld."
    )
    failure_rate: float | None = field(
        description="failed / checks, from 0 to 1; null when either is withheld."
    )
    withheld_cells: int = field(
        description="How many of the group's two cells (passed, failed) are withheld: cells, "
        "not checks, since the number of checks left out would give them away."
    )

    @classmethod
    def of(cls, row: FailureRate, region: Region | None = None) -> SpotCheckRate:
        return cls(
            region=region,
            category=None if region is not None else row.key,
            checks=row.checks,
            failed=row.failed,
            failure_rate=row.rate,
            withheld_cells=row.withheld_cells,
        )


@strawberry.type(description="The count of one month, or the fact that it is withheld.")
class MonthlyCount:
    month: str = field(description="The month, YYYY-MM (Asia/Shanghai).")
    count: int | None = field(description="The count of the month; null when withheld.")
    withheld: bool = field(description="Whether the count is withheld.")

    @classmethod
    def of(cls, row: MonthCount) -> MonthlyCount:
        return cls(month=row.month, count=row.count, withheld=row.count is None)


async def _failure_rates(session: HubSession, now: datetime, by: RateGrouping) -> list[FailureRate]:
    """The spot checks' rates: the one statistic that reads millions of rows at scale (two
    million spot checks at 1,000,000 enterprises, seconds) and takes no argument, so that
    ``kept`` holds at most two of them a month. The months' series are counted in the request
    (tens of thousands of recalls or listings, milliseconds): kept, the months a caller may
    choose would let one push the rates out of the memo."""
    return await SpotCheckRepository(session, ANONYMOUS).failure_rates(by, now)


def _range(from_month: str | None, to_month: str | None) -> tuple[str | None, str | None]:
    first = None if from_month is None else parse_month(from_month, "fromMonth")
    last = None if to_month is None else parse_month(to_month, "toMonth")
    if first is not None and last is not None and first > last:
        raise BadUserInputError("fromMonth", f"{first} is after toMonth ({last})")
    return first, last


@strawberry.type(
    description="Figures computed from published records only, the same for every caller and "
    "on the portal's statistics page: what the public lists hold, counted. Each covers the "
    "months that are over (Asia/Shanghai), up to the last one. " + _RULE
)
class Statistics:
    now: strawberry.Private[datetime]

    @resolver(
        description="Published spot checks by the province where the samples were taken, with "
        "their failure rate; provinces without a spot check are left out. " + _KEPT + _WITHHELD
    )
    async def spot_checks_by_region(self, info: Info) -> list[SpotCheckRate]:
        rows = await kept(info, self.now, _failure_rates, RateGrouping.PROVINCE)
        loader = info.context.loader(credit_loaders.region_by_code)
        regions = await loader.load_many([row.key for row in rows])
        return [
            SpotCheckRate.of(row, Region(code=row.key, name=found.name if found else ""))
            for row, found in zip(rows, regions, strict=True)
        ]

    @resolver(
        description="Published spot checks by the category of the product sampled, with their "
        "failure rate; categories without a spot check are left out. " + _KEPT + _WITHHELD
    )
    async def spot_checks_by_category(self, info: Info) -> list[SpotCheckRate]:
        rows = await kept(info, self.now, _failure_rates, RateGrouping.CATEGORY)
        return [SpotCheckRate.of(row) for row in rows]

    @resolver(
        description="Published recalls by the month they started, oldest first: every month "
        "of the range from the first on record, zero included. " + _WITHHELD
    )
    async def recalls_by_month(
        self, info: Info, from_month: FromMonth = None, to_month: ToMonth = None
    ) -> list[MonthlyCount]:
        first, last = _range(from_month, to_month)
        repository = RecallRepository(info.context.session, info.context.principal)
        rows = await repository.counts_by_month(first, last, self.now)
        return [MonthlyCount.of(row) for row in rows]

    @resolver(
        description="Blacklist listings the public sees (published, in their publicity period, "
        "not removed) by the month they were listed, oldest first: every month of the range "
        "from the first on record, zero included. " + _WITHHELD
    )
    async def blacklist_listings_by_month(
        self, info: Info, from_month: FromMonth = None, to_month: ToMonth = None
    ) -> list[MonthlyCount]:
        first, last = _range(from_month, to_month)
        repository = BlacklistRepository(info.context.session, info.context.principal)
        rows = await repository.counts_by_month(first, last, self.now)
        return [MonthlyCount.of(row) for row in rows]


async def read_ahead(slow: SlowReads, now: datetime) -> None:
    """The spot checks' failure rates, the statistics that take seconds at scale (whatever the
    months asked), read when the app starts, so that no visitor waits for them."""
    for grouping in RateGrouping:
        await kept_by(slow, now, _failure_rates, grouping)
