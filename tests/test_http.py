"""HTTP behaviour of the server: scene API, content-addressed assets, caching, ranges, errors, headers."""

from __future__ import annotations

import brotli

IMMUTABLE = "public, max-age=31536000, immutable"


async def scene_doc(client, scene_id="tiny"):  # type: ignore[no-untyped-def]
    response = await client.get(f"/api/scenes/{scene_id}")
    assert response.status == 200
    return await response.json()


async def test_health_answers_ok_when_scenes_are_loaded(tiny_client):
    response = await tiny_client.get("/healthz")
    assert response.status == 200
    assert (await response.json()) == {"status": "ok", "scenes": 1, "preparing": 0, "failed": 0}


async def test_scene_list_names_each_scene_with_its_page(tiny_client):
    body = await (await tiny_client.get("/api/scenes")).json()
    assert [s["id"] for s in body["scenes"]] == ["tiny"]
    assert body["scenes"][0]["url"] == "/scenes/tiny"
    assert body["scenes"][0]["title"]["fr"] == "Petite salle"


async def test_scene_document_points_to_hashed_asset_and_walkable_grid(tiny_client):
    doc = await scene_doc(tiny_client)
    assert doc["asset"]["url"].startswith("/assets/") and doc["asset"]["url"].endswith(".glb")
    assert doc["asset"]["triangles"] == 24
    walk = doc["walkable"]
    assert walk["encoding"] == "int16-cm"
    assert walk["bytes"] == walk["layers"] * walk["rows"] * walk["cols"] * 2
    assert 0 < walk["maxStep"] < 0.5


async def test_asset_is_served_immutable_with_gltf_binary_type(tiny_client):
    doc = await scene_doc(tiny_client)
    response = await tiny_client.get(doc["asset"]["url"], headers={"Accept-Encoding": "identity"})
    assert response.status == 200
    assert response.headers["Content-Type"] == "model/gltf-binary"
    assert response.headers["Cache-Control"] == IMMUTABLE
    body = await response.read()
    assert body[:4] == b"glTF" and len(body) == doc["asset"]["bytes"]


async def test_asset_url_changes_when_the_content_changes(tiny_client, tiny_config):
    import hashlib

    doc = await scene_doc(tiny_client)
    body = await (await tiny_client.get(doc["asset"]["url"])).read()
    assert doc["asset"]["url"] == f"/assets/{hashlib.sha256(body).hexdigest()[:20]}.glb"


async def test_compressed_variant_is_sent_only_to_clients_that_accept_it(tiny_client):
    doc = await scene_doc(tiny_client)
    url = doc["walkable"]["url"]
    plain = await tiny_client.get(url, headers={"Accept-Encoding": "identity"})
    raw = await plain.read()
    assert "Content-Encoding" not in plain.headers
    compressed = await tiny_client.get(url, headers={"Accept-Encoding": "br"}, auto_decompress=False)
    assert compressed.headers["Content-Encoding"] == "br"
    assert compressed.headers["Vary"] == "Accept-Encoding"
    packed = await compressed.read()
    assert len(packed) < len(raw) and brotli.decompress(packed) == raw
    assert compressed.headers["ETag"] != plain.headers["ETag"]


async def test_return_visit_gets_304_and_no_bytes(tiny_client):
    doc = await scene_doc(tiny_client)
    for url in (doc["asset"]["url"], "/api/scenes", "/api/scenes/tiny"):
        first = await tiny_client.get(url)
        etag = first.headers["ETag"]
        again = await tiny_client.get(url, headers={"If-None-Match": etag})
        assert again.status == 304, url
        assert await again.read() == b""
        assert again.headers["ETag"] == etag


async def test_stale_etag_gets_the_full_document(tiny_client):
    response = await tiny_client.get("/api/scenes", headers={"If-None-Match": '"not-the-tag"'})
    assert response.status == 200


async def test_range_request_returns_the_requested_bytes(tiny_client):
    doc = await scene_doc(tiny_client)
    url = doc["asset"]["url"]
    whole = await (await tiny_client.get(url)).read()
    part = await tiny_client.get(url, headers={"Range": "bytes=4-11", "Accept-Encoding": "br, gzip"})
    assert part.status == 206
    assert part.headers["Content-Range"] == f"bytes 4-11/{len(whole)}"
    assert "Content-Encoding" not in part.headers
    assert await part.read() == whole[4:12]
    suffix = await tiny_client.get(url, headers={"Range": "bytes=-4"})
    assert await suffix.read() == whole[-4:]
    open_ended = await tiny_client.get(url, headers={"Range": f"bytes={len(whole) - 3}-"})
    assert await open_ended.read() == whole[-3:]


async def test_range_outside_the_file_is_416(tiny_client):
    doc = await scene_doc(tiny_client)
    response = await tiny_client.get(doc["asset"]["url"], headers={"Range": "bytes=99999999-"})
    assert response.status == 416
    assert (await response.json())["error"]["code"] == "range_not_satisfiable"


async def test_if_range_with_old_etag_sends_whole_file(tiny_client):
    doc = await scene_doc(tiny_client)
    response = await tiny_client.get(doc["asset"]["url"], headers={"Range": "bytes=0-3", "If-Range": '"old"'})
    assert response.status == 200


async def test_unknown_scene_and_asset_are_json_404s(tiny_client):
    for url, code in (("/api/scenes/nope", "scene_not_found"), ("/assets/abc.glb", "asset_not_found"),
                      ("/no/such/route", "not_found")):
        response = await tiny_client.get(url)
        assert response.status == 404, url
        error = (await response.json())["error"]
        assert error["code"] == code and error["message"]


async def test_unknown_scene_page_is_a_404_html_page(tiny_client):
    response = await tiny_client.get("/scenes/nope")
    assert response.status == 404
    assert response.headers["Content-Type"].startswith("text/html")


async def test_wrong_method_is_a_json_405(tiny_client):
    response = await tiny_client.post("/api/scenes", data=b"{}")
    assert response.status == 405
    assert (await response.json())["error"]["code"] == "method_not_allowed"


async def test_oversized_body_is_refused_without_a_trace(tiny_client):
    response = await tiny_client.post("/api/scenes", data=b"x" * 200_000)
    assert response.status in (405, 413)
    text = await response.text()
    assert "Traceback" not in text and "error" in text


async def test_every_response_carries_a_strict_content_security_policy(tiny_client):
    for url in ("/", "/api/scenes", "/no/such/route"):
        response = await tiny_client.get(url)
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert response.headers["Referrer-Policy"] == "no-referrer"


async def test_static_files_cannot_escape_the_web_folder(tiny_client):
    for path in ("/static/../server/app.py", "/static/%2e%2e/pyproject.toml", "/static/node_modules/three/package.json",
                 "/static/.hidden.js", "/static/package.json"):
        response = await tiny_client.get(path)
        assert response.status == 404, path
