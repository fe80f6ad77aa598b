"""The hostile-page suite: a sweep over a local site full of traps completes, records every
failure with its reason, and fetches nothing it must not."""
from __future__ import annotations

import io
import struct
import zlib

import pytest
from localweb import LocalWeb, Response, drip, endless

from lightbox.crawl.crawler import ImageRejected, ShardLimits
from lightbox.crawl.fetch import CrawlConfig
from lightbox.infringement import sweep

AS_OF = "2026-03-01T00:00:00+00:00"


class DecodeOnlyMatcher:
    """Decodes each image fully (as the engine would) and matches nothing."""

    def match(self, data: bytes) -> list:
        from PIL import Image

        try:
            with Image.open(io.BytesIO(data)) as im:
                im.load()
        except Exception as exc:  # noqa: BLE001
            raise ImageRejected(f"bad_image: {type(exc).__name__}: {exc}") from exc
        return []


def jpeg(size=(80, 60)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(out, "JPEG", quality=90)
    return out.getvalue()


def bomb_png(width=40_000, height=40_000) -> bytes:
    """A tiny file whose header claims 1.6 billion pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 4096)) + chunk(b"IEND", b"")


@pytest.fixture
def hostile_web():
    with LocalWeb("127.0.0.2") as web, LocalWeb("127.0.0.1") as internal:
        internal.route(None, "/secret", Response(200, b"<html>secret</html>"))
        ip = internal.port
        h = "hostile.test"
        links = [
            "/private/page.html", "/loop-a", "/to-loopback", "/to-private", "/to-metadata", "/drip.html",
            "/big.html", "/srcset.html", "/self.html", "http://inside.hostile.test/x.html",
        ]
        images = ["/huge.jpg", "/bomb.png", "/truncated.jpg", "/fake.jpg", "/vector.svg", "/good.jpg",
                  f"http://127.0.0.1:{ip}/secret", "http://intranet.test/photo.jpg"]
        home = "<html><body>" + "".join(f'<a href="{u}">x</a>' for u in links) + "".join(
            f'<img src="{u}">' for u in images) + "</body></html>"
        web.route(h, "/", Response(200, home.encode()))
        web.route(h, "/robots.txt", Response(200, b"User-agent: *\nDisallow: /private/\n", content_type="text/plain"))
        web.route(h, "/private/page.html", Response(200, b"<html>private</html>"))
        web.route(h, "/loop-a", Response(302, headers={"Location": "/loop-b"}))
        web.route(h, "/loop-b", Response(302, headers={"Location": "/loop-a"}))
        web.route(h, "/to-loopback", Response(302, headers={"Location": f"http://127.0.0.1:{ip}/secret"}))
        web.route(h, "/to-private", Response(302, headers={"Location": "http://10.0.0.1/secret"}))
        web.route(h, "/to-metadata", Response(302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}))
        web.route(h, "/drip.html", lambda host, path: Response(200, drip(0.1)))
        web.route(h, "/big.html", lambda host, path: Response(200, endless(total=20 * 1024 * 1024)))
        srcset = ", ".join(f"/img/{i}.jpg {i}w" for i in range(1, 1001))
        web.route(h, "/srcset.html", Response(200, f'<html><img srcset="{srcset}"></html>'.encode()))
        for i in range(1, 1001):
            web.route(h, f"/img/{i}.jpg", Response(200, jpeg((40, 30)), content_type="image/jpeg"))
        self_links = "".join(f'<a href="/self.html?v={i}">again</a>' for i in range(5000))
        web.route(h, "/self.html", Response(200, f"<html>{self_links}</html>".encode()))
        web.route(h, "/huge.jpg", Response(200, b"\xff\xd8\xff", headers={"Content-Length": str(10 * 1024**3)}, content_type="image/jpeg"))
        web.route(h, "/bomb.png", Response(200, bomb_png(), content_type="image/png"))
        web.route(h, "/truncated.jpg", Response(200, jpeg((400, 300))[:600], content_type="image/jpeg"))
        web.route(h, "/fake.jpg", Response(200, b"<!doctype html><html>gotcha</html>", content_type="image/jpeg"))
        web.route(h, "/vector.svg", Response(200, b'<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>', content_type="image/svg+xml"))
        web.route(h, "/good.jpg", Response(200, jpeg(), content_type="image/jpeg"))
        yield web, internal


def test_hostile_site_sweep(hostile_web, conn, lightbox_home, monkeypatch):
    web, internal = hostile_web
    monkeypatch.setenv("LIGHTBOX_CRAWL_ALLOW_NETWORKS", "127.0.0.2/32")
    monkeypatch.setenv("LIGHTBOX_CRAWL_RESOLVE", "hostile.test=127.0.0.2,inside.hostile.test=10.1.2.3,intranet.test=192.168.7.7")
    seed = web.url("hostile.test", "/")
    with conn.cursor() as cur:
        cur.execute("""insert into raw.crawl_seeds (url, priority, max_depth, source, reported_by, _file_id, _line, _arrived_at)
                       values (%s, 1, 2, 'seed', null, 0, 1, now()), ('ftp://nowhere.test/', 0, 1, 'seed', null, 0, 2, now())""", (seed,))
    config = CrawlConfig(total_timeout=2.0, retries=1, backoff_base=0.01, per_host_delay=0.0, per_host_concurrency=4,
                         max_page_bytes=2 * 1024 * 1024)
    report = sweep.run_sweep(AS_OF, matcher=DecodeOnlyMatcher(), config=config, limits=ShardLimits(), catalog=False)

    with conn.cursor() as cur:
        cur.execute("""select regexp_replace(url, ':[0-9]+/', '/'), status, coalesce(split_part(last_error, ':', 1), '')
                       from infringement.crawl_frontier""")
        rows = {url: (status, reason) for url, status, reason in cur.fetchall()}
    H = "http://hostile.test"
    expected = {
        f"{H}/private/page.html": ("skipped", "robots_disallowed"),
        f"{H}/loop-a": ("failed", "redirect_loop"),
        f"{H}/to-loopback": ("failed", "blocked_address"),
        f"{H}/to-private": ("failed", "blocked_address"),
        f"{H}/to-metadata": ("failed", "blocked_address"),
        f"{H}/drip.html": ("failed", "too_slow"),
        f"{H}/big.html": ("failed", "too_large"),
        f"{H}/huge.jpg": ("failed", "too_large"),
        f"{H}/bomb.png": ("failed", "decompression_bomb"),
        f"{H}/truncated.jpg": ("failed", "bad_image"),
        f"{H}/fake.jpg": ("failed", "not_an_image"),
        f"{H}/vector.svg": ("failed", "svg_not_supported"),
        f"{H}/good.jpg": ("fetched", ""),
        "http://inside.hostile.test/x.html": ("failed", "blocked_address"),
        "http://127.0.0.1/secret": ("failed", "blocked_address"),
        "http://intranet.test/photo.jpg": ("failed", "blocked_address"),
        "ftp://nowhere.test/": ("failed", "bad_url"),
        f"{H}/": ("fetched", ""),
    }
    for url, outcome in expected.items():
        assert rows.get(url) == outcome, (url, rows.get(url))

    # a thousand srcset candidates: one image chosen, fetched once
    srcset_images = [u for u in rows if "/img/" in u]
    assert len(srcset_images) == 1 and rows[srcset_images[0]][0] == "fetched"
    # a page linking to itself thousands of ways: a handful of fetches
    assert web.hits_for("hostile.test", "/self.html") <= ShardLimits().max_query_variants_per_path + 1
    # nothing inside was ever reached; robots-disallowed pages were not requested
    assert internal.hits_for() == 0
    assert web.hits_for("hostile.test", "/private/") == 0
    # the report tells a person what failed and why
    failures = report["failures_by_reason"]
    for reason in ("robots_disallowed", "redirect_loop", "blocked_address", "too_slow", "too_large",
                   "decompression_bomb", "bad_image", "not_an_image", "svg_not_supported", "bad_url"):
        assert failures.get(reason, 0) >= 1, (reason, failures)
    assert report["pages_fetched"] >= 3

    # a rerun of the same sweep resumes: nothing left to fetch, nothing fetched again
    before = sum(web.hits.values())
    sweep.run_sweep(AS_OF, matcher=DecodeOnlyMatcher(), config=config, catalog=False)
    assert sum(web.hits.values()) == before


def test_a_failed_sweep_resumes_with_pending_rows_only(conn, lightbox_home, monkeypatch):
    """A sweep that died midway: its rerun fetches only what is still pending."""
    from localweb import LocalWeb, Response

    with LocalWeb("127.0.0.1") as web:
        monkeypatch.setenv("LIGHTBOX_CRAWL_RESOLVE", "resume.test=127.0.0.1")
        web.route("resume.test", "/", Response(200, b'<html><a href="/a.html">a</a><a href="/b.html">b</a></html>'))
        web.route("resume.test", "/a.html", Response(200, b"<html>a</html>"))
        web.route("resume.test", "/b.html", Response(200, b"<html>b</html>"))
        with conn.cursor() as cur:
            cur.execute("""insert into raw.crawl_seeds (url, priority, max_depth, source, _file_id, _line, _arrived_at)
                           values (%s, 0, 1, 'photographer_report', 0, 1, now())""", (web.url("resume.test", "/"),))
        config = CrawlConfig(per_host_delay=0.0)
        sweep.run_sweep(AS_OF, matcher=DecodeOnlyMatcher(), config=config, catalog=False)
        assert web.hits_for("resume.test", "/b.html") == 1
        with conn.cursor() as cur:  # as if the worker had died before finishing /b.html
            cur.execute("update infringement.crawl_frontier set status = 'pending', fetched_at = null where url like '%%/b.html'")
        sweep.run_sweep(AS_OF, matcher=DecodeOnlyMatcher(), config=config, catalog=False)
        assert web.hits_for("resume.test", "/b.html") == 2
        assert web.hits_for("resume.test", "/a.html") == 1 and web.hits[("resume.test", "/")] == 1
        with conn.cursor() as cur:
            cur.execute("select status, attempts from infringement.crawl_frontier where url like '%%/b.html'")
            assert cur.fetchone() == ("fetched", 2)
