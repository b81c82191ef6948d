"""Django-filter style query strings turned into parameterised SQLite WHERE clauses.

Omnitron ignores filters it does not know (django-filter does), so unknown names are dropped and
reported back (``X-Sandbox-Ignored-Filters``) rather than refused. # [INF]
"""

# SQL here is built only from identifiers declared in resources; values are bound.
# ruff: noqa: S608
from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .errors import ApiError
from .resources import Kind, Spec
from .timeutil import parse_datetime, parse_decimal

LOOKUPS = frozenset(
    {
        "exact",
        "iexact",
        "in",
        "gt",
        "gte",
        "lt",
        "lte",
        "contains",
        "icontains",
        "startswith",
        "istartswith",
        "isnull",
    }
)
CONTROL_PARAMS = frozenset({"page", "limit", "sort", "format", "page_size"})
TRUE_WORDS = frozenset({"true", "1", "yes", "on"})
FALSE_WORDS = frozenset({"false", "0", "no", "off"})


@dataclass
class Where:
    """An AND of clauses; ``ignored`` lists query names that matched no field."""

    clauses: list[str] = field(default_factory=list)
    args: list[Any] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    def add(self, clause: str, *args: Any) -> None:
        self.clauses.append(clause)
        self.args.extend(args)

    def sql(self) -> str:
        return " AND ".join(self.clauses) if self.clauses else "1=1"


def coerce(kind: Kind, raw: str, name: str) -> Any:
    """Query-string text to the stored representation of a column of ``kind``."""
    try:
        if kind in ("int", "fk"):
            return int(raw)
        if kind == "bool":
            low = raw.strip().lower()
            if low in TRUE_WORDS:
                return 1
            if low in FALSE_WORDS:
                return 0
            raise ValueError(raw)
        if kind == "date":
            return parse_datetime(raw)
        if kind == "dec":
            return float(parse_decimal(raw, 6))
    except ValueError:
        raise ApiError(400, {name: [f"Enter a valid value: {raw!r}."]}) from None
    return raw


def _column(spec: Spec, path: str, alias: str) -> tuple[str, Kind] | None:
    """Resolve a filter path (``pk``, ``product__pk``, ``attributes__color``) to SQL and a kind."""
    if path in ("pk", "id"):
        return f"{alias}.id", "int"
    if path == "content_type_name" and "model" in spec.field_map:
        return f"{alias}.model", "str"
    if path in ("content_type__model", "content_type__name") and "model" in spec.field_map:
        return f"{alias}.model", "str"  # integration actions keep the model string beside the fk
    if path == "content_type__model" and "content_type" in spec.field_map:
        return f"{alias}.content_type", "str"
    if path in ("created_date", "modified_date") and spec.dates:
        return f"{alias}.{path}", "date"
    if path == "channel_id" and spec.channel_scoped:
        return f"{alias}.channel", "int"
    fld = spec.field_map.get(path)
    if fld is not None:
        kind: Kind = fld.kind
        if kind == "dec":
            return f"CAST({alias}.{_quote(fld.name)} AS REAL)", "dec"
        return f"{alias}.{_quote(fld.name)}", kind
    head, _, tail = path.partition("__")
    base = spec.field_map.get(head)
    if base is None:
        return None
    if base.kind == "fk" and tail in ("pk", "id"):
        return f"{alias}.{_quote(head)}", "int"
    if base.kind == "json" and tail:
        json_path = "$." + ".".join(json.dumps(part) for part in tail.split("__"))
        return f"json_extract({alias}.{_quote(head)}, {_sql_str(json_path)})", "str"
    return None


def _sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _quote(name: str) -> str:
    return f'"{name}"'


def _split_key(key: str) -> tuple[str, str]:
    parts = key.split("__")
    if len(parts) > 1 and parts[-1] in LOOKUPS:
        return "__".join(parts[:-1]), parts[-1]
    return key, "exact"


def _condition(expr: str, kind: Kind, lookup: str, raw: str, name: str) -> tuple[str, list[Any]]:
    if lookup == "isnull":
        wanted = coerce("bool", raw, name)
        return (f"{expr} IS NULL" if wanted else f"{expr} IS NOT NULL"), []
    if lookup == "in":
        values = [coerce(kind, part, name) for part in raw.split(",") if part.strip() != ""]
        if not values:
            return "0=1", []
        return f"{expr} IN ({','.join('?' * len(values))})", values
    if lookup == "iexact":
        return f"lower({expr}) = lower(?)", [raw]
    if lookup in ("contains", "icontains"):
        # SQLite LIKE is case-insensitive for ASCII; contains is close enough here. # [INF]
        return f"{expr} LIKE ? ESCAPE '\\'", [f"%{_like(raw)}%"]
    if lookup in ("startswith", "istartswith"):
        return f"{expr} LIKE ? ESCAPE '\\'", [f"{_like(raw)}%"]
    op = {"exact": "=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[lookup]
    if kind == "str" and raw == "" and lookup == "exact":
        return f"({expr} = '' OR {expr} IS NULL)", []
    value = coerce(kind, raw, name)
    if kind == "json" and lookup == "exact":
        return f"{expr} = ?", [raw]
    return f"{expr} {op} ?", [value]


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def build_where(
    spec: Spec,
    items: Iterable[tuple[str, str]],
    alias: str = "t",
    skip: frozenset[str] = frozenset(),
) -> Where:
    """AND across names, OR across repeated values of one name (``status=a&status=b``)."""
    grouped: dict[str, list[str]] = defaultdict(list)
    for key, value in items:
        if key in CONTROL_PARAMS or key in skip:
            continue
        grouped[key].append(value)
    where = Where()
    related = dict(spec.related)
    for key, values in grouped.items():
        path, lookup = _split_key(key)
        head, _, tail = path.partition("__")
        if head in related and tail:
            clause, args = _related_condition(related[head], tail, lookup, values, key, alias)
            if clause is None:
                where.ignored.append(key)
                continue
            where.add(clause, *args)
            continue
        resolved = _column(spec, path, alias)
        if resolved is None:
            where.ignored.append(key)
            continue
        expr, kind = resolved
        parts = [_condition(expr, kind, lookup, value, key) for value in values]
        clause = " OR ".join(f"({sql})" for sql, _ in parts)
        where.add(f"({clause})", *[arg for _, args in parts for arg in args])
    return where


def _related_condition(
    rel: Any, column: str, lookup: str, values: list[str], key: str, alias: str
) -> tuple[str | None, list[Any]]:
    kinds = dict(rel.kinds)
    if column not in kinds:
        return None, []
    parts = [_condition(f"r.{_quote(column)}", kinds[column], lookup, v, key) for v in values]
    fixed_sql = " AND ".join(f"r.{_quote(name)} = ?" for name, _ in rel.fixed) or "1=1"
    inner = " OR ".join(f"({sql})" for sql, _ in parts)
    args: list[Any] = [value for _, value in rel.fixed]
    args.extend(arg for _, a in parts for arg in a)
    clause = (
        f"{alias}.id IN (SELECT r.{_quote(rel.link_column)} FROM {rel.table} r "
        f"WHERE {fixed_sql} AND ({inner}))"
    )
    return clause, args


def build_order(spec: Spec, sort: str | None, alias: str = "t") -> str:
    """``sort=field`` / ``sort=-field`` / ``sort=a,-b``; ``id`` breaks ties so pages are stable."""
    terms: list[str] = []
    for token in (sort or "").split(","):
        token = token.strip()
        if not token:
            continue
        desc = token.startswith("-")
        name = token.lstrip("-+")
        resolved = _column(spec, name, alias)
        if resolved is None:
            continue  # unknown sort fields are ignored, as DRF's ordering filter does # [INF]
        terms.append(f"{resolved[0]} {'DESC' if desc else 'ASC'}")
    if not any(term.startswith(f"{alias}.id ") for term in terms):
        terms.append(f"{alias}.id ASC")
    return ", ".join(terms)
