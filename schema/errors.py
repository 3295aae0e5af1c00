"""Every error a caller sees carries ``extensions.code``; nothing internal leaks.

Expected errors (HubError) pass their code and details on. Anything else is logged with its
traceback and replaced by a masked INTERNAL error, so no SQL, driver message or stack trace
reaches the response. This runs in ``Schema.process_errors``, the one hook Strawberry calls for
every error of every phase (a syntax error raised by ``DocumentParsing`` never reaches an
extension's ``on_operation``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from graphql import (
    ArgumentNode,
    GraphQLError,
    GraphQLInputType,
    GraphQLSyntaxError,
    ValueNode,
)
from graphql.language.visitor import SKIP, VisitorAction
from graphql.utilities.validate_input_value import validate_input_literal
from graphql.validation import ValidationContext, ValuesOfCorrectTypeRule
from strawberry.extensions import SchemaExtension

from hub.errors import HubError

log = logging.getLogger("hub.graphql")

BAD_USER_INPUT = "BAD_USER_INPUT"


class ValuesOfCorrectTypeWithCode(ValuesOfCorrectTypeRule):
    """A literal argument of the wrong type (a date that is not one) is the caller's bad input.

    graphql-core reports some of these without a location; this rule names the argument
    (``filter.listedAfter``) and points at it, like every other BAD_USER_INPUT.
    """

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self._argument: str | None = None

    def enter_argument(self, node: ArgumentNode, *_: Any) -> None:
        self._argument = node.name.value

    def leave_argument(self, *_: Any) -> None:
        self._argument = None

    def is_valid_value_node(
        self, node: ValueNode, input_type: GraphQLInputType | None
    ) -> VisitorAction:
        if input_type:

            def on_error(error: GraphQLError, path: list[str | int]) -> None:
                names = [self._argument] if self._argument else []
                names += [str(part) for part in path]
                argument = ".".join(names)
                self.report_error(
                    GraphQLError(
                        f"Invalid value for '{argument}': {error.message}"
                        if argument
                        else error.message,
                        nodes=error.nodes or node,
                        extensions={"code": BAD_USER_INPUT, "argument": argument},
                    )
                )

            validate_input_literal(
                node, input_type, on_error, None, None, self.context.hide_suggestions
            )
        return SKIP


class InputRules(SchemaExtension):
    """Swaps graphql-core's literal-value rule for one that marks its errors BAD_USER_INPUT.

    Listed before ``DocumentValidation``, which validates with the rules it leaves.
    """

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        context.validation_rules = tuple(
            ValuesOfCorrectTypeWithCode if rule is ValuesOfCorrectTypeRule else rule
            for rule in context.validation_rules
        )
        yield


def _code_of(error: GraphQLError) -> str:
    """The code of ``error``, as the place that raised it decided.

    Each phase codes its own errors where they arise (schema.documents: the operation's
    choice, validation by the rule that failed, the variables; schema.limits: the limits), so
    nothing here reads a message. An error nobody coded is a bug: logged, and masked.
    """
    original = error.original_error
    if isinstance(original, HubError):
        return original.code
    if original is not None and not isinstance(original, GraphQLError):
        return "INTERNAL"
    if error.extensions and "code" in error.extensions:
        return str(error.extensions["code"])
    if isinstance(error, GraphQLSyntaxError):
        return "GRAPHQL_PARSE_FAILED"
    return "INTERNAL"


def format_error(error: GraphQLError) -> None:
    """Rewrite ``error`` in place into what the caller may see.

    In place, because Strawberry has already put the same error objects into the result it
    returns for errors raised before execution (a syntax error, say).
    """
    code = _code_of(error)
    original = error.original_error
    if isinstance(original, HubError):
        error.message = original.message
        error.extensions = {"code": code, **original.extensions}
    elif code == "INTERNAL":
        error.message = "Internal error. It has been logged; please try again later."
        error.extensions = {"code": code}
    else:
        error.extensions = {**(error.extensions or {}), "code": code}
    error.original_error = None


def publish_errors(errors: list[GraphQLError]) -> None:
    """Log what was unexpected, with its traceback, then give every error its public form."""
    for error in errors:
        if _code_of(error) == "INTERNAL":
            log.error("unexpected error in %s", error.path, exc_info=error.original_error or error)
        format_error(error)
