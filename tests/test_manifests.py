"""Scene manifests: good ones load, broken ones are named precisely and never stop the others."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from server.config import ROOT
from server.manifest import ManifestError, load_manifest, load_manifests

from .conftest import tiny_manifest


def write(tmp_path: Path, name: str, document: object) -> Path:
    path = tmp_path / f"{name}.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


def test_bundled_manifests_are_valid():
    loaded, errors = load_manifests(ROOT / "scenes")
    assert errors == []
    assert {item.manifest.id for item in loaded} >= {"town-hall", "public-square"}


def test_good_manifest_loads(tmp_path):
    manifest = load_manifest(write(tmp_path, "tiny", tiny_manifest()))
    assert manifest.title["fr"] == "Petite salle"
    assert manifest.spawn[0].position == [0, 0, 2]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"capacity": 0}, "capacity"),
        ({"capacity": "many"}, "capacity"),
        ({"spawn": []}, "spawn"),
        ({"spawn": [{"position": [0, 1e9, 0]}]}, "spawn.0.position.1"),
        ({"spawn": [{"position": [0, 0]}]}, "spawn.0.position"),
        ({"title": {"fr": "Sans anglais"}}, "title"),
        ({"title": {"en": ""}}, "title.en"),
        ({"asset": "../../etc/passwd"}, "asset"),
        ({"colour": "red"}, "colour"),
        ({"zones": [{"id": "z", "name": {"en": "Z"}, "description": {"en": "d"},
                     "area": {"min": [0, 0, 0], "max": [1, -1, 1]}}]}, "zones.0.area.max"),
        ({"tour": [{"id": "a", "position": [0, 0, 0], "narration": {"en": "x"}},
                   {"id": "a", "position": [1, 0, 0], "narration": {"en": "y"}}]}, "tour"),
        ({"tour": [{"id": "a", "position": [0, 0, 0], "pitch": 120, "narration": {"en": "x"}}]}, "tour.0.pitch"),
    ],
)
def test_broken_manifest_error_names_file_and_field(tmp_path, change, field):
    path = write(tmp_path, "tiny", tiny_manifest(**change))
    with pytest.raises(ManifestError) as caught:
        load_manifest(path)
    message = str(caught.value)
    assert message.startswith("tiny.json: ")
    assert f" {field}: " in f" {message.split(': ', 1)[1]}", message


def test_invalid_json_is_reported_with_the_file_name(tmp_path):
    with pytest.raises(ManifestError, match=r"^broken\.json: not valid JSON"):
        load_manifest(write(tmp_path, "broken", "{ nope"))


def test_id_must_match_file_name(tmp_path):
    with pytest.raises(ManifestError, match=r"^other\.json: id: "):
        load_manifest(write(tmp_path, "other", tiny_manifest()))


def test_one_broken_manifest_leaves_the_others_loaded(tmp_path):
    write(tmp_path, "tiny", tiny_manifest())
    write(tmp_path, "broken", {"id": "broken"})
    loaded, errors = load_manifests(tmp_path)
    assert [item.manifest.id for item in loaded] == ["tiny"]
    assert len(errors) == 1 and errors[0].startswith("broken.json: ")


def test_scene_with_a_broken_asset_is_left_out_and_others_load(tmp_path):
    from server.catalog import build_catalog

    from .conftest import write_world

    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "broken.glb").write_bytes(b"glTF but not really")
    scenes, assets = write_world(tmp_path, {"tiny": tiny_manifest(), "broken": tiny_manifest("broken")})
    catalog = build_catalog(scenes, assets, tmp_path / "data", optimize=False)
    assert list(catalog.scenes) == ["tiny"]
    assert len(catalog.errors) == 1 and catalog.errors[0].startswith("broken.json: asset: ")
