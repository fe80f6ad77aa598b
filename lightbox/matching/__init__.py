"""Image matching engine: finds copies of catalogue photos among images found on the web,
through crops, flips, rotations, padding, re-encoding and composites. No Airflow imports.

    from lightbox.matching import hash_image, CatalogIndex, verify_match
    index = CatalogIndex(); index.add("p1", hash_image(photo_bytes))
    index.query(hash_image(found_bytes))  # -> [Match(photo_id, distance, method, transform, details)]

See docs/matching.md for the descriptors, the thresholds and the benchmark behind them.
"""
from lightbox.matching.decode import BadImage
from lightbox.matching.hashing import HashResult, hash_image
from lightbox.matching.index import CatalogIndex, HammingIndex, Match
from lightbox.matching.verify import verify_match

__all__ = ["BadImage", "CatalogIndex", "HammingIndex", "HashResult", "Match", "hash_image", "verify_match"]
