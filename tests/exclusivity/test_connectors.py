"""Connectors: feeds of every shape and fault give listings plus recorded problems, never a
crash; the landing connector reads raw.stock_listings."""
import json

from lightbox.exclusivity.connectors import FeedConnector, LandingConnector, parse_feed, read_all

FEED = "http://pixelstockr.com/feed.json"


def test_feed_listings_resolve_relative_urls_and_aliases():
    body = json.dumps(
        [{"id": 7, "link": "/p/7", "image": "/i/7.jpg", "author": "ann", "name": "Sea", "published_at": "2025-01-02T03:04:05Z"}]
    ).encode()
    result = parse_feed("pixelstockr.com", body, FEED)
    assert result.errors == []
    [listing] = result.listings
    assert listing.listing_id == "7"
    assert listing.image_url == "http://pixelstockr.com/i/7.jpg"
    assert listing.listing_url == "http://pixelstockr.com/p/7"
    assert listing.contributor == "ann" and listing.listed_at.year == 2025 and listing.source == "feed"


def test_bad_feeds_are_recorded_with_reasons():
    assert parse_feed("s", b'{"listings": [', FEED).errors[0].kind == "feed_parse"
    assert parse_feed("s", b"\xff\xfe garbage", FEED).errors[0].kind == "feed_parse"
    assert parse_feed("s", b'{"listings": 3}', FEED).errors[0].kind == "feed_shape"
    assert parse_feed("s", b"[" * 100000 + b"]" * 100000, FEED).errors[0].kind in ("feed_parse", "feed_shape")
    body = json.dumps(
        {"items": [
            {"id": "1", "image_url": "/a.jpg"},
            {"id": "1", "image_url": "/b.jpg"},
            {"id": "2"},
            {"image_url": "/c.jpg"},
            42,
            {"id": "3", "image_url": "/d.jpg", "listed_at": "not a date"},
            {"id": {"x": 1}, "image_url": "/e.jpg"},
        ]}
    ).encode()
    result = parse_feed("s", body, FEED)
    assert [l.listing_id for l in result.listings] == ["1", "3"]
    assert result.listings[0].image_url.endswith("/a.jpg")  # the first of a duplicate id is kept
    kinds = sorted(e.kind for e in result.errors)
    assert kinds == ["bad_field", "bad_field", "duplicate_listing_id", "feed_shape", "missing_field", "missing_field"]
    assert all(e.reason for e in result.errors)


def test_unreachable_feed_is_an_error_not_a_crash():
    from lightbox.crawl.fetch import FetchError

    def refuse(url, max_bytes):
        raise FetchError("blocked_address", "10.0.0.1")

    result = FeedConnector("evil.com", "http://10.0.0.1/feed.json", fetch=refuse).read()
    assert result.listings == [] and result.errors[0].kind == "feed_unreachable"
    assert "blocked_address" in result.errors[0].reason


def test_landing_connector_and_read_all(conn):
    conn.cursor().execute(
        "insert into raw.stock_listings (site, listing_id, listing_url, image_url, contributor, title, listed_at,"
        " _file_id, _line, _arrived_at) values"
        " ('StockHub.net', 'a', 'http://stockhub.net/a', 'http://img.stockhub.net/a.jpg', 'ann', 'A', null, 1, 1, now()),"
        " ('stockhub.net', 'b', null, ' http://img.stockhub.net/b.jpg ', null, null, null, 1, 2, now())"
    )
    result = read_all([LandingConnector(conn), FeedConnector("x.com", FEED, fetch=lambda u, m: b"{")])
    assert sorted((l.site, l.listing_id, l.image_url) for l in result.listings) == [
        ("stockhub.net", "a", "http://img.stockhub.net/a.jpg"),
        ("stockhub.net", "b", "http://img.stockhub.net/b.jpg"),
    ]
    assert [e.kind for e in result.errors] == ["feed_parse"]


def test_feed_site_named_by_its_domain():
    body = json.dumps([{"listing_id": "1", "image_url": "/a.jpg"}]).encode()
    connector = FeedConnector("pixelstockr", "http://www.pixelstockr.com:8765/feed.json", fetch=lambda u, m: body)
    assert connector.site == "pixelstockr.com"
    assert connector.read().listings[0].site == "pixelstockr.com"
