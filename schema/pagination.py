"""Relay connections over keyset pages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Generic, TypeVar

import strawberry

from hub.kit.pagination import MAX_PAGE_SIZE, Page, PageRequest, page_request
from schema.access import argument, field, resolver

T = TypeVar("T")

First = Annotated[
    int | None,
    argument(f"How many items to return, from 0 to {MAX_PAGE_SIZE} (default 20)."),
]
After = Annotated[
    str | None,
    argument("Return the items after this cursor (an `endCursor` or edge `cursor`)."),
]


def request(first: int | None, after: str | None, width: int, prefix: str = "") -> PageRequest:
    return page_request(first, after, width, argument_prefix=prefix)


@strawberry.type(description="Where a page stands in its list, for fetching the next one.")
class PageInfo:
    has_next_page: bool = field(description="Whether more items follow this page.")
    has_previous_page: bool = field(
        description="Whether items precede this page (true when `after` was given)."
    )
    start_cursor: str | None = field(description="Cursor of the first item of the page.")
    end_cursor: str | None = field(
        description="Cursor of the last item of the page; pass it as `after` for the next page."
    )


@strawberry.type(description="An item of a connection with its cursor.")
class Edge(Generic[T]):
    cursor: str = field(description="Opaque position of this item in its list.")
    node: T = field(description="The item.")


@strawberry.type(description="A page of a list, Relay style.")
class Connection(Generic[T]):
    edges: list[Edge[T]] = field(description="The items of the page with their cursors.")
    nodes: list[T] = field(description="The items of the page.")
    page_info: PageInfo = field(description="How to fetch the next page.")
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @resolver(description="How many items the whole list holds (with the same filter).")
    async def total_count(self) -> int:
        return await self.count()


def connection(
    page: Page[Any], convert: Callable[[Any], T], count: Callable[[], Awaitable[int]]
) -> Connection[T]:
    nodes = [convert(item) for item in page.items]
    return Connection(
        edges=[Edge(cursor=c, node=n) for c, n in zip(page.cursors, nodes, strict=True)],
        nodes=nodes,
        page_info=PageInfo(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            start_cursor=page.cursors[0] if page.cursors else None,
            end_cursor=page.cursors[-1] if page.cursors else None,
        ),
        count=count,
    )
