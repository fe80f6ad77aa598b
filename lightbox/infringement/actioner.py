"""What a sighting means, and what is done about it.

``match_images`` turns the sweep's raw image matches (``infringement.image_matches``, one per
found image and catalogue photo) into sightings on pages (``infringement.matches``), each with
a status decided here:

* ``own_domain``: the page is on the marketplace's own domains (``LIGHTBOX_OWN_DOMAINS`` and
  their subdomains): recorded, never a case;
* ``licensed``: the page's host is the licensee domain of a licence of that photo (or one of
  its subdomains) valid at the sighting (``starts_at <= as_of < ends_at``, open-ended when
  ``ends_at`` is null);
* ``exclusivity_hold``: the photo has an open or confirmed exclusivity violation
  (``exclusivity.holds``): no case is opened, and open cases of the photo are paused;
* ``case``: everything else; one case per photo and infringer registrable domain.

A match a person dismissed stays dismissed. Times come from ``as_of`` (the DAG run's data
interval end), never from the clock; the evidence keeps the real fetch times.

``open_cases`` opens and updates cases and writes one partner-outbox message per new case and
per status change (``infringement.partner_outbox``). Every write goes through
:mod:`lightbox.infringement.cases`, the one writer the exclusivity audit uses too.
"""
from __future__ import annotations

import json
import logging
from collections import defaultdict
from datetime import datetime

from lightbox.domains import host_of, registrable_domain
from lightbox.infringement import cases

log = logging.getLogger(__name__)

HOLD_REASON = cases.HOLD_PREFIX + ": the photo is also offered on another stock site"


def _domain_matches(host: str, domain: str) -> bool:
    domain = (domain or "").strip().lower().rstrip(".")
    if domain.startswith("www."):
        domain = domain[4:]
    if "://" in domain:  # a URL in the domain column: take its host
        domain = host_of(domain)
    return bool(domain) and (host == domain or host.endswith("." + domain))


def classify(page_url: str, photo_id: str, as_of: datetime, *, licenses: dict, own_domains, held: set) -> str:
    """The status of one sighting (see the module docstring for the rules and their order)."""
    host = host_of(page_url)
    if any(_domain_matches(host, d) for d in own_domains):
        return "own_domain"
    for domain, starts_at, ends_at in licenses.get(photo_id, ()):
        if _domain_matches(host, domain) and starts_at <= as_of and (ends_at is None or as_of < ends_at):
            return "licensed"
    if photo_id in held:
        return "exclusivity_hold"
    return "case"


def _licenses(conn, photo_ids) -> dict:
    out = defaultdict(list)
    with conn.cursor() as cur:
        cur.execute(
            """select photo_id, licensee_domain, starts_at, ends_at from raw.licenses
               where photo_id = any(%s) and licensee_domain is not null and starts_at is not null""",
            (list(photo_ids),),
        )
        for photo_id, domain, starts_at, ends_at in cur.fetchall():
            out[photo_id].append((domain, starts_at, ends_at))
    return out


def _held(conn) -> set:
    with conn.cursor() as cur:
        cur.execute("select photo_id from exclusivity.holds")
        return {r[0] for r in cur.fetchall()}


CANDIDATES_SQL = """
select r.page_url, r.image_url, m.photo_id, m.distance, m.method, m.transform, m.details,
       p.owner_id, p.image_path,
       pf.final_url, pf.http_status, pf.fetched_at, pf.resolved_ip, pf.content_sha256, pf.body_uri, pf.headers,
       imf.final_url, imf.http_status, imf.fetched_at, imf.resolved_ip, imf.content_sha256, imf.body_uri, imf.headers
from infringement.crawl_image_refs r
join infringement.image_matches m on m.sweep_id = r.sweep_id and m.image_url = r.image_url
join infringement.crawl_frontier pf on pf.sweep_id = r.sweep_id and pf.url = r.page_url and pf.status = 'fetched'
join infringement.crawl_frontier imf on imf.sweep_id = r.sweep_id and imf.url = r.image_url and imf.status = 'fetched'
left join raw.photos p on p.photo_id = m.photo_id
where r.sweep_id = %s
order by m.photo_id, r.page_url, r.image_url
"""


def match_images(conn, sweep_id: str, as_of: datetime, settings=None, verify=True) -> dict:
    """Classify every sighting of the sweep, store its evidence, upsert ``infringement.matches``.
    Returns counts by status."""
    from lightbox.crawl.fetch import FetchError
    from lightbox.infringement.evidence import FetchRecord, build_evidence
    from lightbox.landing.media import read_photo_bytes

    if settings is None:
        from lightbox.config import settings as current

        settings = current()
    with conn.cursor() as cur:
        cur.execute(CANDIDATES_SQL, (sweep_id,))
        rows = cur.fetchall()
    licenses = _licenses(conn, {r[2] for r in rows})
    held = _held(conn)
    with conn.cursor() as cur:
        cur.execute("""select photo_id, page_url, image_url, sweep_id, evidence_uri from infringement.matches
                       where sweep_id = %s""", (sweep_id,))
        existing = {tuple(r[:3]): r[3:] for r in cur.fetchall()}
    catalog: dict[str, bytes | None] = {}
    verified: dict[tuple, dict | None] = {}
    counts: dict[str, int] = defaultdict(int)
    upserts = []
    for row in rows:
        (page_url, image_url, photo_id, distance, method, transform, details, owner_id, image_path,
         *fetch_columns) = row
        status = classify(page_url, photo_id, as_of, licenses=licenses, own_domains=settings.own_domains, held=held)
        counts[status] += 1
        infringer = registrable_domain(host_of(page_url))
        evidence_uri = None
        if status != "own_domain":
            if photo_id not in catalog:
                try:
                    catalog[photo_id] = read_photo_bytes(image_path) if image_path else None
                except (OSError, ValueError, FetchError) as exc:
                    log.warning("catalogue photo %s unreadable for evidence: %s", photo_id, exc)
                    catalog[photo_id] = None
            page = FetchRecord(page_url, *fetch_columns[:7])
            image = FetchRecord(image_url, *fetch_columns[7:])
            done = existing.get((photo_id, page_url, image_url))
            if done and done[0] == sweep_id and done[1]:
                evidence_uri = done[1]  # this sweep's evidence is stored already (a rerun)
            elif catalog[photo_id] is not None and image.body_uri:
                key = (photo_id, image.sha256)
                if key not in verified:
                    verified[key] = _regions(details) or (_verify(catalog[photo_id], image.body_uri) if verify else None)
                evidence_uri, _ = build_evidence(
                    evidence_uri=settings.evidence_uri, sweep_id=sweep_id, as_of=as_of,
                    photo={"photo_id": photo_id, "owner_id": owner_id, "image_path": image_path},
                    catalog_bytes=catalog[photo_id], page=page, image=image,
                    match={"distance": float(distance), "method": method, "transform": transform, "details": details},
                    verification=verified[key],
                )
        upserts.append((
            photo_id, page_url, image_url, distance, method, transform, as_of, as_of, evidence_uri, status,
            infringer, cases.case_id_for(photo_id, infringer) if status == "case" else None,
            details or {}, sweep_id,
        ))
    with conn.cursor() as cur:
        cases.upsert_matches(cur, upserts)
    if not conn.autocommit:
        conn.commit()
    return dict(counts)


def _regions(details) -> dict | None:
    """The matched regions the engine already reported with its match (fractions of each
    image), so that evidence needs no second feature match."""
    if isinstance(details, str):
        details = json.loads(details)
    if not isinstance(details, dict) or not details.get("region_catalog_frac") or not details.get("region_found_frac"):
        return None
    keep = ("region_catalog_frac", "region_found_frac", "overlap_pct", "found_coverage_pct", "rotation_deg",
            "scale", "inliers", "flipped")
    return {k: details[k] for k in keep if k in details} | {"source": "matcher"}


def _verify(catalog_bytes: bytes, image_uri: str) -> dict | None:
    from lightbox.matching.verify import verify_match
    from lightbox.objects import get_bytes

    try:
        return verify_match(catalog_bytes, get_bytes(image_uri))
    except Exception as exc:  # noqa: BLE001 - evidence without regions is still evidence
        log.warning("verification of %s failed: %s", image_uri, exc)
        return None


def open_cases(conn, sweep_id: str, as_of: datetime) -> dict:
    """Open a case per photo and infringer domain sighted in this sweep (once), update
    re-sightings, pause the active cases of photos on exclusivity hold (and resume cases
    whose hold is lifted), then bring the partner outbox up to date. Idempotent for one
    ``as_of``."""
    opened = paused = resumed = updated = 0
    with conn.cursor() as cur:
        cur.execute(
            """select m.photo_id, p.owner_id, m.infringer_domain,
                      (array_agg(m.evidence_uri order by m.page_url, m.image_url) filter (where m.evidence_uri is not null))[1]
               from infringement.matches m left join raw.photos p on p.photo_id = m.photo_id
               where m.status = 'case' and m.sweep_id = %s and m.last_seen_at = %s
               group by 1, 2, 3 order by 1, 3""",
            (sweep_id, as_of),
        )
        for photo_id, owner_id, domain, evidence_uri in cur.fetchall():
            case = cases.upsert_case(cur, photo_id, owner_id, domain, as_of, evidence_uri)
            opened += case.opened
            updated += not case.opened
            if case.status == "paused" and (case.status_reason or "").startswith(cases.HOLD_PREFIX):
                # sighted as a case again, so the photo is no longer held
                cases.set_case_status(cur, case.case_id, "open", cases.HOLD_PREFIX + " lifted", as_of)
                resumed += 1
        paused = len(cases.pause_for_hold(cur, sorted(_held(conn)), HOLD_REASON, as_of))
        messages = cases.sync_outbox(cur, as_of)
    if not conn.autocommit:
        conn.commit()
    return {"opened": opened, "updated": updated, "paused": paused, "resumed": resumed, "outbox_messages": messages}

