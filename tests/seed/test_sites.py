"""The sample-site server: virtual hosts by the Host header on loopback, 404s, content types."""
from __future__ import annotations

import http.client

import pytest

from lightbox.sites import serve_sites, stop


@pytest.fixture
def server(tmp_path):
    (tmp_path / "a.example.com" / "img").mkdir(parents=True)
    (tmp_path / "a.example.com" / "index.html").write_text("<h1>A</h1>")
    (tmp_path / "a.example.com" / "img" / "x.jpg").write_bytes(b"\xff\xd8\xff jpeg")
    (tmp_path / "b.example.org").mkdir()
    (tmp_path / "b.example.org" / "index.html").write_text("<h1>B</h1>")
    (tmp_path / "b.example.org" / "feed.json").write_text("[]")
    (tmp_path / "secret.txt").write_text("outside every host")
    srv, thread = serve_sites(tmp_path, port=0)
    yield srv
    stop(srv)
    thread.join(5)


def get(server, host, path, method="GET"):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conn.request(method, path, headers={"Host": host})
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp.status, resp.getheader("Content-Type"), body


def test_serves_by_host_header(server):
    assert get(server, f"a.example.com:{server.port}", "/") == (200, "text/html; charset=utf-8", b"<h1>A</h1>")
    assert get(server, "B.Example.org", "/index.html")[2] == b"<h1>B</h1>"
    assert get(server, "a.example.com", "/img/x.jpg")[:2] == (200, "image/jpeg")
    assert get(server, "b.example.org", "/feed.json")[:2] == (200, "application/json")
    assert get(server, "a.example.com", "/img/x.jpg?v=2")[0] == 200
    assert get(server, "a.example.com", "/img/x.jpg", method="HEAD")[:2] == (200, "image/jpeg")


def test_missing_and_escaping_paths_are_404(server):
    assert get(server, "a.example.com", "/nope.jpg")[0] == 404
    assert get(server, "unknown.example", "/")[0] == 404
    assert get(server, "a.example.com", "/../secret.txt")[0] == 404
    assert get(server, "a.example.com", "/%2e%2e/secret.txt")[0] == 404
    assert get(server, "..", "/secret.txt")[0] == 404


def test_serves_the_generated_sample_sites(seeded):
    srv, thread = serve_sites(seeded["sites"], port=0)
    try:
        feed = get(srv, "pixelstockr.com", "/feed.json")
        assert feed[0] == 200 and feed[2].startswith(b"[")
        status, ctype, body = get(srv, "www.sunny-travel-blog.co.uk", "/")
        assert status == 200 and b"lisbon.html" in body
        assert get(srv, "dailyfotonews.com", "/images/missing-photo.jpg")[0] == 404
        item = seeded["manifest"]["expected"]["infringement"][0]
        host_port, _, path = item["image_url"].removeprefix("http://").partition("/")
        assert get(srv, host_port, "/" + path)[:2] == (200, "image/jpeg")
    finally:
        stop(srv)
        thread.join(5)


def test_manifest_urls_carry_the_sites_port(seeded, monkeypatch):
    from lightbox.seed import load_manifest
    from lightbox.sites import free_port

    monkeypatch.setenv("LIGHTBOX_LANDING", str(seeded["landing"]))
    manifest = load_manifest()
    port = manifest["sites_port"]
    assert manifest["stock_feeds"] == f"pixelstockr=http://pixelstockr.com:{port}/feed.json"
    for item in manifest["expected"]["infringement"]:
        assert f":{port}/" in item["page_url"] and f":{port}/" in item["image_url"]
    assert 0 < free_port() < 65536
