"""The matching engine as the sweep's crawler sees it: ``match(bytes) -> [match dict]``.

The crawler (``lightbox.crawl``) knows nothing of catalogues: it is handed an object with a
``match`` method and calls it in its hash processes. This is the one the sweep hands it.
"""
from __future__ import annotations

from lightbox.crawl.crawler import ImageRejected


class CatalogMatcher:
    """Hash an image and query the exclusive-photo catalogue index loaded from ``conn``."""

    def __init__(self, conn):
        from lightbox.matching.catalog import load_index

        self.index = load_index(conn)

    def match(self, data: bytes) -> list[dict]:
        from lightbox.matching import BadImage, hash_image

        try:
            hashed = hash_image(data)
        except BadImage as exc:
            raise ImageRejected(f"bad_image: {getattr(exc, 'reason', exc)}") from exc
        if not getattr(hashed, "matchable", True):
            return []
        return [
            {
                "photo_id": m.photo_id,
                "distance": float(m.distance),
                "method": m.method,
                "transform": None if m.transform is None else str(m.transform),
                "details": m.details if isinstance(m.details, dict) else {"details": str(m.details)},
            }
            for m in self.index.query(hashed)
        ]
