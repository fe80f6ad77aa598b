"""Helpers of the exclusivity tests: a small marketplace and two stock sites for the exclusivity audit tests.

- ``stock_server``: a local HTTP server that answers by Host header (like the demo's sample
  sites); ``LIGHTBOX_CRAWL_RESOLVE`` maps the stock sites' names to 127.0.0.1.
- ``marketplace``: users (bob also used the name ``bobby_old``), exclusive photos made from
  include/sample_photos (tiny JPEGs), stock listings in the landing folder, a listing feed
  for ``pixelstockr.com`` with every kind of bad item, a broken feed, all loaded through the
  real landing ingest.
"""
from __future__ import annotations

import io
import json
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "include" / "sample_photos"
# Yesterday midnight: a person's decision at the CLI (stamped now) falls between this audit
# and the next one (AS_OF + 2 days).
AS_OF = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)


def tiny_jpeg(name: str, side: int = 320, flip: bool = False, crop: float = 0.0, quality: int = 85) -> bytes:
    from PIL import Image, ImageOps

    with Image.open(SAMPLES / name) as im:
        im.draft("RGB", (side * 2, side * 2))
        im = im.convert("RGB")
        im.thumbnail((side, side))
        if crop:
            w, h = im.size
            im = im.crop((int(w * crop), int(h * crop), int(w * (1 - crop)), int(h * (1 - crop))))
        if flip:
            im = ImageOps.mirror(im)
        out = io.BytesIO()
        im.save(out, "JPEG", quality=quality)
        return out.getvalue()


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/octet-stream"
    headers: dict = field(default_factory=dict)


class StockServer:
    def __init__(self):
        self.routes: dict[tuple[str, str], Route] = {}
        self.requests: list[tuple[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # no 40 ms Nagle/delayed-ACK stall per response

            def do_GET(self):  # noqa: N802
                host = (self.headers.get("Host") or "").split(":")[0].lower()
                server.requests.append((host, self.path))
                route = server.routes.get((host, self.path)) or Route(404, b"not found", "text/plain")
                self.send_response(route.status)
                self.send_header("Content-Type", route.content_type)
                length = route.headers.get("Content-Length", str(len(route.body)))
                self.send_header("Content-Length", length)
                for key, value in route.headers.items():
                    if key != "Content-Length":
                        self.send_header(key, value)
                self.end_headers()
                if length == str(len(route.body)):
                    self.wfile.write(route.body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, host: str, path: str) -> str:
        return f"http://{host}:{self.port}{path}"

    def add(self, host: str, path: str, body: bytes, content_type: str = "image/jpeg", status: int = 200, **headers) -> str:
        self.routes[(host, path)] = Route(status, body, content_type, headers)
        return self.url(host, path)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def write_csv(landing: Path, source: str, name: str, header: str, rows: list[str]) -> None:
    folder = landing / source
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(header + "\n" + "\n".join(rows) + "\n")


USERS = "user_id,username,country,joined_at,auto_licensing,default_exclusive,updated_at,deleted_at"
PHOTOS = (
    "photo_id,owner_id,uploaded_at,title,description,keywords,category,width,height,camera_make,camera_model,"
    "focal_length_mm,aperture,iso,exposure_s,has_people,has_property,model_release,property_release,"
    "submitted_for_licensing,removed_from_licensing,exclusive,image_path,sha256,updated_at,deleted_at"
)
LISTINGS = "site,listing_id,listing_url,image_url,contributor,title,listed_at"
# photo id -> (sample file, owner, exclusive)
CATALOG = {
    "p1": ("Aqua.jpg", "u1", True),
    "p2": ("Dune.jpg", "u1", True),
    "p3": ("Garden.jpg", "u2", True),
    "p4": ("Storm.jpg", "u2", True),
    "p5": ("LadyBird.jpg", "u2", False),
}


@dataclass
class Marketplace:
    server: StockServer
    landing: Path
    as_of: datetime = AS_OF
    urls: dict = field(default_factory=dict)


def build_marketplace(conn, landing: Path, server: StockServer, monkeypatch) -> Marketplace:
    from lightbox.landing.ingest import ingest_folder

    market = Marketplace(server, landing)
    write_csv(landing, "users", "1.csv", USERS, [
        "u1,alice,PT,2025-01-01T00:00:00Z,false,true,2025-01-01T00:00:00Z,",
        "u2,bobby_old,DE,2025-01-01T00:00:00Z,false,true,2025-01-01T00:00:00Z,",
        "u3,carol,FR,2025-01-01T00:00:00Z,false,false,2025-01-01T00:00:00Z,",
    ])
    images = landing / "images"
    images.mkdir(exist_ok=True)
    rows = []
    for photo_id, (sample, owner, exclusive) in CATALOG.items():
        (images / f"{photo_id}.jpg").write_bytes(tiny_jpeg(sample))
        rows.append(
            f"{photo_id},{owner},2025-06-01T00:00:00Z,{sample[:-4]},,,nature,320,213,,,,,,,false,false,false,false,"
            f"false,false,{'true' if exclusive else 'false'},images/{photo_id}.jpg,,2025-06-01T00:00:00Z,"
        )
    write_csv(landing, "photos", "1.csv", PHOTOS, rows)
    ingest_folder(landing)
    # bob renames himself later: the old name stays in raw.users_history
    write_csv(landing, "users", "2.csv", USERS, ["u2,bob,DE,2025-01-01T00:00:00Z,false,true,2025-09-01T00:00:00Z,"])

    # stockhub.net: listings delivered in the landing folder
    s = server
    market.urls["own_p1"] = s.add("img.stockhub.net", "/i/101.jpg", tiny_jpeg("Aqua.jpg", 300, flip=True, quality=70))
    market.urls["stolen_p2"] = s.add("img.stockhub.net", "/i/102.jpg", tiny_jpeg("Dune.jpg", 280, crop=0.05))
    market.urls["unrelated"] = s.add("img.stockhub.net", "/i/103.jpg", tiny_jpeg("Wood.jpg", 300))
    market.urls["not_exclusive"] = s.add("img.stockhub.net", "/i/104.jpg", tiny_jpeg("LadyBird.jpg", 300))
    for n in (101, 102, 103, 104):
        s.add("stockhub.net", f"/listing/{n}", f"<html><body>listing {n}</body></html>".encode(), "text/html")
    write_csv(landing, "stock_listings", "1.csv", LISTINGS, [
        f"stockhub.net,101,{s.url('stockhub.net', '/listing/101')},{market.urls['own_p1']},Alice,Blue water,2025-05-01T00:00:00Z",
        f"stockhub.net,102,{s.url('stockhub.net', '/listing/102')},{market.urls['stolen_p2']},thief99,Desert,2025-08-01T00:00:00Z",
        f"stockhub.net,103,{s.url('stockhub.net', '/listing/103')},{market.urls['unrelated']},carol,Wood,2025-08-01T00:00:00Z",
        f"stockhub.net,104,{s.url('stockhub.net', '/listing/104')},{market.urls['not_exclusive']},bob,Ladybird,2025-08-01T00:00:00Z",
        f"stockhub.net,105,{s.url('stockhub.net', '/listing/105')},{s.url('img.stockhub.net', '/i/gone.jpg')},bob,Gone,2025-08-01T00:00:00Z",
    ])
    ingest_folder(landing)

    # pixelstockr.com: a JSON feed with good and bad items
    market.urls["own_p3"] = s.add("pixelstockr.com", "/img/9.jpg", tiny_jpeg("Garden.jpg", 256))
    s.add("pixelstockr.com", "/img/19.jpg", tiny_jpeg("Garden.jpg", 300, crop=0.08, flip=True))
    s.add("pixelstockr.com", "/photo/9", b"<html><body>Garden by bobby_old</body></html>", "text/html")
    s.add("pixelstockr.com", "/img/huge.jpg", b"\xff\xd8\xff", **{"Content-Length": str(10 * 1024**3)})
    s.add("pixelstockr.com", "/img/page.jpg", b"<html><body>not an image</body></html>", "image/jpeg")
    feed = {
        "listings": [
            {"id": "9", "url": "/photo/9", "image_url": "/img/9.jpg", "contributor": "bobby_old", "listed_at": "2025-07-01T00:00:00Z"},
            {"id": "9", "url": "/photo/9b", "image_url": "/img/9b.jpg", "contributor": "x"},  # duplicate id
            {"id": "10", "url": "/photo/10", "contributor": "x"},  # no image
            {"id": "11", "image_url": "/img/missing.jpg", "contributor": "x"},  # 404
            {"id": "12", "image_url": "http://10.0.0.1/secret.jpg", "contributor": "x"},  # private address
            {"id": "13", "image_url": "http://169.254.169.254/latest/meta-data/", "contributor": "x"},
            {"id": "14", "image_url": "/img/huge.jpg", "contributor": "x"},  # 10 GB Content-Length
            {"id": "15", "image_url": f"http://sneaky.pixelstockr.com:{s.port}/a.jpg", "contributor": "x"},  # resolves private
            {"id": "16", "image_url": "/img/page.jpg", "contributor": "x"},  # HTML served as JPEG
            {"id": "17", "image_url": "file:///etc/passwd", "contributor": "x"},
            "not an object",
            {"id": "18", "image_url": "/img/9.jpg", "listed_at": "yesterday-ish"},  # bad time, no contributor
            {"id": "19", "url": "/photo/19", "image_url": "/img/19.jpg", "contributor": "mallory"},  # stolen, photo held
        ]
    }
    s.add("pixelstockr.com", "/feed.json", json.dumps(feed).encode(), "application/json")
    s.add("brokenstock.com", "/feed.json", b'{"listings": [{"id": "1", "image_url": ', "application/json")
    monkeypatch.setenv(
        "LIGHTBOX_STOCK_FEEDS",
        f"pixelstockr.com={s.url('pixelstockr.com', '/feed.json')},brokenstock.com={s.url('brokenstock.com', '/feed.json')},"
        f"gonestock.com={s.url('stockhub.net', '/nothing.json')}",
    )
    return market


def rows(conn, sql, *params):
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()
