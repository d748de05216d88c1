"""Pieces of request and response models shared by the resources (the field types are in server/schema_types.py)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


# A PATCH field that may be left out but, when given, must not be null: the document says exactly that.
Optional: Any = Field(default=None, json_schema_extra=_no_default)
VERSION = Field(ge=0, le=2**53)  # optimistic concurrency: the version an edit was made against


class Out(BaseModel):
    """A response body (documentation and tests; handlers build plain dicts)."""

    model_config = ConfigDict(extra="forbid")


class ErrorDetail(Out):
    code: str
    message: str


class Error(Out):
    error: ErrorDetail


class Ok(Out):
    ok: bool
