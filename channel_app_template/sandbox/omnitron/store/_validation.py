"""Request bodies into column values, DRF style: every field error at once, and the
``unique_together`` check."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import ApiError
from ..resources import Field, Spec
from ..timeutil import parse_datetime, parse_decimal
from ._codec import encode
from ._rows import RowStore
from ._schema import MAX_INT, quote


class Validation(RowStore):
    """``validate`` and ``check_unique``: the client's mistakes as DRF's 400 bodies."""

    def validate(
        self,
        spec: Spec,
        body: Any,
        *,
        partial: bool,
        allowed_readonly: frozenset[str] = frozenset(),
    ) -> dict[str, Any]:
        """Coerce a JSON body into column values, collecting every field error (DRF style)."""
        if not isinstance(body, dict):
            raise ApiError(
                400,
                {"non_field_errors": ["Invalid data. Expected a dictionary."], "code": "invalid"},
            )
        errors: dict[str, list[str]] = {}
        values: dict[str, Any] = {}
        for fld in spec.fields:
            if fld.readonly and fld.name not in allowed_readonly:
                continue
            if fld.name not in body:
                if fld.required and not partial:
                    errors[fld.name] = ["This field is required."]
                continue
            try:
                values[fld.name] = self._coerce(fld, body[fld.name])
            except ValueError as exc:
                errors[fld.name] = [str(exc)]
        if errors:
            raise ApiError(400, errors)
        return values

    def _coerce(self, fld: Field, value: Any) -> Any:
        if value is None:
            if fld.required:
                raise ValueError("This field may not be null.")
            return None
        kind = fld.kind
        if kind in ("int", "fk"):
            if isinstance(value, bool) or (
                isinstance(value, str) and not value.strip().isdigit() and not _is_int_text(value)
            ):
                raise ValueError("A valid integer is required.")
            try:
                number = int(value)
            except (TypeError, ValueError):
                raise ValueError("A valid integer is required.") from None
            if kind == "fk" and fld.target and not self.exists(fld.target, number):
                raise ValueError(f'Invalid pk "{number}" - object does not exist.')
            if fld.bounds is not None and number < fld.bounds[0]:
                raise ValueError(f"Ensure this value is greater than or equal to {fld.bounds[0]}.")
            if fld.bounds is not None and number > fld.bounds[1]:
                raise ValueError(f"Ensure this value is less than or equal to {fld.bounds[1]}.")
            if abs(number) > MAX_INT:
                raise ValueError("A valid integer is required.")
            return number
        if kind == "bool":
            if isinstance(value, bool):
                return value
            if str(value).lower() in ("true", "1"):
                return True
            if str(value).lower() in ("false", "0"):
                return False
            raise ValueError("Must be a valid boolean.")
        if kind == "dec":
            try:
                return parse_decimal(value)
            except ValueError:
                raise ValueError("A valid number is required.") from None
        if kind == "date":
            try:
                return parse_datetime(str(value))
            except ValueError:
                raise ValueError("Datetime has wrong format.") from None
        if kind == "json":
            return value
        text = value if isinstance(value, str) else str(value)
        if fld.max_length is not None and len(text) > fld.max_length:
            raise ValueError(f"Ensure this field has no more than {fld.max_length} characters.")
        if fld.choices is not None and text not in fld.choices:
            raise ValueError(f'"{text}" is not a valid choice.')
        return text

    def check_unique(
        self,
        spec: Spec,
        values: Mapping[str, Any],
        exclude_id: int | None = None,
        status: int = 400,
    ) -> None:
        """DRF's ``unique_together`` error for each declared unique set."""
        for fields in spec.uniques:
            if any(values.get(name) is None for name in fields):
                continue
            where = " AND ".join(f"t.{quote(name)} = ?" for name in fields)
            args: list[Any] = [encode(spec, name, values[name]) for name in fields]
            if exclude_id is not None:
                where += " AND t.id != ?"
                args.append(exclude_id)
            if self.count(spec.table, where, args):
                message = (
                    f"The fields {', '.join(fields)} must make a unique set."
                    if len(fields) > 1
                    else f"{spec.table[:-1]} with this {fields[0]} already exists."
                )
                raise ApiError(status, {"non_field_errors": [message], "code": "unique"})


def _is_int_text(value: str) -> bool:
    try:
        int(value)
    except ValueError:
        return False
    return True
