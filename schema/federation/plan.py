"""The federation decisions, in one place: who serves which field, which types are entities.

- **Fields follow their package.** A field declared in ``schema/<subgraph>/`` is served by that
  subgraph, whatever type it is on: ``Product.recalls`` is declared by the quality package and
  served by quality, ``Recall.product`` by recalls. The root fields of ``schema.build``
  (``node``, ``nodes``) are served by credit, which therefore knows every Node type.
- **Node types are entities.** Every type with a global ID can be resolved by any subgraph that
  has it, keyed by its ``id``; ``Enterprise`` is keyed by its USCC, the key people know. In a
  subgraph an entity carries only the fields of that subgraph, its key, and the fields shared by
  every Node (``id``, marked ``@shareable``).
- **Other object types are value types.** They carry all their fields wherever they appear, and
  a value type that appears in more than one subgraph (``PageInfo``, ``Region``, connections)
  is ``@shareable`` in each, because every one of them resolves it the same way.
"""

from __future__ import annotations

from strawberry.types.field import StrawberryField

from schema.access import access_of
from schema.federation import Subgraph

#: Modules whose declared fields belong to a subgraph although they are in no subgraph package.
ROOT_MODULES = {"schema.build": Subgraph.CREDIT}

#: Modules whose fields every type carries in each subgraph that has the type.
SHARED_MODULES = frozenset({"schema.node", "schema.pagination"})

#: Entities keyed by something other than their global ID.
NATURAL_KEYS = {"Enterprise": "uscc"}
ID_KEY = "id"

#: The subgraph whose ``node(id:)`` resolves global IDs of every type.
NODE_SUBGRAPH = Subgraph.CREDIT


class UnplannedFieldError(LookupError):
    """A declared field in a module no subgraph serves: say where it belongs in this file."""


def owner(field: StrawberryField) -> Subgraph | None:
    """The subgraph that serves ``field``; None for a field that goes wherever its type goes.

    Fields without an access declaration are Strawberry's and federation's own (``_service``,
    ``_entities``); the declared ones are placed by the module that declares them.
    """
    if access_of(field) is None:
        return None
    module = getattr(field.origin, "__module__", None) or ""
    if module in SHARED_MODULES:
        return None
    if module in ROOT_MODULES:
        return ROOT_MODULES[module]
    package = module.split(".")
    if len(package) >= 2 and package[0] == "schema":
        try:
            return Subgraph(package[1])
        except ValueError:
            pass
    raise UnplannedFieldError(
        f"no subgraph serves {field.python_name!r}, declared in {module!r}: "
        "give its package a Subgraph or list the module in schema/federation/plan.py"
    )


def key_of(type_name: str) -> str:
    """The ``@key`` fields of the entity ``type_name``."""
    return NATURAL_KEYS.get(type_name, ID_KEY)
