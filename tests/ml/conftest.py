"""Fixtures of the AI-scan tests: the synthetic marketplace of aiscan_market and a champion."""
from __future__ import annotations

import pytest
from aiscan_market import TRAIN_AS_OF, Market


@pytest.fixture
def market(conn, landing) -> Market:
    return Market(conn, landing)


@pytest.fixture
def history_market(market) -> Market:
    market.history()
    return market


_MODEL_CACHE: dict = {}


@pytest.fixture
def trained(history_market, lightbox_home):
    """A champion trained on the history market (trained once per session; later tests
    register the same artifact under their own object store)."""
    from lightbox.objects import put_bytes
    from ml import registry, train

    conn = history_market.conn
    if "bytes" not in _MODEL_CACHE:
        result = train.train(conn, TRAIN_AS_OF, threads=2)
        train.promote_if_better(conn, result.version)
        _MODEL_CACHE["bytes"] = registry.Model.from_bytes(
            __import__("lightbox.objects", fromlist=["get_bytes"]).get_bytes(result.artifact_uri)).to_bytes()
        _MODEL_CACHE["version"] = result.version
        _MODEL_CACHE["metrics"] = result.metrics
    else:
        version = _MODEL_CACHE["version"]
        uri = registry.models_base(version) + "/model.json"
        put_bytes(uri, _MODEL_CACHE["bytes"])
        registry.register(conn, version, TRAIN_AS_OF, _MODEL_CACHE["metrics"], uri, None)
        registry.promote(conn, version, by="test", reason="fixture")
    return registry.Model.from_bytes(_MODEL_CACHE["bytes"])
