"""The manifest fields an import writes (lods, georeference, source): validated with the field named, absent from
hand-written manifests and their documents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from server.manifest import ManifestError, load_manifest

from .conftest import tiny_manifest

LODS = [{"asset": "tiny.glb", "error": 0.02, "triangles": 40_000, "bytes": 240_000},
        {"asset": "tiny-fine.glb", "error": 0.0, "triangles": 900_000, "bytes": 5_000_000}]
SOURCE = {"name": "stadhuis.zip", "sha256": "ab" * 32, "bytes": 123, "units": "cm", "up": "z", "importer": 1}
GEO = {"origin": [155000.0, 463000.0, 0.0], "up": "z", "units": "m"}


def write(tmp_path: Path, **fields: object) -> Path:
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(tiny_manifest(**fields)))
    return path


def test_imported_fields_load_and_are_dumped(tmp_path) -> None:
    manifest = load_manifest(write(tmp_path, lods=LODS, source=SOURCE, georeference=GEO))
    doc = manifest.model_dump()
    assert doc["lods"][1]["asset"] == "tiny-fine.glb" and doc["georeference"]["origin"][1] == 463000.0
    assert doc["source"]["units"] == "cm"


def test_hand_written_manifest_documents_have_no_import_fields(tmp_path) -> None:
    doc = load_manifest(write(tmp_path)).model_dump()
    assert not {"lods", "georeference", "source"} & set(doc)


@pytest.mark.parametrize(("fields", "where"), [
    ({"lods": list(reversed(LODS))}, "lods"),
    ({"lods": [dict(LODS[0], asset="other.glb"), LODS[1]]}, "lods.0.asset"),
    ({"lods": [dict(LODS[0], error=-1)]}, "lods.0.error"),
    ({"lods": [dict(LODS[0], asset="../x.glb")]}, "lods.0.asset"),
    ({"source": dict(SOURCE, sha256="nothex")}, "source.sha256"),
    ({"source": dict(SOURCE, units="furlong")}, "source.units"),
    ({"georeference": dict(GEO, origin=[1, 2])}, "georeference.origin"),
])
def test_bad_import_fields_are_refused_naming_the_field(tmp_path, fields, where) -> None:
    with pytest.raises(ManifestError) as caught:
        load_manifest(write(tmp_path, **fields))
    assert where in str(caught.value)
