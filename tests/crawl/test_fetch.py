"""The safe fetcher against real local servers: what it refuses, and why."""
from __future__ import annotations

import asyncio
import io
import ipaddress

import pytest
from localweb import LocalWeb, Response, drip

from lightbox.config import settings as make_settings
from lightbox.crawl.fetch import FetchError, SafeFetcher, address_problem, fetch_bytes, sniff


def jpeg(size=(64, 48), color=(200, 40, 40)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture(scope="module")
def webs():
    """The crawled web on 127.0.0.2 (allowed) and an "internal" server on 127.0.0.1 that
    nothing may reach."""
    with LocalWeb("127.0.0.2") as web, LocalWeb("127.0.0.1") as internal:
        internal.route(None, "/secret", Response(200, b"<html>secret</html>"))
        p = internal.port
        web.route(None, "/ok.html", Response(200, b"<html><body>ok</body></html>"))
        web.route(None, "/photo.jpg", Response(200, jpeg(), content_type="image/jpeg"))
        web.route(None, "/to-loopback", Response(302, headers={"Location": f"http://127.0.0.1:{p}/secret"}))
        web.route(None, "/to-private", Response(302, headers={"Location": "http://10.0.0.1/secret"}))
        web.route(None, "/to-metadata", Response(302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}))
        web.route(None, "/to-mapped", Response(302, headers={"Location": f"http://[::ffff:127.0.0.1]:{p}/secret"}))
        web.route(None, "/to-name", Response(302, headers={"Location": f"http://intranet.test:{p}/secret"}))
        web.route(None, "/to-file", Response(302, headers={"Location": "file:///etc/passwd"}))
        web.route(None, "/loop-a", Response(302, headers={"Location": "/loop-b"}))
        web.route(None, "/loop-b", Response(302, headers={"Location": "/loop-a"}))
        for i in range(10):
            web.route(None, f"/chain/{i}", Response(302, headers={"Location": f"/chain/{i + 1}"}))
        web.route(None, "/huge.jpg", Response(200, b"\xff\xd8\xff", headers={"Content-Length": str(10 * 1024**3)}, content_type="image/jpeg"))
        web.route(None, "/drip.html", lambda h, p: Response(200, drip(0.1)))
        web.route(None, "/fake.jpg", Response(200, b"<!doctype html><html>not a photo</html>", content_type="image/jpeg"))
        web.route(None, "/vector.svg", Response(200, b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', content_type="image/svg+xml"))
        web.route("down.test", "/robots.txt", Response(503, b"busy"))
        web.route("down.test", "/ok.html", Response(200, b"<html>ok</html>"))
        web.route("polite.test", "/robots.txt", Response(200, b"User-agent: *\nDisallow: /private\n\nUser-agent: LightboxBot\nDisallow: /no-bots\n"))
        web.route("polite.test", "/no-bots/x.html", Response(200, b"<html>x</html>"))
        web.route("polite.test", "/private/x.html", Response(200, b"<html>x</html>"))
        web.route(None, "/flaky", _flaky())
        yield web, internal


def _flaky():
    calls = {"n": 0}

    def route(host, path):
        calls["n"] += 1
        return Response(503, b"try later") if calls["n"] < 3 else Response(200, b"<html>at last</html>")

    return route


@pytest.fixture
def cfg():
    return make_settings({
        "LIGHTBOX_HOME": "/tmp/lightbox-fetch-test",
        "LIGHTBOX_CRAWL_ALLOW_NETWORKS": "127.0.0.2/32",
        "LIGHTBOX_CRAWL_RESOLVE": "site.test=127.0.0.2,down.test=127.0.0.2,polite.test=127.0.0.2,intranet.test=10.9.8.7",
    })


def fetch_all(cfg, urls, kind="page", **overrides):
    async def run():
        options = {"total_timeout": 2.0, "backoff_base": 0.01, "per_host_delay": 0.0} | overrides
        async with SafeFetcher(cfg, **options) as fetcher:
            return await asyncio.gather(*(fetcher.fetch(u, kind=kind) for u in urls))

    return asyncio.run(run())


@pytest.mark.parametrize(
    "address, allowed",
    [
        ("8.8.8.8", True), ("2606:4700::1111", True),
        ("127.0.0.1", False), ("10.0.0.1", False), ("172.16.3.4", False), ("192.168.1.1", False),
        ("169.254.169.254", False), ("169.254.1.1", False), ("100.64.0.1", False), ("224.0.0.1", False),
        ("240.0.0.1", False), ("0.0.0.0", False), ("::1", False), ("fe80::1", False), ("fc00::1", False),
        ("::ffff:127.0.0.1", False), ("::ffff:8.8.8.8", False), ("ff02::1", False),
    ],
)
def test_address_rules(address, allowed):
    assert (address_problem(ipaddress.ip_address(address)) is None) is allowed


def test_allow_networks_open_only_what_they_list():
    allow = (ipaddress.ip_network("127.0.0.0/8"),)
    assert address_problem(ipaddress.ip_address("127.0.0.1"), allow) is None
    assert address_problem(ipaddress.ip_address("10.0.0.1"), allow) is not None


def test_sniffing_ignores_content_type():
    assert sniff(jpeg()) == "image/jpeg"
    assert sniff(b"\n<!DOCTYPE html><p>") == "text/html"
    assert sniff(b'<?xml version="1.0"?><svg/>') == "image/svg+xml"


def test_fetches_an_allowed_page_and_records_ip(webs, cfg):
    web, _ = webs
    (result,) = fetch_all(cfg, [web.url("site.test", "/ok.html")])
    assert result.ok and result.status == 200 and b"ok" in result.body
    assert result.resolved_ip == "127.0.0.2" and result.fetched_at is not None


def test_refuses_every_redirect_inside(webs, cfg):
    web, internal = webs
    paths = ["/to-loopback", "/to-private", "/to-metadata", "/to-mapped", "/to-name"]
    results = fetch_all(cfg, [web.url("site.test", p) for p in paths])
    for path, result in zip(paths, results):
        assert result.error == "blocked_address", (path, result.reason)
    assert "metadata" in results[2].detail
    assert "ipv4_mapped" in results[3].detail
    assert "10.9.8.7" in results[4].detail
    assert internal.hits_for() == 0  # nothing inside was ever reached


def test_refuses_a_start_url_inside(webs, cfg):
    _, internal = webs
    (result,) = fetch_all(cfg, [f"http://127.0.0.1:{internal.port}/secret"])
    assert result.error == "blocked_address"
    assert internal.hits_for() == 0


def test_only_http_and_https(webs, cfg):
    web, _ = webs
    results = fetch_all(cfg, ["file:///etc/passwd", "ftp://site.test/", web.url("site.test", "/to-file")])
    assert [r.error for r in results] == ["scheme_not_allowed"] * 3


def test_redirect_loop_and_limit(webs, cfg):
    web, _ = webs
    loop, chain = fetch_all(cfg, [web.url("site.test", "/loop-a"), web.url("site.test", "/chain/0")])
    assert loop.error == "redirect_loop"
    assert chain.error == "too_many_redirects"


def test_size_time_and_content_limits(webs, cfg):
    web, _ = webs
    huge, fake, svg = fetch_all(cfg, [web.url("site.test", p) for p in ("/huge.jpg", "/fake.jpg", "/vector.svg")], kind="image")
    assert huge.error == "too_large" and "Content-Length" in huge.detail
    assert fake.error == "not_an_image"
    assert svg.error == "svg_not_supported"
    (slow,) = fetch_all(cfg, [web.url("site.test", "/drip.html")], total_timeout=1.0)
    assert slow.error == "too_slow"


def test_robots_rules_and_unavailable_robots(webs, cfg):
    web, _ = webs
    down, private, nobots = fetch_all(cfg, [
        web.url("down.test", "/ok.html"), web.url("polite.test", "/private/x.html"), web.url("polite.test", "/no-bots/x.html"),
    ], retries=0)
    assert down.error == "robots_disallowed" and "503" in down.detail
    # our own group applies, not "*": /private is allowed for LightboxBot, /no-bots is not
    assert private.ok
    assert nobots.error == "robots_disallowed"
    assert web.hits_for("polite.test", "/no-bots") == 0


def test_transient_errors_are_retried(webs, cfg):
    web, _ = webs
    (result,) = fetch_all(cfg, [web.url("site.test", "/flaky")], retries=3)
    assert result.ok and result.attempts == 3


def test_fetch_bytes_raises_fetch_error(webs, cfg, monkeypatch):
    web, _ = webs
    monkeypatch.setenv("LIGHTBOX_CRAWL_ALLOW_NETWORKS", "127.0.0.2/32")
    monkeypatch.setenv("LIGHTBOX_CRAWL_RESOLVE", "site.test=127.0.0.2")
    assert fetch_bytes(web.url("site.test", "/photo.jpg"))[:3] == b"\xff\xd8\xff"
    with pytest.raises(FetchError) as error:
        fetch_bytes(web.url("site.test", "/to-metadata"))
    assert error.value.reason == "blocked_address"


def test_per_host_concurrency_holds(cfg):
    """However many fetches are asked for at once, one host never sees more than
    per_host_concurrency connections working at the same time."""
    import threading
    import time as _time

    state = {"now": 0, "max": 0}
    lock = threading.Lock()

    def slow(host, path):
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
        _time.sleep(0.05)
        with lock:
            state["now"] -= 1
        return Response(200, b"<html>slow</html>")

    with LocalWeb("127.0.0.2") as web:
        web.route(None, "/slow", slow)
        urls = [web.url("site.test", f"/slow?{i}") for i in range(12)]
        results = fetch_all(cfg, urls, per_host_concurrency=2, global_concurrency=16)
    assert all(r.ok for r in results)
    assert state["max"] <= 2


def test_waiting_for_the_hosts_turn_is_not_the_requests_time(webs, cfg):
    """Eight requests to one host, one at a time, 0.4 s apart, under a 1 s per-fetch limit:
    the last one waits ~3 s for its turn, and still every one succeeds (the limit counts the
    request, not the queue)."""
    web, _ = webs
    urls = [web.url("site.test", "/ok.html") + f"?n={i}" for i in range(8)]
    results = fetch_all(cfg, urls, per_host_concurrency=1, per_host_delay=0.4, total_timeout=1.0, retries=0)
    assert [r.error for r in results] == [None] * 8
    assert all(r.request_seconds < 1.0 for r in results)
