"""The crawler loses nothing on a healthy web: a busy host's queue never times out its own
requests, transient failures are tried again later in the same sweep, pages are read in the
charset they declare, and one resource spelled two ways is fetched once. Real local servers,
real PostgreSQL."""
from __future__ import annotations

import io
import threading
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from localweb import LocalWeb, Response, drip

from lightbox.crawl.crawler import ShardLimits
from lightbox.crawl.fetch import CrawlConfig, retry_after_seconds
from lightbox.infringement import sweep

AS_OF = "2026-04-01T00:00:00+00:00"


class NoMatch:
    def match(self, data: bytes) -> list:
        return []


def jpeg(size=(48, 32), shade=0) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (shade % 255, 90, 160)).save(out, "JPEG")
    return out.getvalue()


def seed(conn, *urls: str) -> None:
    with conn.cursor() as cur:
        for i, url in enumerate(urls):
            cur.execute("""insert into raw.crawl_seeds (url, priority, max_depth, source, _file_id, _line, _arrived_at)
                           values (%s, 0, 1, 'seed', 0, %s, now())""", (url, i))


def frontier(conn) -> dict[str, tuple]:
    with conn.cursor() as cur:
        cur.execute("""select regexp_replace(url, ':[0-9]+/', '/'), status, attempts, coalesce(split_part(last_error, ':', 1), '')
                       from infringement.crawl_frontier""")
        return {url: (status, attempts, reason) for url, status, attempts, reason in cur.fetchall()}


def sweep_once(**config) -> dict:
    return sweep.run_sweep(AS_OF, matcher=NoMatch(), config=CrawlConfig(**config),
                           limits=ShardLimits(hash_in_processes=False), catalog=False, max_shards=1)


@pytest.mark.slow
def test_a_busy_host_loses_nothing_and_a_slow_one_costs_it_nothing(conn, lightbox_home, monkeypatch):
    """600 images behind per-host concurrency 2 and a 0.25 s delay take 150 s to fetch
    politely, five times the per-request time limit: every one is fetched, none is too_slow.
    A slow-drip host in the same shard fails on its own (and only it)."""
    monkeypatch.setenv("LIGHTBOX_CRAWL_RESOLVE", "busy.test=127.0.0.1,drip.test=127.0.0.1")
    image = jpeg()
    with LocalWeb("127.0.0.1") as web:
        pages = 12
        for p in range(pages):
            imgs = "".join(f'<img src="/i/{p}-{k}.jpg">' for k in range(50))
            web.route("busy.test", f"/p/{p}.html", Response(200, f"<html><body>{imgs}</body></html>".encode()))
            for k in range(50):
                web.route("busy.test", f"/i/{p}-{k}.jpg", Response(200, image, content_type="image/jpeg"))
        links = "".join(f'<a href="/p/{p}.html">p</a>' for p in range(pages))
        web.route("busy.test", "/", Response(200, f"<html><body>{links}</body></html>".encode()))
        web.route("drip.test", "/", lambda host, path: Response(200, drip(0.2)))
        seed(conn, web.url("busy.test", "/"), web.url("drip.test", "/"))
        report = sweep_once(per_host_delay=0.25, per_host_concurrency=2, total_timeout=30.0, retries=1,
                            backoff_base=0.1)
    rows = frontier(conn)
    images = {u: r for u, r in rows.items() if "/i/" in u}
    assert len(images) == 600
    assert all(status == "fetched" for status, _a, _r in images.values()), Counter_of(images)
    assert report["failures_by_reason"] == {"too_slow": 1}
    assert rows["http://drip.test/"] == ("failed", 2, "too_slow")
    assert report["images"]["fetched"] == 600


def Counter_of(rows: dict) -> dict:
    from collections import Counter

    return dict(Counter((status, reason) for status, _a, reason in rows.values()))


def _flaky(failures: int, response: Response, retry_after: str | None = None):
    lock, calls = threading.Lock(), {"n": 0}

    def route(host, path):
        with lock:
            calls["n"] += 1
            n = calls["n"]
        if n <= failures:
            return Response(503, b"busy", headers={"Retry-After": retry_after} if retry_after else {})
        return response

    return route


def test_transient_failures_are_retried_later_in_the_same_sweep(conn, lightbox_home, monkeypatch):
    monkeypatch.setenv("LIGHTBOX_CRAWL_RESOLVE", "flaky.test=127.0.0.1")
    with LocalWeb("127.0.0.1") as web:
        in_a_second = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=1), usegmt=True)
        web.route("flaky.test", "/", Response(200, b'<html><img src="/third.jpg"><img src="/dated.jpg"><img src="/never.jpg"></html>'))
        web.route("flaky.test", "/third.jpg", _flaky(2, Response(200, jpeg(), content_type="image/jpeg")))
        web.route("flaky.test", "/dated.jpg", _flaky(1, Response(200, jpeg(shade=9), content_type="image/jpeg"), in_a_second))
        web.route("flaky.test", "/never.jpg", _flaky(99, Response(200, jpeg(), content_type="image/jpeg")))
        seed(conn, web.url("flaky.test", "/"))
        report = sweep_once(per_host_delay=0.0, retries=2, backoff_base=0.05)
        assert web.hits_for("flaky.test", "/never.jpg") == 3
    rows = frontier(conn)
    assert rows["http://flaky.test/third.jpg"] == ("fetched", 3, "")
    assert rows["http://flaky.test/dated.jpg"] == ("fetched", 2, "")
    assert rows["http://flaky.test/never.jpg"] == ("failed", 3, "http_503")
    assert report["retries"] == {"urls_retried": 3, "retries": 5, "recovered": 2, "still_waiting": 0}
    assert report["failures_by_reason"] == {"http_503": 1}


def test_retry_after_in_seconds_and_as_an_http_date():
    now = datetime(2026, 5, 1, 12, 0, 0, tzinfo=timezone.utc)
    assert retry_after_seconds("120", now) == 120
    assert retry_after_seconds("Fri, 01 May 2026 12:02:00 GMT", now) == 120
    assert retry_after_seconds("Fri, 01 May 2026 11:00:00 GMT", now) == 0  # already past
    assert retry_after_seconds("soon", now) is None and retry_after_seconds(None, now) is None


def test_declared_charsets_and_duplicate_spellings(conn, lightbox_home, monkeypatch):
    """Pages in windows-1251 and Shift_JIS: their links and images are found. URLs that differ
    only in percent-encoding or query order: fetched once."""
    monkeypatch.setenv("LIGHTBOX_CRAWL_RESOLVE", "ru.test=127.0.0.1,jp.test=127.0.0.1")
    with LocalWeb("127.0.0.1") as web:
        ru = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1251"></head><body>'
              '<a href="/статья.html">статья</a><img src="/фото.jpg"></body></html>')
        web.route("ru.test", "/", Response(200, ru.encode("windows-1251"), content_type="text/html"))
        web.route("ru.test", "/%D1%81%D1%82%D0%B0%D1%82%D1%8C%D1%8F.html", Response(200, b"<html>ok</html>"))
        web.route("ru.test", "/%D1%84%D0%BE%D1%82%D0%BE.jpg", Response(200, jpeg(), content_type="image/jpeg"))
        jp = ('<html><body><a href="/記事.html">記事</a><img src="/写真.jpg">'
              '<img src="/a.jpg?x=1&y=2"><img src="/a.jpg?y=2&x=1"><img src="/~joe.jpg"><img src="/%7Ejoe.jpg">'
              '<a href="/b.html?q=1&p=2">b</a><a href="/b.html?p=2&q=1#top">b</a></body></html>')
        web.route("jp.test", "/", Response(200, jp.encode("shift_jis"), content_type="text/html; charset=Shift_JIS"))
        web.route("jp.test", "/%E8%A8%98%E4%BA%8B.html", Response(200, b"<html>ok</html>"))
        web.route("jp.test", "/%E5%86%99%E7%9C%9F.jpg", Response(200, jpeg(), content_type="image/jpeg"))
        web.route("jp.test", "/a.jpg", Response(200, jpeg(), content_type="image/jpeg"))
        web.route("jp.test", "/~joe.jpg", Response(200, jpeg(), content_type="image/jpeg"))
        web.route("jp.test", "/b.html", Response(200, b"<html>b</html>"))
        seed(conn, web.url("ru.test", "/"), web.url("jp.test", "/"))
        sweep_once(per_host_delay=0.0)
        rows = frontier(conn)
        for url in ("http://ru.test/%D1%81%D1%82%D0%B0%D1%82%D1%8C%D1%8F.html", "http://ru.test/%D1%84%D0%BE%D1%82%D0%BE.jpg",
                    "http://jp.test/%E8%A8%98%E4%BA%8B.html", "http://jp.test/%E5%86%99%E7%9C%9F.jpg"):
            assert rows.get(url, ("missing",))[0] == "fetched", (url, rows.get(url))
        assert web.hits_for("jp.test", "/a.jpg") == 1
        assert web.hits_for("jp.test", "/~joe.jpg") + web.hits_for("jp.test", "/%7Ejoe.jpg") == 1
        assert web.hits_for("jp.test", "/b.html") == 1


class Counting:
    def __init__(self):
        self.seen: list[int] = []

    def match(self, data: bytes) -> list:
        self.seen.append(len(data))
        return []


@pytest.mark.timeout(300)
def test_an_image_that_was_linked_before_it_was_shown_is_still_matched(conn, lightbox_home, monkeypatch):
    """``/`` links to ``/full.jpg`` (so the frontier knows it as a page) before ``/a.html``
    shows it: it is fetched as an image and handed to the matcher, and the sweep ends."""
    monkeypatch.setenv("LIGHTBOX_CRAWL_RESOLVE", "links.test=127.0.0.1")
    image = jpeg((64, 48), shade=77)
    with LocalWeb("127.0.0.1") as web:
        web.route("links.test", "/", Response(200, b'<html><a href="/full.jpg">full</a><a href="/a.html">a</a></html>'))
        web.route("links.test", "/a.html", Response(200, b'<html><a href="/full.jpg"><img src="/full.jpg"></a></html>'))
        web.route("links.test", "/full.jpg", Response(200, image, content_type="image/jpeg"))
        seed(conn, web.url("links.test", "/"))
        matcher = Counting()
        sweep.run_sweep(AS_OF, matcher=matcher, config=CrawlConfig(per_host_delay=0.0),
                        limits=ShardLimits(hash_in_processes=False), catalog=False, max_shards=1)
        assert len(image) in matcher.seen
        assert frontier(conn)["http://links.test/a.html"][0] == "fetched"
