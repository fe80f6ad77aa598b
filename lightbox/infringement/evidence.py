"""Evidence that holds up: for one sighting (a catalogue photo found as an image on a page),
every piece stored by its SHA-256 under ``settings().evidence_uri`` and one JSON manifest that
links them: the page HTML, the image bytes, both responses' headers, fetch times and the IPs
the crawler connected to, the match (distance, method, transform, matched regions) and a
side-by-side PNG of the catalogue photo and the found image with the matched region outlined.

The manifest is built only from stored facts (no ``now()``), so the same sighting always
yields the same manifest bytes and the same URI: rerunning a sweep stores nothing new.
"""
from __future__ import annotations

import io
import json
from dataclasses import dataclass

from lightbox.objects import get_bytes, put_content_addressed

MANIFEST_VERSION = "lightbox.infringement.evidence/1"
PANEL_HEIGHT = 480


@dataclass
class FetchRecord:
    url: str
    final_url: str | None
    http_status: int | None
    fetched_at: object
    resolved_ip: str | None
    sha256: str | None
    body_uri: str | None
    headers: dict | None

    def as_manifest(self, evidence_uri: str) -> dict:
        headers = self.headers or {}
        headers_uri, headers_sha = put_content_addressed(
            evidence_uri, json.dumps(headers, sort_keys=True, indent=1).encode(), ".headers.json"
        )
        return {
            "url": self.url,
            "final_url": self.final_url,
            "http_status": self.http_status,
            "fetched_at": self.fetched_at.isoformat() if hasattr(self.fetched_at, "isoformat") else self.fetched_at,
            "resolved_ip": self.resolved_ip,
            "body": {"uri": self.body_uri, "sha256": self.sha256},
            "headers": {"uri": headers_uri, "sha256": headers_sha},
        }


def _open(data: bytes):
    """(RGB image, upright for EXIF, reduced for the panel; its full upright size)."""
    from PIL import Image, ImageOps

    im = Image.open(io.BytesIO(data))
    width, height = im.size
    try:
        if im.getexif().get(0x0112, 1) in (5, 6, 7, 8):  # rotated by 90 degrees
            width, height = height, width
    except Exception:  # noqa: BLE001 - unreadable EXIF: take the stored orientation
        pass
    im.draft("RGB", (PANEL_HEIGHT * 2, PANEL_HEIGHT * 2))  # JPEG: decode at a reduced scale
    im = ImageOps.exif_transpose(im).convert("RGB")
    return im, (width, height)


def side_by_side(catalog_bytes: bytes, found_bytes: bytes, verification: dict | None) -> bytes:
    """A PNG: catalogue photo left, found image right, the matched region outlined in red on
    both (the whole found image when the match was not verified region by region)."""
    from PIL import Image, ImageDraw

    panels = []
    for data, region_key in ((catalog_bytes, "region_catalog"), (found_bytes, "region_found")):
        im, full_size = _open(data)
        scale = PANEL_HEIGHT / im.height
        panel = im.resize((max(1, round(im.width * scale)), PANEL_HEIGHT))
        draw = ImageDraw.Draw(panel)
        region = (verification or {}).get(region_key)
        fraction = (verification or {}).get(region_key + "_frac")
        if fraction:  # fractions of the upright image
            box = [fraction[0] * panel.width, fraction[1] * panel.height, fraction[2] * panel.width, fraction[3] * panel.height]
        elif region:  # pixels of the full-size upright image
            sx, sy = panel.width / full_size[0], panel.height / full_size[1]
            box = [region[0] * sx, region[1] * sy, region[2] * sx, region[3] * sy]
        else:
            box = [0, 0, panel.width - 1, panel.height - 1]
        draw.rectangle(box, outline=(230, 20, 20), width=4)
        panels.append(panel)
    gap = 16
    canvas = Image.new("RGB", (panels[0].width + panels[1].width + 3 * gap, PANEL_HEIGHT + 2 * gap + 24), "white")
    x = gap
    draw = ImageDraw.Draw(canvas)
    for label, panel in zip(("catalogue photo", "found image"), panels):
        canvas.paste(panel, (x, gap + 24))
        draw.text((x, gap), label, fill=(0, 0, 0))
        x += panel.width + gap
    if verification and verification.get("overlap_pct") is not None:
        draw.text((x - panels[1].width - gap, gap + 10), f"overlap {verification['overlap_pct']}%", fill=(0, 0, 0))
    out = io.BytesIO()
    canvas.save(out, "PNG", compress_level=1)  # photos compress poorly anyway; level 6 costs 10x the time
    return out.getvalue()


def build_evidence(*, evidence_uri: str, sweep_id: str, as_of, photo: dict, catalog_bytes: bytes,
                   page: FetchRecord, image: FetchRecord, match: dict, verification: dict | None) -> tuple[str, str]:
    """Store the side-by-side picture and the manifest; returns (manifest URI, its SHA-256)."""
    found_bytes = get_bytes(image.body_uri)
    try:
        picture = side_by_side(catalog_bytes, found_bytes, verification)
        picture_uri, picture_sha = put_content_addressed(evidence_uri, picture, ".side_by_side.png")
        picture_entry = {"uri": picture_uri, "sha256": picture_sha}
    except Exception as exc:  # noqa: BLE001 - the rest of the evidence still stands
        picture_entry = {"error": f"{type(exc).__name__}: {exc}"}
    from lightbox.objects import sha256_hex

    manifest = {
        "manifest": MANIFEST_VERSION,
        "sweep_id": sweep_id,
        "as_of": as_of.isoformat() if hasattr(as_of, "isoformat") else as_of,
        "photo": {"photo_id": photo["photo_id"], "owner_id": photo.get("owner_id"),
                  "image_path": photo.get("image_path"), "sha256": sha256_hex(catalog_bytes)},
        "page": page.as_manifest(evidence_uri),
        "image": image.as_manifest(evidence_uri),
        "match": {k: match.get(k) for k in ("distance", "method", "transform", "details")},
        "verification": verification,
        "side_by_side": picture_entry,
        "crawler": {"user_agent": _user_agent()},
    }
    data = json.dumps(manifest, sort_keys=True, indent=1, default=str).encode()
    return put_content_addressed(evidence_uri, data, ".manifest.json")


def _user_agent() -> str:
    from lightbox.crawl.fetch import USER_AGENT

    return USER_AGENT
