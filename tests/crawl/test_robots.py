"""robots.txt per RFC 9309."""
import pytest

from lightbox.crawl.robots import RobotsCache, RobotsRules, parse

ROBOTS = """
# comments are ignored
User-agent: *
Disallow: /private/
Allow: /private/public.html

User-agent: OtherBot
Disallow: /

Sitemap: https://example.com/sitemap.xml
"""


def test_star_group_longest_match_and_allow_wins():
    rules = parse(ROBOTS)
    assert not rules.allowed("https://example.com/private/x.html")
    assert rules.allowed("https://example.com/private/public.html")
    assert rules.allowed("https://example.com/")
    assert rules.allowed("https://example.com/robots.txt")


def test_own_group_replaces_star_group_case_insensitively():
    rules = parse("User-agent: *\nDisallow: /\n\nUser-agent: lightboxbot\nUser-agent: x\nDisallow: /nope\n")
    assert rules.allowed("http://a.test/page")
    assert not rules.allowed("http://a.test/nope/1")


def test_groups_for_our_agent_are_merged():
    rules = parse("User-agent: LightboxBot\nDisallow: /a\n\nUser-agent: LightboxBot\nDisallow: /b\n")
    assert not rules.allowed("http://a.test/a") and not rules.allowed("http://a.test/b")


def test_wildcards_and_end_anchor():
    rules = parse("User-agent: *\nDisallow: /*.jpg$\nDisallow: /search*q=\nAllow: /ok.jpg$\n")
    assert not rules.allowed("http://a.test/img/x.jpg")
    assert rules.allowed("http://a.test/img/x.jpg?size=2")
    assert not rules.allowed("http://a.test/search?lang=en&q=cats")
    assert rules.allowed("http://a.test/ok.jpg")


def test_percent_encoding_is_normalised_and_empty_disallow_allows():
    rules = parse("User-agent: *\nDisallow: /%7Ejoe/\n")
    assert not rules.allowed("http://a.test/~joe/index.html")
    assert parse("User-agent: *\nDisallow:\n").allowed("http://a.test/anything")


def test_no_matching_group_allows_everything():
    assert parse("User-agent: OtherBot\nDisallow: /\n").allowed("http://a.test/x")


def test_crawl_delay_and_cache_expiry():
    rules = parse("User-agent: *\nCrawl-delay: 2.5\n")
    assert rules.crawl_delay == 2.5
    cache = RobotsCache(max_age=10**9)
    assert cache.max_age == 24 * 3600  # never longer than 24 hours
    cache.put("http://a.test:80", RobotsRules.disallowing("test"))
    assert cache.get("http://a.test:80").disallow_all
    cache.max_age = -1
    assert cache.get("http://a.test:80") is None


@pytest.mark.timeout(60)
def test_wildcard_heavy_rules_answer_in_linear_time():
    """Eight ``*`` against long paths took about 40 s with a regex per rule (backtracking),
    blocking the shard's event loop; protego matches in linear time. No timing is asserted:
    a catastrophic matcher would make this test hang, and pytest-timeout ends it."""
    rules = parse("User-agent: *\n" + "".join(f"Disallow: /{'*a' * 8}{i}*b$\n" for i in range(50)) + "Allow: /ok\n")
    for n in range(200):
        path = "/" + "a" * (60 + n) + "c"
        assert rules.allowed(f"http://a.test{path}")
    assert not rules.allowed("http://a.test/" + "a" * 40 + "3xxb")
    assert rules.allowed("http://a.test/ok")
