"""One small sample marketplace per test session, shared by the seed tests (read-only)."""
from __future__ import annotations

import json

import pytest


@pytest.fixture(scope="session")
def seeded(tmp_path_factory):
    from lightbox.seed import generate

    root = tmp_path_factory.mktemp("seed")
    summary = generate(root / "landing", scale="small", seed=7, sites_dir=root / "sites")
    manifest = json.loads((root / "landing" / "_seed.json").read_text())
    return {"landing": root / "landing", "sites": root / "sites", "summary": summary, "manifest": manifest}
