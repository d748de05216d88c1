"""Schema types shared by every validated input: scene manifests and the HTTP API alike.

Defined once so a title or a coordinate has the same limits wherever it is accepted. Invariants: a text per
language is keyed by a BCP 47-like code and bounded; a coordinate is a finite number within ±MAX_COORD metres.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, GetJsonSchemaHandler, StringConstraints

MAX_COORD = 10_000.0  # metres: a city block, not a planet; keeps every number finite and sane
TITLE_MAX = 120
TEXT_MAX = 4000



class _OnlyLanguages:
    """Says in the JSON Schema what validation does: a key that is not a language code is refused."""

    @classmethod
    def __get_pydantic_json_schema__(cls, core: Any, handler: GetJsonSchemaHandler) -> dict[str, Any]:
        schema = handler(core)
        schema["additionalProperties"] = False
        return schema


LangCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")]
# A title per language, {"en": "...", "fr": "..."}: at least one language, each non-empty.
Title = Annotated[
    dict[LangCode, Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TITLE_MAX)]],
    Field(min_length=1, max_length=32), _OnlyLanguages(),
]
# Prose per language that may be left out (a hotspot's description, a proposal's summary): possibly empty.
Prose = Annotated[
    dict[LangCode, Annotated[str, StringConstraints(strip_whitespace=True, max_length=TEXT_MAX)]],
    Field(max_length=32), _OnlyLanguages(),
]
# Prose that must be there (a scene's description, a zone's, a tour stop's narration): each text non-empty.
RequiredProse = Annotated[
    dict[LangCode, Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TEXT_MAX)]],
    Field(min_length=1, max_length=32), _OnlyLanguages(),
]
Coordinate = Annotated[float, Field(ge=-MAX_COORD, le=MAX_COORD, allow_inf_nan=False)]
Vec3 = Annotated[list[Coordinate], Field(min_length=3, max_length=3)]
