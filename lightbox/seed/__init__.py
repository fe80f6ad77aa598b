"""The sample marketplace: ``generate(out, scale, seed, sites_dir=None, as_of=None, sites_port=8765)``
writes a deterministic landing folder (every source of the landing contract, images, planted
scenarios and contract-breaking rows), the sample websites the demo crawls, and
``out/_seed.json``, the manifest of what was planted. Same seed and scale, same bytes.

Landing folder (files load in name order; later versions of a key sit in later files):

- ``users/users_0001.csv`` first version of every user; ``users_0002_optin.csv`` later
  versions with ``auto_licensing=true`` (``updated_at`` = opt-in time); ``users_0003_changes.csv``
  opt-outs and deletions; ``users_0099_defects.csv`` contract breaks.
- ``photos/photos_NNNN.csv`` (250,000 rows a file), ``photos_0080_recent.csv`` the drifted
  batch, ``photos_0081_edge_cases.csv`` (no owner, missing image, truncated image),
  ``photos_0090_updates.csv`` (removed from licensing, deleted), ``photos_0099_defects.csv``.
- ``inspections``, ``sales`` (``sales_0002_reexport.csv`` repeats earlier sales under new ids),
  ``licenses`` (``licenses_0002_extra_column.csv`` has an unknown ``notes`` column,
  ``licenses_0099_noheader.csv`` has no header row), ``region_consents`` (user-level events,
  then photo-level events, then an empty file), ``stock_listings``, ``settlement_reports``
  (``pixsy_*`` files carry the extra column ``reverses_line_id``), ``fx_rates``, ``crawl_seeds``.
- ``images/<sample>_<variant>.jpg``: 16 sample photos x 10 quality variants (sharp, soft,
  blurred, overexposed, underexposed, lowres, noisy, jpeg, colourshift, crop), reused by rows.

``_seed.json`` keys: ``as_of``, ``scale``, ``seed``, ``sites_port``, ``sites_dir``, ``hosts``,
``own_domains``, ``crawl_resolve``, ``stock_feeds``, ``timeline``, ``counts`` (rows per
source), ``files``, ``images`` (per image: kind, size, sha256, pixel quality, measured
sharpness/brightness), and ``expected``:

- ``quarantine``: [{source, file, line, kind, detail}] every row the ingest must quarantine
  (``line`` = physical line, header = 1); ``landing``: duplicate keys (later line wins),
  extra columns (kept), empty and headerless files.
- ``infringement``: [{photo_id, page_url, image_url, infringer_domain (registrable),
  transform, embedded_as, expect: case|licensed|own_domain|exclusivity_hold|robots_blocked,
  found_by}]; ``cases``: [{photo_id, infringer_domain}] the cases that should open.
- ``exclusivity``: [{site, listing_id, listing_url, image_url, photo_id, contributor,
  expect: violation|infringement|no_match|image_404|duplicate_listing_id|missing_fields}].
- ``settlement``: {lines: [{partner, report_id, line_id, ..., file, line, expect: credit or a
  discrepancy kind}], resent_same_key, missing_fx_date, currencies}.
- ``replication``: {eu, cn, cn_if_enforceable (photo ids), counts, planted}; cn is computed as
  not enforceable (the demo's setting).
- ``aiscan``: {eligible (photo ids the scan must score), planted [{key, photo_id, expect:
  scored|not_scored, why}], drift_batch, absurd_exif, orphan_photos, missing_image,
  unreadable_image, acceptance_by_variant}.
- ``quality``: the re-exported sales, the missing fx day, the drifted batch.
- ``exclusive_photos``, ``users`` (the planted users by role), ``not_found_urls``.

Lists of photo ids are given up to 50,000 photos (small, medium); above, counts only.

Pages link images on other hosts with absolute URLs that carry ``sites_port``; a test that
serves the sites on another port generates with that port::

    port = lightbox.sites.free_port()
    generate(landing, sites_dir=sites, sites_port=port)
    server, thread = lightbox.sites.serve_sites(sites, port=port)
"""
from __future__ import annotations

import json
from pathlib import Path

from lightbox.seed.generate import DEFAULT_AS_OF, DEFAULT_PORT, generate

__all__ = ["DEFAULT_AS_OF", "DEFAULT_PORT", "generate", "load_manifest"]


def load_manifest(landing=None) -> dict:
    """The ``_seed.json`` of a landing folder (default: ``LIGHTBOX_LANDING``)."""
    if landing is None:
        from lightbox.config import settings

        landing = settings().landing
    return json.loads((Path(landing) / "_seed.json").read_text(encoding="utf-8"))
