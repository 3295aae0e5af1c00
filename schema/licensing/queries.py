"""Root fields of the licensing subgraph."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from hub.kit.codes import parse_licence_number, parse_region_code
from hub.licence.models import LicenceStatus as LicenceStatusEnum
from hub.licence.repository import LicenceFilter, LicenceRepository
from schema.access import argument, input_field, resolver
from schema.context import Info
from schema.licensing import loaders
from schema.licensing.types import Licence
from schema.pagination import After, Connection, First, connection, request


@strawberry.input(description="Which licences to list; all conditions must hold.")
class LicenceFilterInput:
    status: LicenceStatusEnum | None = input_field(description="Current status.")
    region_code: str | None = input_field(
        description="GB/T 2260 code of the holder's registration; a province includes its parts."
    )
    product: str | None = input_field(description="Product unit contains this text.")
    valid_on: date | None = input_field(description="Valid on this date by its validity period.")
    expires_before: date | None = input_field(description="Validity ends before this date.")


@strawberry.type
class LicensingQuery:
    @resolver(description="A production licence by its number; null if not on record.")
    async def licence(
        self, info: Info, number: Annotated[str, argument("Licence number, e.g. XK16-108-00001.")]
    ) -> Licence | None:
        row = await info.context.loader(loaders.licence_by_number).load(
            parse_licence_number(number)
        )
        return Licence.from_row(row) if row else None

    @resolver(description="Production licences, newest validity first.")
    async def licences(
        self,
        info: Info,
        filter: Annotated[LicenceFilterInput | None, argument("Conditions on the list.")] = None,
        first: First = 20,
        after: After = None,
    ) -> Connection[Licence]:
        given = filter or LicenceFilterInput()
        domain_filter = LicenceFilter(
            status=given.status,
            region_code=None
            if given.region_code is None
            else parse_region_code(given.region_code, "filter.regionCode"),
            product=given.product,
            valid_on=given.valid_on,
            expires_before=given.expires_before,
        )
        repository = LicenceRepository(info.context.session, info.context.principal)
        page = await repository.find(domain_filter, request(first, after, 2))
        return connection(page, Licence.from_row, lambda: repository.total(domain_filter))
