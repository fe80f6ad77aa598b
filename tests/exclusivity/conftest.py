"""Fixtures of the exclusivity audit tests (helpers in exclusivity_fixtures.py)."""
from __future__ import annotations

import pytest
from exclusivity_fixtures import Marketplace, StockServer, build_marketplace  # noqa: F401


@pytest.fixture
def stock_server(monkeypatch):
    server = StockServer()
    monkeypatch.setenv(
        "LIGHTBOX_CRAWL_RESOLVE",
        "stockhub.net=127.0.0.1,img.stockhub.net=127.0.0.1,pixelstockr.com=127.0.0.1,brokenstock.com=127.0.0.1,"
        "sneaky.pixelstockr.com=10.0.0.7",
    )
    monkeypatch.setenv("LIGHTBOX_CRAWL_ALLOW_NETWORKS", "127.0.0.0/8")
    yield server
    server.close()


@pytest.fixture
def marketplace(conn, landing, lightbox_home, stock_server, monkeypatch) -> Marketplace:
    return build_marketplace(conn, landing, stock_server, monkeypatch)
