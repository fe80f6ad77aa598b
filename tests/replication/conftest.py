"""Fixtures of the replication tests (helpers live in replication_helpers)."""
import pytest
from replication_helpers import Raw


@pytest.fixture
def raw(conn, landing):
    return Raw(conn, landing)
