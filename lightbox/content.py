"""What a body is, by its bytes: the one content sniffer of Lightbox.

The crawler, the exclusivity audit and the matching engine's decoder all ask it, so that they
agree on what is an image, what is a page and what is neither. A server's Content-Type is
never trusted: it is only shown beside the sniffed type when a fetch is refused.
"""
from __future__ import annotations

RASTER_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp", "image/bmp", "image/tiff", "image/avif"})
# Markup: never decoded as an image (an SVG can carry scripts and has no pixels to hash).
MARKUP_TYPES = frozenset({"image/svg+xml", "text/html", "application/xml"})
SUFFIXES = {
    "image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp", "image/bmp": ".bmp",
    "image/tiff": ".tif", "image/avif": ".avif", "image/svg+xml": ".svg", "text/html": ".html",
    "application/xml": ".xml", "application/json": ".json",
}


def sniff(body: bytes) -> str:
    """The content type the bytes say, whatever the server claimed."""
    head = body[:512]
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:2] == b"BM":
        return "image/bmp"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "image/tiff"
    if head[4:12] in (b"ftypavif", b"ftypheic", b"ftypavis"):
        return "image/avif"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if b"<svg" in text and (text.startswith((b"<svg", b"<?xml", b"<!doctype svg", b"<!--"))):
        return "image/svg+xml"
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) or b"<html" in text:
        return "text/html"
    if text.startswith(b"<?xml") or text.startswith((b"<rss", b"<feed")):
        return "application/xml"
    if text.startswith((b"{", b"[")):
        return "application/json"
    if text.startswith(b"<"):
        return "text/html"
    return "application/octet-stream"


def is_markup(body: bytes) -> bool:
    """HTML, XML or SVG: a document, not a raster image."""
    return sniff(body) in MARKUP_TYPES


def suffix_for(body: bytes) -> str:
    """The file suffix for storing ``body`` (``.bin`` when the bytes say nothing known)."""
    return SUFFIXES.get(sniff(body), ".bin")
