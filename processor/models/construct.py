"""Building models from values that were validated already, on the hot path.

`Model.model_construct` fills defaults and sorts extras in Python, field by field; these
models are built per claim from values that are complete and already checked, so the
instance is assembled directly. Only for values that passed validation (or that the code
itself produced with the field types): nothing here checks them.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)


def construct(
    cls: type[M],
    values: dict[str, Any],
    fields_set: set[str] | None = None,
    extra: dict[str, Any] | None = None,
) -> M:
    """An instance of `cls` with `values` as its declared fields (every one present) and
    `extra` as its extra fields."""
    model = cls.__new__(cls)
    object.__setattr__(model, "__dict__", values)
    object.__setattr__(
        model, "__pydantic_fields_set__", set(values) if fields_set is None else set(fields_set)
    )
    object.__setattr__(model, "__pydantic_extra__", dict(extra) if extra is not None else None)
    object.__setattr__(model, "__pydantic_private__", None)
    return model
