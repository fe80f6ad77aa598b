"""The sample "internet" the demo crawls: blogs, news and wallpaper sites that embed copies of
exclusive photos (altered the way infringers alter them), a licensee's site, the marketplace's
own site, and two stock sites (one delivered through the ``stock_listings`` landing source,
one through a JSON listing feed). Static files under ``sites_dir/<hostname>/``; the server in
``lightbox.sites`` serves them by Host header on loopback."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from html import escape
from pathlib import Path

from lightbox.seed.images import synthetic_image, transform_copy

SUNNY = "www.sunny-travel-blog.co.uk"
SUNNY_CDN = "cdn.sunny-travel-blog.co.uk"
NEWS = "dailyfotonews.com"
WALLS = "cheap-wallpapers.net"
PINS = "pin-collector.io"
OWN = "www.lightbox-market.com"
AGENCY = "licensed-agency.com"
AGENCY_MEDIA = "media.licensed-agency.com"
STOCKHUB = "stockhub.net"
PIXELSTOCKR = "pixelstockr.com"
HOSTS = (SUNNY, SUNNY_CDN, NEWS, WALLS, PINS, OWN, AGENCY, AGENCY_MEDIA, STOCKHUB, PIXELSTOCKR)
REGISTRABLE = {
    SUNNY: "sunny-travel-blog.co.uk", SUNNY_CDN: "sunny-travel-blog.co.uk", NEWS: NEWS, WALLS: WALLS,
    PINS: PINS, OWN: "lightbox-market.com", AGENCY: AGENCY, AGENCY_MEDIA: AGENCY, STOCKHUB: STOCKHUB,
    PIXELSTOCKR: PIXELSTOCKR,
}
OWN_DOMAINS = ("lightbox-market.com",)


@dataclass
class Sites:
    root: Path
    port: int
    infringement: list = field(default_factory=list)
    exclusivity: list = field(default_factory=list)
    stock_rows: list = field(default_factory=list)
    crawl_seeds: list = field(default_factory=list)
    not_found: list = field(default_factory=list)
    files: int = 0

    def url(self, host: str, path: str) -> str:
        return f"http://{host}:{self.port}{path}"

    def write(self, host: str, path: str, data: bytes | str) -> str:
        target = self.root / host / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data.encode() if isinstance(data, str) else data)
        self.files += 1
        return self.url(host, path)

    def page(self, host: str, path: str, title: str, body: str, head: str = "") -> str:
        html = (
            "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{escape(title)}</title>\n{head}</head>\n<body>\n<h1>{escape(title)}</h1>\n{body}\n</body>\n</html>\n"
        )
        return self.write(host, path, html)

    def copy(self, host: str, path: str, photo, transform: str, images_dir: Path) -> str:
        return self.write(host, path, transform_copy(images_dir.parent / photo.image.image_path, transform))

    def unrelated(self, host: str, path: str, key: str, size=(640, 420)) -> str:
        return self.write(host, path, synthetic_image(key, *size))

    def expect(self, photo, page_url: str, image_url: str, host: str, transform: str, expect: str, how: str, found_by="infringement_sweep"):
        self.infringement.append({
            "photo_id": photo.photo_id, "page_url": page_url, "image_url": image_url,
            "infringer_domain": REGISTRABLE[host], "transform": transform, "embedded_as": how,
            "expect": expect, "found_by": found_by,
        })


def build(root: Path, port: int, planted: dict, images_dir: Path, *, as_of, pool_listings: int, reporter_id: str) -> Sites:
    """Write every sample site; ``planted`` maps scenario keys (A..L) to photos."""
    s = Sites(root=root, port=port)
    u = s.url

    # --- www / cdn.sunny-travel-blog.co.uk: a travel blog (public-suffix: co.uk) ----------
    s.write(SUNNY, "/robots.txt", "User-agent: *\nDisallow: /private/\n")
    header = s.unrelated(SUNNY_CDN, "/img/header.jpg", "sunny-header", (960, 300))
    s.page(SUNNY, "/index.html", "Sunny travel blog", f"""
<img src="{header}" alt="header">
<ul>
<li><a href="/posts/lisbon.html">Three days in Lisbon</a></li>
<li><a href="/posts/alps.html">Hiking the Alps</a></li>
<li><a href="/private/drafts.html">Drafts</a></li>
<li><a href="/about.html">About</a></li>
</ul>""")
    s.unrelated(SUNNY, "/img/us.jpg", "sunny-about", (400, 300))
    s.page(SUNNY, "/about.html", "About us", '<img src="/img/us.jpg" alt="us"><p>Two friends, one camera, many trains.</p><a href="/index.html">home</a>')
    a = planted["A"]
    a_crop = s.copy(SUNNY_CDN, "/img/2026/lisbon-harbour.jpg", a, "crop10", images_dir)
    tram = s.unrelated(SUNNY_CDN, "/img/2026/tram.jpg", "sunny-tram")
    lisbon = s.page(SUNNY, "/posts/lisbon.html", "Three days in Lisbon", f"""
<p>The harbour at dawn.</p>
<img src="{a_crop}" alt="harbour" width="800">
<img src="{tram}" alt="tram">
<p><a href="/posts/lisbon-day2.html">Day two</a> · <a href="/index.html">home</a></p>""")
    s.expect(a, lisbon, a_crop, SUNNY_CDN, "crop10", "case", "img src")
    a_flip = s.copy(SUNNY_CDN, "/img/2026/sea-large.jpg", a, "hflip", images_dir)
    thumb = s.unrelated(SUNNY_CDN, "/img/2026/sea-small.jpg", "sunny-thumb", (240, 160))
    day2 = s.page(SUNNY, "/posts/lisbon-day2.html", "Lisbon, day two", f"""
<img src="{thumb}" srcset="{thumb} 240w, {a_flip} 1024w" sizes="100vw" alt="the sea">
<p><a href="/posts/lisbon.html">back</a></p>""")
    s.expect(a, day2, a_flip, SUNNY_CDN, "hflip", "case", "srcset (largest candidate; depth 2)")
    peak = s.unrelated(SUNNY_CDN, "/img/2025/peak.jpg", "sunny-peak")
    s.page(SUNNY, "/posts/alps.html", "Hiking the Alps", f"""
<div class="hero" style="background-image: url('{peak}'); height: 300px"></div>
<p><a href="/index.html">home</a></p>""")
    l_photo = planted["L"]
    l_copy = s.copy(SUNNY, "/private/img/raindrops.jpg", l_photo, "crop10", images_dir)
    drafts = s.page(SUNNY, "/private/drafts.html", "Drafts (not public)", '<img src="/private/img/raindrops.jpg" alt="rain">')
    s.expect(l_photo, drafts, l_copy, SUNNY, "crop10", "robots_blocked", "img src under a robots.txt Disallow")

    # --- dailyfotonews.com: og:image, lazy data-src, a missing image ----------------------
    b, c = planted["B"], planted["C"]
    c_og = s.copy(NEWS, "/images/og/dune-feature.jpg", c, "resize50", images_dir)
    b_lazy = s.copy(NEWS, "/images/lazy/blinds-story.jpg", b, "reencode_q15", images_dir)
    s.unrelated(NEWS, "/static/spacer.jpg", "news-spacer", (8, 8))
    s.unrelated(NEWS, "/static/logo.jpg", "news-logo", (200, 60))
    news_home = s.page(NEWS, "/index.html", "Daily Foto News", """
<img src="/static/logo.jpg" alt="logo">
<article><h2>Desert light</h2><p>Our feature of the week.</p></article>
<article><h2>Design at home</h2><img class="lazy" src="/static/spacer.jpg" data-src="/images/lazy/blinds-story.jpg" alt="blinds"></article>
<p><a href="/news/storm-report.html">Storm report</a></p>""",
        head=f'<meta property="og:image" content="{u(NEWS, "/images/og/dune-feature.jpg")}">\n')
    s.expect(c, news_home, c_og, NEWS, "resize50", "case", "og:image (license to this domain expired)")
    s.expect(b, news_home, b_lazy, NEWS, "reencode_q15", "case", "lazy data-src")
    clouds = s.unrelated(NEWS, "/images/clouds.jpg", "news-clouds")
    s.page(NEWS, "/news/storm-report.html", "Storm report", """
<img src="/images/clouds.jpg" alt="clouds">
<img src="/images/missing-photo.jpg" alt="this one is gone">
<p><a href="/index.html">home</a></p>""", head=f'<meta name="twitter:image" content="{clouds}">\n')
    s.not_found.append(u(NEWS, "/images/missing-photo.jpg"))

    # --- cheap-wallpapers.net: CSS background, picture/source, banner, a held photo -------
    d, e, j = planted["D"], planted["E"], planted["J"]
    d_bg = s.copy(WALLS, "/walls/fossa-wide.jpg", d, "letterbox", images_dir)
    e_banner = s.copy(WALLS, "/walls/flower-banner.jpg", e, "banner", images_dir)
    s.unrelated(WALLS, "/walls/flower-banner-small.jpg", "walls-fallback", (320, 200))
    walls_home = s.page(WALLS, "/index.html", "Cheap Wallpapers - free HD downloads", """
<div class="wall" style="background-image:url(/walls/fossa-wide.jpg);width:900px;height:900px"></div>
<picture>
  <source srcset="/walls/flower-banner.jpg" type="image/jpeg" media="(min-width: 800px)">
  <img src="/walls/flower-banner-small.jpg" alt="flower wallpaper">
</picture>
<p><a href="/page2.html">more wallpapers</a></p>""")
    s.expect(d, walls_home, d_bg, WALLS, "letterbox", "case", "CSS background-image")
    s.expect(e, walls_home, e_banner, WALLS, "banner", "case", "picture/source")
    j_flip = s.copy(WALLS, "/walls/ladybird.jpg", j, "hflip", images_dir)
    s.unrelated(WALLS, "/walls/abstract-1.jpg", "walls-abstract")
    page2 = s.page(WALLS, "/page2.html", "Wallpapers page 2", """
<img src="/walls/ladybird.jpg" alt="ladybird"><img src="/walls/abstract-1.jpg" alt="abstract">
<p><a href="/index.html">first page</a></p>""")
    s.expect(j, page2, j_flip, WALLS, "hflip", "exclusivity_hold", "img src (photo on exclusivity hold)")

    # --- pin-collector.io: the page a photographer reported -------------------------------
    f = planted["F"]
    f_pin = s.copy(PINS, "/pins/garden.jpg", f, "crop_resize", images_dir)
    other_pin = s.unrelated(PINS, "/pins/cake.jpg", "pins-cake")
    board = s.page(PINS, "/boards/nature-finds.html", "Nature finds", """
<img src="/pins/garden.jpg" alt="garden"><img src="/pins/cake.jpg" alt="cake">""",
        head=f'<meta name="twitter:image" content="{other_pin}">\n')
    s.unrelated(PINS, "/pins/logo.jpg", "pins-logo", (160, 160))
    s.page(PINS, "/index.html", "Pin collector", '<img src="/pins/logo.jpg" alt="logo"><a href="/boards/nature-finds.html">Nature finds</a>')
    s.expect(f, board, f_pin, PINS, "crop_resize", "case", "img src (reported by the photographer)")

    # --- the marketplace's own site and a licensee ----------------------------------------
    i = planted["I"]
    i_own = s.copy(OWN, "/photos/kleiber.jpg", i, "identity", images_dir)
    own_home = s.page(OWN, "/index.html", "Lightbox marketplace", '<img src="/photos/kleiber.jpg" alt="featured photo">')
    s.expect(i, own_home, i_own, OWN, "identity", "own_domain", "img src on the marketplace's own domain")
    g, h = planted["G"], planted["H"]
    g_lic = s.copy(AGENCY, "/portfolio/meadow.jpg", g, "resize50", images_dir)
    h_lic = s.copy(AGENCY_MEDIA, "/h/sea.jpg", h, "crop10", images_dir)
    agency = s.page(AGENCY, "/index.html", "Licensed Agency - our work", f"""
<img src="/portfolio/meadow.jpg" alt="meadow campaign">
<img src="{h_lic}" alt="sea campaign">""")
    s.expect(g, agency, g_lic, AGENCY, "resize50", "licensed", "img src (valid license to licensed-agency.com)")
    s.expect(h, agency, h_lic, AGENCY_MEDIA, "crop10", "licensed", "img src on a subdomain of the licensee (perpetual license)")

    for host, path, depth, priority in (
        (SUNNY, "/", 2, 5), (NEWS, "/", 2, 5), (WALLS, "/", 1, 3), (OWN, "/", 1, 1), (AGENCY, "/", 1, 3),
    ):
        s.crawl_seeds.append({"url": u(host, path), "priority": priority, "max_depth": depth, "source": "seed", "reported_by": None})
    s.crawl_seeds.append({"url": board, "priority": 10, "max_depth": 0, "source": "photographer_report", "reported_by": reporter_id})

    # --- stockhub.net: listings through the stock_listings landing source -----------------
    def listing_page(host, path, title, img_url):
        return s.page(host, path, title, f'<img src="{img_url}" alt="{escape(title)}">')

    j_listed_at = j.uploaded_at - timedelta(days=45)
    sh_img = s.copy(STOCKHUB, "/img/SH-1001.jpg", j, "resize50", images_dir)
    sh_page = listing_page(STOCKHUB, "/photo/SH-1001.html", "Ladybird on a leaf", sh_img)
    s.stock_rows.append({"site": STOCKHUB, "listing_id": "SH-1001", "listing_url": sh_page, "image_url": sh_img,
                         "contributor": j.owner.username, "title": "Ladybird on a leaf", "listed_at": j_listed_at})
    s.exclusivity.append({"site": STOCKHUB, "listing_id": "SH-1001", "listing_url": sh_page, "image_url": sh_img,
                          "photo_id": j.photo_id, "contributor": j.owner.username, "owner_username": j.owner.username,
                          "expect": "violation", "predates_upload": True, "via": "stock_listings"})
    for n in range(2, 6):
        lid = f"SH-100{n}"
        title = ("Mountain lake", "City at night", "Coffee beans", "Retro car")[n - 2]
        img = s.url(STOCKHUB, f"/img/{lid}.jpg")
        if n != 5:
            s.unrelated(STOCKHUB, f"/img/{lid}.jpg", f"stockhub-{lid}")
            expect = "no_match"
        else:
            s.not_found.append(img)
            expect = "image_404"
        page = listing_page(STOCKHUB, f"/photo/{lid}.html", title, img)
        s.stock_rows.append({"site": STOCKHUB, "listing_id": lid, "listing_url": page, "image_url": img,
                             "contributor": f"contrib_{n}", "title": title, "listed_at": as_of - timedelta(days=30 * n)})
        s.exclusivity.append({"site": STOCKHUB, "listing_id": lid, "listing_url": page, "image_url": img,
                              "photo_id": None, "contributor": f"contrib_{n}", "expect": expect, "via": "stock_listings"})
    # the bulk of listings at larger scales: unrelated images from a small reused pool
    for k in range(12):
        s.unrelated(STOCKHUB, f"/img/pool-{k:02d}.jpg", f"stockhub-pool-{k}")
    for n in range(pool_listings):
        lid = f"SH-{2000 + n}"
        s.stock_rows.append({"site": STOCKHUB, "listing_id": lid, "listing_url": s.url(STOCKHUB, f"/photo/{lid}.html"),
                             "image_url": s.url(STOCKHUB, f"/img/pool-{n % 12:02d}.jpg"), "contributor": f"contrib_{n % 97}",
                             "title": f"Stock picture {n}", "listed_at": as_of - timedelta(days=1 + n % 500)})

    # --- pixelstockr.com: a JSON listing feed ---------------------------------------------
    k_photo = planted["K"]
    k_img = s.copy(PIXELSTOCKR, "/media/pxs-501.jpg", k_photo, "crop10", images_dir)
    k_page = listing_page(PIXELSTOCKR, "/listing/pxs-501.html", "Colourful paints", k_img)
    feed = [{"listing_id": "pxs-501", "listing_url": k_page, "image_url": k_img, "contributor": "pix_grabber99",
             "title": "Colourful paints", "listed_at": (as_of - timedelta(days=20)).isoformat()}]
    s.exclusivity.append({"site": PIXELSTOCKR, "listing_id": "pxs-501", "listing_url": k_page, "image_url": k_img,
                          "photo_id": k_photo.photo_id, "contributor": "pix_grabber99", "owner_username": k_photo.owner.username,
                          "expect": "infringement", "predates_upload": False, "via": "feed"})
    s.expect(k_photo, k_page, k_img, PIXELSTOCKR, "crop10", "case", "stock listing by someone else", found_by="exclusivity_audit")
    for lid, title in (("pxs-502", "Bicycle in Amsterdam"), ("pxs-503", "Sushi platter")):
        img = s.unrelated(PIXELSTOCKR, f"/media/{lid}.jpg", f"pixelstockr-{lid}")
        page = listing_page(PIXELSTOCKR, f"/listing/{lid}.html", title, img)
        feed.append({"listing_id": lid, "listing_url": page, "image_url": img, "contributor": "pixel_pete",
                     "title": title, "listed_at": (as_of - timedelta(days=60)).isoformat()})
        s.exclusivity.append({"site": PIXELSTOCKR, "listing_id": lid, "listing_url": page, "image_url": img,
                              "photo_id": None, "contributor": "pixel_pete", "expect": "no_match", "via": "feed"})
    dup = dict(feed[-1], title="Sushi platter (re-listed)")
    feed.append(dup)
    s.exclusivity.append({"site": PIXELSTOCKR, "listing_id": "pxs-503", "listing_url": dup["listing_url"], "image_url": dup["image_url"],
                          "photo_id": None, "contributor": "pixel_pete", "expect": "duplicate_listing_id", "via": "feed"})
    feed.append({"listing_id": "pxs-504", "title": "Entry without image or contributor"})
    s.exclusivity.append({"site": PIXELSTOCKR, "listing_id": "pxs-504", "listing_url": None, "image_url": None,
                          "photo_id": None, "contributor": None, "expect": "missing_fields", "via": "feed"})
    s.write(PIXELSTOCKR, "/feed.json", json.dumps(feed, indent=2) + "\n")
    s.page(PIXELSTOCKR, "/index.html", "PixelStockr", '<img src="/media/pxs-502.jpg" alt="featured"><a href="/feed.json">listing feed</a>')
    s.page(STOCKHUB, "/index.html", "StockHub", '<img src="/img/SH-1002.jpg" alt="featured"><p>Millions of photos.</p>')
    return s
