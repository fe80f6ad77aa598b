"""One registrable domain for the crawler, the sweep, the audit and settlement: the decisions
of lightbox.domains (offline public suffix list, private suffixes count, IPs and unknown
suffixes), and that every user calls that one function."""
import pytest

from lightbox.domains import registrable_domain


@pytest.mark.parametrize("value, expected", [
    ("www.blog.example.co.uk", "example.co.uk"),
    ("https://Shop.Example.co.uk:8443/page?x=1", "example.co.uk"),
    ("  EXAMPLE.com. ", "example.com"),
    ("alice.github.io", "alice.github.io"),  # private suffix: each user is an infringer
    ("cdn.bob.github.io", "bob.github.io"),
    ("img.stockhub.test", "stockhub.test"),  # no known suffix: last two labels
    ("http://a.b.c.internal/x", "c.internal"),
    ("localhost", "localhost"),
    ("127.0.0.1:8080", "127.0.0.1"),
    ("http://[::1]:80/", "::1"),
    ("", ""),
    (None, ""),
])
def test_registrable_domain(value, expected):
    assert registrable_domain(value) == expected


def test_every_user_calls_the_one_definition():
    from lightbox.crawl import frontier
    from lightbox.exclusivity import audit
    from lightbox.infringement import actioner
    from lightbox.settlement import domains

    assert frontier.registrable_domain is audit.registrable_domain is actioner.registrable_domain \
        is domains.registrable_domain is registrable_domain


def test_no_network(monkeypatch):
    """The suffix list is the bundled snapshot: a fresh extractor never opens a socket."""
    import socket

    from lightbox import domains

    def refuse(*args, **kwargs):
        raise AssertionError("registrable_domain reached the network")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    domains._extractor.cache_clear()
    domains.registrable_domain.cache_clear()
    assert registrable_domain("news.example.com.au") == "example.com.au"
