"""Find images and links in an HTML page.

Images: ``img`` ``src``, the largest ``srcset`` candidate (of ``img`` and ``picture``/``source``),
lazy-loading ``data-src``/``data-srcset``/``data-original``, ``og:image`` and ``twitter:image``
meta tags, ``link rel=image_src``, and ``background-image`` in inline ``style`` attributes and
``<style>`` blocks. Links: ``a``/``area`` ``href``. Everything is resolved against the page URL
(or its ``<base href>``), fragments dropped, only http(s) kept.

Work is bounded whatever the page holds: attribute lengths, candidates per srcset, images
and links per page are capped, so a hostile page costs at most a linear scan.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit, urlunsplit

MAX_ATTRIBUTE = 16_384
MAX_SRCSET_CANDIDATES = 256
MAX_IMAGES = 500
MAX_LINKS = 2_000
CSS_URL = re.compile(r"""background(?:-image)?\s*:[^;{}]*?url\(\s*(['"]?)([^'")]{1,2048})\1\s*\)""", re.IGNORECASE)
META_IMAGE = {"og:image", "og:image:url", "og:image:secure_url", "twitter:image", "twitter:image:src"}


@dataclass
class Discovered:
    images: dict[str, str] = field(default_factory=dict)  # url -> how found (first way)
    links: list[str] = field(default_factory=list)
    truncated: bool = False


def normalise_url(url: str, base: str | None = None) -> str | None:
    """The frontier key of a URL: absolute http(s), canonical by w3lib (IDNA host, one
    percent-encoding, sorted query, no fragment), lower-case scheme and host, default port
    dropped; None for anything else. Two spellings of one resource give one key."""
    from w3lib.url import canonicalize_url

    url = url.strip()
    if not url or url.startswith(("data:", "javascript:", "mailto:", "tel:", "blob:")):
        return None
    try:
        absolute = urljoin(base, url) if base else url
        parts = urlsplit(absolute)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            return None
        parts = urlsplit(canonicalize_url(absolute))
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").lower().rstrip(".")
        port = parts.port
    except (ValueError, UnicodeError):
        return None
    if not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None or port == (443 if scheme == "https" else 80) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def largest_srcset_candidate(srcset: str) -> str | None:
    """The candidate with the largest width (``w``) or density (``x``) descriptor; the
    first when none has one. Linear in the (capped) attribute length."""
    best_url, best_score = None, -1.0
    count = 0
    for piece in srcset[:MAX_ATTRIBUTE].split(","):
        piece = piece.strip()
        if not piece:
            continue
        count += 1
        if count > MAX_SRCSET_CANDIDATES:
            break
        tokens = piece.split()
        url = tokens[0]
        score = 1.0  # no descriptor means 1x
        if len(tokens) > 1:
            descriptor = tokens[1].lower()
            try:
                if descriptor.endswith("w"):
                    score = float(descriptor[:-1]) * 1000  # a width beats any density
                elif descriptor.endswith("x"):
                    score = float(descriptor[:-1])
            except ValueError:
                score = 0.0
        if score > best_score:
            best_url, best_score = url, score
    return best_url


class _Parser(HTMLParser):
    def __init__(self, page_url: str):
        super().__init__(convert_charrefs=True)
        self.base = page_url
        self.found = Discovered()
        self._seen_links: set[str] = set()
        self._in_style = False

    def _image(self, raw: str | None, how: str) -> None:
        if not raw or len(self.found.images) >= MAX_IMAGES:
            if raw:
                self.found.truncated = True
            return
        url = normalise_url(raw[:MAX_ATTRIBUTE], self.base)
        if url and url not in self.found.images:
            self.found.images[url] = how

    def _link(self, raw: str | None) -> None:
        if not raw:
            return
        if len(self.found.links) >= MAX_LINKS:
            self.found.truncated = True
            return
        url = normalise_url(raw[:MAX_ATTRIBUTE], self.base)
        if url and url not in self._seen_links:
            self._seen_links.add(url)
            self.found.links.append(url)

    def _css(self, text: str, how: str) -> None:
        for match in CSS_URL.finditer(text[: MAX_ATTRIBUTE * 4]):
            self._image(match.group(2), how)

    def handle_starttag(self, tag, attrs):
        a = {k.lower(): (v or "") for k, v in attrs if k}
        if tag == "base" and a.get("href"):
            self.base = urljoin(self.base, a["href"][:MAX_ATTRIBUTE])
        elif tag == "img":
            self._image(a.get("src"), "img_src")
            for key in ("srcset", "data-srcset"):
                if a.get(key):
                    self._image(largest_srcset_candidate(a[key]), key.replace("-", "_"))
            for key in ("data-src", "data-original", "data-lazy-src"):
                self._image(a.get(key), key.replace("-", "_"))
        elif tag == "source":
            for key in ("srcset", "data-srcset"):
                if a.get(key):
                    self._image(largest_srcset_candidate(a[key]), "picture_source")
            if a.get("src") and a.get("type", "image/").startswith("image/"):
                self._image(a.get("src"), "picture_source")
        elif tag == "meta":
            name = (a.get("property") or a.get("name") or "").lower()
            if name in META_IMAGE:
                self._image(a.get("content"), name.split(":")[0] + "_image")
        elif tag == "link" and "image_src" in a.get("rel", "").lower():
            self._image(a.get("href"), "link_image_src")
        elif tag in ("a", "area"):
            self._link(a.get("href"))
        elif tag == "style":
            self._in_style = True
        if a.get("style"):
            self._css(a["style"], "css_background")
        if tag not in ("img", "source") and a.get("data-src"):
            self._image(a.get("data-src"), "data_src")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self._css(data, "css_background")


def decode_page(body: bytes, content_type: str | None = None) -> str:
    """A page's text in the charset it declares (BOM, HTTP header, ``<meta>``, by w3lib's
    precedence), UTF-8 when it declares none; undecodable bytes are replaced."""
    from w3lib.encoding import html_to_unicode

    _encoding, text = html_to_unicode(content_type, body)
    return text


def discover(html: bytes | str, page_url: str, content_type: str | None = None) -> Discovered:
    """Images and links of one page (``content_type``: the server's header, for its charset)."""
    if isinstance(html, bytes):
        html = decode_page(html, content_type)
    parser = _Parser(page_url)
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # noqa: BLE001 - a malformed page keeps what was found so far
        parser.found.truncated = True
    return parser.found
