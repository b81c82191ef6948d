"""How a resource is declared: ``Field``, ``Related`` and ``Spec``, and the shorthands the
declarations use (``F``, ``fk``, the shared ``CHANNEL`` and ``EXTRA`` fields)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["int", "str", "bool", "dec", "date", "json", "fk"]


@dataclass(frozen=True)
class Field:
    """One column. ``hidden`` columns are stored and filterable but never serialized."""

    name: str
    kind: Kind = "str"
    default: Any = None
    required: bool = False
    max_length: int | None = None
    target: str | None = None  # table an ``fk`` points at (validated on write)
    readonly: bool = False  # server-managed: ignored in request bodies
    hidden: bool = False
    bounds: tuple[int, int] | None = None  # inclusive range of an ``int`` field
    choices: tuple[str, ...] | None = None  # the enum of a ``str`` field


@dataclass(frozen=True)
class Related:
    """A filterable relation (``mapping__code__exact``) implemented as an ``id IN (subquery)``."""

    table: str
    link_column: str
    fixed: tuple[tuple[str, Any], ...]
    kinds: tuple[tuple[str, Kind], ...]


@dataclass(frozen=True)
class Spec:
    """A resource: SQLite table ``table``, exposed under ``path`` with the given id keys."""

    table: str
    fields: tuple[Field, ...]
    model: str | None = None  # content-type model string, when the resource has one
    id_keys: tuple[str, ...] = ("pk",)
    dates: bool = True  # created_date / modified_date columns
    uniques: tuple[tuple[str, ...], ...] = ()
    related: tuple[tuple[str, Related], ...] = ()
    indexes: tuple[tuple[str, ...], ...] = ()
    field_map: dict[str, Field] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        self.field_map.update({f.name: f for f in self.fields})

    @property
    def channel_scoped(self) -> bool:
        return "channel" in self.field_map


def F(name: str, kind: Kind = "str", default: Any = None, **kw: Any) -> Field:
    return Field(name, kind, default, **kw)


def fk(name: str, target: str, **kw: Any) -> Field:
    return Field(name, "fk", None, target=target, **kw)


CHANNEL = fk("channel", "channels", readonly=True)
POSITIVE_INT = (0, 2_147_483_647)  # stock fields: "min: 0, max: 2147483647" [DOC]
EXTRA = F("extra_field", "json", {})
