"""Scene manifests (`scenes/*.json`): schema, validation and loading (server/catalog.py is built from them).

Invariants: a manifest that fails validation never reaches the catalog, and never stops the others from
loading; its error names the file and the field (`scenes/x.json: zones.0.area.min: ...`). Every text
meant for people exists at least in English (`en`); other languages fall back to it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    StringConstraints,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)

from .schema_types import RequiredProse as Prose
from .schema_types import Title, Vec3

SceneId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _needs_english(value: dict[str, str]) -> dict[str, str]:
    if "en" not in value:
        raise ValueError("an English ('en') text is required as the fallback")
    return value


class Spawn(Strict):
    position: Vec3
    yaw: float = Field(default=0.0, ge=-360, le=360)



class Area(Strict):
    min: Vec3
    max: Vec3


    @field_validator("max")
    @classmethod
    def _ordered(cls, value: list[float], info):  # type: ignore[no-untyped-def]
        low = info.data.get("min")
        if low is not None and any(a > b for a, b in zip(low, value, strict=True)):
            raise ValueError("every coordinate of max must be ≥ the same coordinate of min")
        return value


class Zone(Strict):
    id: SceneId
    name: Title
    description: Prose
    area: Area

    _en = field_validator("name", "description")(_needs_english)


class TourStop(Strict):
    id: SceneId
    position: Vec3
    yaw: float = Field(default=0.0, ge=-360, le=360)
    pitch: float = Field(default=0.0, ge=-89, le=89)
    narration: Prose

    _en = field_validator("narration")(_needs_english)


AssetName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]+\.(glb|gltf)$")]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class Lod(Strict):
    """One level of detail of an imported scene: a GLB in the assets directory, its geometric error (metres:
    how far its surface may stray from the full detail) and what it weighs once optimised for the browser."""

    asset: AssetName
    error: float = Field(ge=0, le=1000)
    triangles: int = Field(ge=0, le=100_000_000)
    bytes: int = Field(ge=0, le=4_000_000_000)


class Georeference(Strict):
    """Where the scene's origin was in the source model: `origin` is the source point (metres, source axes)
    that became (0, 0, 0); `up` is the source's up axis. Adding `origin` back (after turning +Y up into the
    source's up axis) gives the source's coordinates, e.g. a national grid's easting and northing."""

    origin: list[float] = Field(min_length=3, max_length=3)
    up: Literal["y", "z"]
    units: Literal["m"] = "m"


class ImportedFrom(Strict):
    """What an imported scene was made from: the source's content hash (a re-import of the same source with
    the same options is a no-op) and the options it was imported with."""

    name: Annotated[str, StringConstraints(max_length=255)]
    sha256: Sha256
    bytes: int = Field(ge=0)
    units: Literal["m", "cm", "mm", "in", "ft"]
    up: Literal["y", "z"]
    importer: int = Field(ge=1)


class Manifest(Strict):
    id: SceneId
    title: Title
    description: Prose
    asset: AssetName
    capacity: int = Field(ge=1, le=100_000)
    spawn: list[Spawn] = Field(min_length=1, max_length=64)
    zones: list[Zone] = Field(default_factory=list, max_length=256)
    tour: list[TourStop] = Field(default_factory=list, max_length=256)
    # Imported scenes only (server/importer); absent from hand-written manifests and from their documents.
    lods: list[Lod] | None = Field(default=None, min_length=1, max_length=8)  # coarsest first; lods[0] is `asset`
    georeference: Georeference | None = None
    source: ImportedFrom | None = None

    _en = field_validator("title", "description")(_needs_english)

    @model_serializer(mode="wrap")
    def _omit_unset_imports(self, handler: SerializerFunctionWrapHandler, info: SerializationInfo) -> dict:
        """Bundled scenes' documents stay exactly as they were: the import-only fields appear when set."""
        data = handler(self)
        for key in ("lods", "georeference", "source"):
            if data.get(key, 0) is None:
                del data[key]
        return data

    @model_validator(mode="after")
    def _first_level_is_the_asset(self) -> Manifest:
        if self.lods is not None and self.lods[0].asset != self.asset:
            raise ValueError("lods.0.asset must be the scene's asset (the first view)")
        return self

    @field_validator("lods")
    @classmethod
    def _coarsest_first(cls, lods: list[Lod] | None) -> list[Lod] | None:
        if lods is not None and any(a.error < b.error for a, b in zip(lods, lods[1:], strict=False)):
            raise ValueError("levels of detail go from the coarsest (largest error) to the finest")
        return lods

    @field_validator("zones", "tour")
    @classmethod
    def _unique_ids(cls, items: list[Zone] | list[TourStop]) -> list[Zone] | list[TourStop]:
        ids = [item.id for item in items]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"ids must be unique; repeated: {', '.join(duplicates)}")
        return items


class ManifestError(Exception):
    """A manifest that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class LoadedManifest:
    path: Path
    manifest: Manifest


def _describe(path: Path, exc: ValidationError) -> str:
    parts = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(p) for p in err["loc"]) or "(document)"
        parts.append(f"{where}: {err['msg']}")
    return f"{path.name}: " + "; ".join(parts)


def load_manifest(path: Path, max_bytes: int = 1_000_000) -> Manifest:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ManifestError(f"{path.name}: cannot read file ({exc.strerror})") from None
    if len(raw) > max_bytes:
        raise ManifestError(f"{path.name}: larger than {max_bytes} bytes")
    try:
        document = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{path.name}: not valid JSON ({exc})") from None
    try:
        manifest = Manifest.model_validate(document)
    except ValidationError as exc:
        raise ManifestError(_describe(path, exc)) from None
    if manifest.id != path.stem:
        raise ManifestError(f"{path.name}: id: must match the file name ('{path.stem}')")
    return manifest


def load_manifests(scenes_dir: Path) -> tuple[list[LoadedManifest], list[str]]:
    """Every valid manifest in `scenes_dir`, sorted by id, and one error message per broken one."""
    loaded, errors = [], []
    for path in sorted(scenes_dir.glob("*.json")):
        try:
            loaded.append(LoadedManifest(path, load_manifest(path)))
        except ManifestError as exc:
            errors.append(str(exc))
    return loaded, errors

