"""The safe fetcher: the only way Lightbox code reaches a web server.

Rules, on every connection and every redirect hop:

* only ``http`` and ``https``;
* the host name is resolved here (``LIGHTBOX_CRAWL_RESOLVE`` overrides named hosts) and the
  connection goes to the checked IP: every address the name resolves to must be public
  (no loopback, private, link-local and the 169.254.169.254 metadata address, CGNAT
  100.64/10, multicast, reserved, unspecified, IPv4-mapped IPv6) unless it lies in
  ``LIGHTBOX_CRAWL_ALLOW_NETWORKS``; no proxies from the environment;
* robots.txt (RFC 9309) is honoured with a clear user agent;
* bounded: connect/read timeouts and a total time per fetch that count only the requests
  themselves, from the moment each leaves (waiting for the host's politeness turn or a global
  slot is not the request's time, so a host's own queue never times it out; a slow drip still
  cannot hold a worker), a byte limit per kind (streamed, stopped at the limit, a huge
  Content-Length is refused before reading), a redirect limit and loop detection, pixel
  limits for images;
* transient failures (connection errors, timeouts, 429, 502/503/504) are marked
  ``FetchResult.transient`` with the server's ``Retry-After`` (seconds or an HTTP-date), which
  also pushes back the host's next request; ``fetch`` retries them with exponential back-off
  unless told ``retries=0`` (the crawler does: it puts them back in its frontier instead);
* content is sniffed from its bytes (``lightbox.content``), never trusted from Content-Type.

``SafeFetcher`` is async (the crawler and the exclusivity audit use it); ``fetch_bytes`` is
a synchronous wrapper for single fetches. Fetch failures are results with a reason code
(``FetchResult.error``), never exceptions, except in ``fetch_bytes`` which raises
``FetchError``.
"""
from __future__ import annotations

import asyncio
import io
import ipaddress
import random
import socket
import time
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit, urlunsplit

from lightbox.content import RASTER_TYPES, sniff
from lightbox.crawl.robots import MAX_ROBOTS_BYTES, RobotsCache, RobotsRules, origin, parse

USER_AGENT = "LightboxBot/1.0 (+https://lightbox-market.com/bot)"
METADATA_ADDRESSES = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
CGNAT = ipaddress.ip_network("100.64.0.0/10")
REDIRECT_STATUSES = {301, 302, 303, 307, 308}
TRANSIENT_STATUSES = {429, 502, 503, 504}
MAX_HOST_POOLS = 512
TRANSIENT_ERRORS = {"connect_error", "read_timeout", "protocol_error", "too_slow", "dns_timeout",
                    *(f"http_{status}" for status in TRANSIENT_STATUSES)}


class FetchError(Exception):
    """A fetch that did not produce what was asked for. ``reason`` is a short code
    (``blocked_address``, ``robots_disallowed``, ``too_large``…), ``detail`` says more."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class BlockedAddress(FetchError):
    pass


@dataclass
class CrawlConfig:
    user_agent: str = USER_AGENT
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    total_timeout: float = 30.0  # the requests of one fetch (redirects included), not the waits for a turn
    max_page_bytes: int = 5 * 1024 * 1024
    max_image_bytes: int = 25 * 1024 * 1024
    max_feed_bytes: int = 20 * 1024 * 1024
    max_redirects: int = 5
    retries: int = 2  # transient failures only: at most 1 + retries attempts
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    max_retry_after: float = 300.0  # a longer Retry-After is a failure, not a wait
    global_concurrency: int = 64
    per_host_concurrency: int = 2
    per_host_delay: float = 0.25  # seconds between requests to one host (robots Crawl-delay raises it)
    max_crawl_delay: float = 10.0
    obey_robots: bool = True
    max_image_pixels: int | None = None  # None: Pillow's Image.MAX_IMAGE_PIXELS

    def limit_for(self, kind: str) -> int:
        return {"page": self.max_page_bytes, "image": self.max_image_bytes, "robots": MAX_ROBOTS_BYTES}.get(
            kind, self.max_feed_bytes
        )


@dataclass
class FetchResult:
    url: str
    kind: str
    final_url: str | None = None
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    resolved_ip: str | None = None
    fetched_at: datetime | None = None
    error: str | None = None  # reason code; None on success
    detail: str = ""
    content_type: str | None = None  # sniffed from the bytes
    redirects: list[str] = field(default_factory=list)
    attempts: int = 0
    image_size: tuple[int, int] | None = None
    retry_after: float | None = None  # seconds the server asked us to wait (transient failures)
    request_seconds: float = 0.0  # time spent in requests (not waiting for a turn)

    @property
    def transient(self) -> bool:
        """A failure that may clear if tried again later."""
        return self.error in TRANSIENT_ERRORS

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def reason(self) -> str | None:
        """``error: detail`` for logs and the frontier's last_error."""
        if self.error is None:
            return None
        return f"{self.error}: {self.detail}" if self.detail else self.error

    def raise_for_error(self) -> "FetchResult":
        if self.error:
            raise FetchError(self.error, self.detail)
        return self


# ---------------------------------------------------------------- addresses


def address_problem(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, allow_networks=()) -> str | None:
    """Why ``ip`` may not be reached (None when it may)."""
    for network in allow_networks:
        if ip.version == network.version and ip in network:
            return None
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return f"ipv4_mapped {ip}"
    if ip in METADATA_ADDRESSES:
        return f"metadata {ip}"
    if ip.version == 4 and ip in CGNAT:
        return f"cgnat {ip}"
    for attribute in ("loopback", "link_local", "multicast", "unspecified", "reserved", "private", "site_local"):
        if getattr(ip, f"is_{attribute}", False):
            return f"{attribute} {ip}"
    if not ip.is_global:
        return f"non_global {ip}"
    return None


class Resolver:
    """DNS with the crawler's overrides and address checks."""

    def __init__(self, overrides: dict[str, str] | None = None, allow_networks=()):
        self.overrides = {k.lower(): v for k, v in (overrides or {}).items()}
        self.allow_networks = tuple(allow_networks)

    async def resolve(self, host: str, port: int) -> str:
        """One checked IP for ``host``. Every address the name has must pass (a name that
        also points inside is refused, whichever address a connection would pick)."""
        host = host.strip("[]").lower().rstrip(".")
        try:
            addresses = [ipaddress.ip_address(host)]
        except ValueError:
            if host in self.overrides:
                addresses = [ipaddress.ip_address(a) for a in self.overrides[host].split("|")]
            else:
                loop = asyncio.get_running_loop()
                try:
                    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
                except (socket.gaierror, UnicodeError) as exc:
                    raise FetchError("dns_failure", f"{host}: {exc}") from exc
                addresses = []
                for info in infos:
                    ip = ipaddress.ip_address(info[4][0].split("%", 1)[0])
                    if ip not in addresses:
                        addresses.append(ip)
            if not addresses:
                raise FetchError("dns_failure", f"{host}: no addresses")
        for ip in addresses:
            problem = address_problem(ip, self.allow_networks)
            if problem:
                raise BlockedAddress("blocked_address", f"{host} -> {problem}")
        return str(addresses[0])


def _is_readable(sock) -> bool:
    """True when the peer closed or sent data on an idle connection (httpcore's check)."""
    import select

    if sock is None or sock.fileno() < 0:
        return True
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


def _backend(resolver: Resolver):
    import httpcore

    class SafeStream(httpcore.AsyncNetworkStream):
        """anyio's stream, with the cheap answers cached: httpcore asks every pooled
        connection "is_readable" on every request, and anyio answers by building all the
        socket's attributes (a getpeername() system call each time)."""

        def __init__(self, inner, peer):
            self.inner = inner
            self.peer = peer
            self.sock = inner.get_extra_info("socket")

        async def read(self, max_bytes, timeout=None):
            return await self.inner.read(max_bytes, timeout)

        async def write(self, buffer, timeout=None):
            await self.inner.write(buffer, timeout)

        async def aclose(self):
            await self.inner.aclose()

        async def start_tls(self, ssl_context, server_hostname=None, timeout=None):
            return SafeStream(await self.inner.start_tls(ssl_context, server_hostname, timeout), self.peer)

        def get_extra_info(self, info):
            if info == "is_readable":
                return _is_readable(self.sock)
            if info == "server_addr":
                return self.peer
            if info == "socket":
                return self.sock
            return self.inner.get_extra_info(info)

    class SafeBackend(httpcore.AsyncNetworkBackend):
        """Connects to the resolved, checked IP; TLS still verifies the host name."""

        def __init__(self):
            self.inner = httpcore.AnyIOBackend()

        async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
            ip = await resolver.resolve(host, port)
            stream = await self.inner.connect_tcp(ip, port, timeout, local_address, socket_options)
            return SafeStream(stream, (ip, port))

        async def connect_unix_socket(self, path, timeout=None, socket_options=None):
            raise BlockedAddress("blocked_address", "unix sockets are not crawled")

        async def sleep(self, seconds):
            await self.inner.sleep(seconds)

    return SafeBackend()


def _client(resolver: Resolver, config: CrawlConfig, ssl_context, max_connections: int):
    import httpcore
    import httpx

    class SafeTransport(httpx.AsyncHTTPTransport):
        def __init__(self):
            super().__init__(verify=ssl_context, trust_env=False)  # a shared context: loading CAs costs ~50 ms
            self._pool = httpcore.AsyncConnectionPool(
                ssl_context=ssl_context,
                max_connections=max_connections,
                max_keepalive_connections=max_connections,
                keepalive_expiry=5.0,
                network_backend=_backend(resolver),
            )

    timeout = httpx.Timeout(config.read_timeout, connect=config.connect_timeout)
    return httpx.AsyncClient(
        transport=SafeTransport(), trust_env=False, follow_redirects=False, timeout=timeout,
        headers={"User-Agent": config.user_agent, "Accept-Encoding": "gzip, deflate"},
    )


# ---------------------------------------------------------------- content


def image_size(body: bytes, max_pixels: int | None = None) -> tuple[int, int]:
    """Width and height from the image header (no decode); a decompression bomb by Pillow's
    limit is an error, not a warning."""
    from PIL import Image

    limit = max_pixels or Image.MAX_IMAGE_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(body)) as im:
                width, height = im.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise FetchError("decompression_bomb", str(exc)) from exc
    except Exception as exc:  # noqa: BLE001 - any unreadable header is a bad image
        raise FetchError("bad_image", f"{type(exc).__name__}: {exc}") from exc
    if limit and width * height > limit:
        raise FetchError("decompression_bomb", f"{width}x{height} is over {limit} pixels")
    return width, height


# ---------------------------------------------------------------- politeness


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` in seconds: delta-seconds or an HTTP-date (RFC 9110 10.2.3)."""
    value = (value or "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


class HostGate:
    """Per-host concurrency and delay between request starts."""

    def __init__(self, concurrency: int, delay: float):
        self.semaphore = asyncio.Semaphore(concurrency)
        self.delay = delay
        self.next_start = 0.0
        self.lock = asyncio.Lock()

    def ready_at(self) -> float | None:
        """When a request could start without waiting (monotonic time), None while every
        slot is taken: the crawler asks before it starts work on the host."""
        if self.semaphore.locked():
            return None
        return self.next_start

    def hold_off(self, seconds: float) -> None:
        """The host asked for a pause (Retry-After): no request starts before it ends."""
        self.next_start = max(self.next_start, time.monotonic() + seconds)

    async def __aenter__(self):
        await self.semaphore.acquire()
        async with self.lock:
            now = time.monotonic()
            wait = self.next_start - now
            self.next_start = max(now, self.next_start) + self.delay
        if wait > 0:
            await asyncio.sleep(wait)
        return self

    async def __aexit__(self, *exc):
        self.semaphore.release()


class _Transient(Exception):
    def __init__(self, reason: str, detail: str, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.detail = detail
        self.retry_after = retry_after


# ---------------------------------------------------------------- the fetcher


class SafeFetcher:
    """``async with SafeFetcher(settings) as f: result = await f.fetch(url, kind="image")``.

    ``kind`` is ``page`` (HTML expected), ``image`` (a raster image expected; SVG refused,
    header checked for decompression bombs), ``feed`` (any text or data) or ``robots``.
    """

    def __init__(self, settings=None, config: CrawlConfig | None = None, **overrides):
        if settings is None:
            from lightbox.config import settings as current

            settings = current()
        self.settings = settings
        self.config = config or CrawlConfig()
        for key, value in overrides.items():
            setattr(self.config, key, value)
        self.resolver = Resolver(getattr(settings, "crawl_resolve", {}) or {}, settings.crawl_allow_networks)
        self.robots = RobotsCache()
        self._robots_pending: dict[str, asyncio.Future] = {}
        self._gates: dict[str, HostGate] = {}
        self._global = asyncio.Semaphore(self.config.global_concurrency)
        self._client = None
        self._clients: OrderedDict = OrderedDict()

    async def __aenter__(self) -> "SafeFetcher":
        import httpx

        self._ssl_context = httpx.create_ssl_context()
        self._client = True  # open
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), OrderedDict()
        for client in clients:
            await client.aclose()
        self._client = None

    async def client_for(self, host: str):
        """One connection pool per host (httpcore scans its whole pool on every request, so a
        pool of a thousand hosts' connections costs more than the requests); least recently
        used pools are closed beyond ``MAX_HOST_POOLS``."""
        client = self._clients.get(host)
        if client is not None:
            self._clients.move_to_end(host)
            return client
        client = self._clients[host] = _client(self.resolver, self.config, self._ssl_context, self.config.per_host_concurrency)
        while len(self._clients) > MAX_HOST_POOLS:
            _old_host, old = self._clients.popitem(last=False)
            await old.aclose()
        return client

    def gate(self, host: str) -> HostGate:
        gate = self._gates.get(host)
        if gate is None:
            gate = self._gates[host] = HostGate(self.config.per_host_concurrency, self.config.per_host_delay)
        return gate

    # -- robots

    async def robots_for(self, url: str) -> RobotsRules:
        key = origin(url)
        cached = self.robots.get(key)
        if cached is not None:
            return cached
        pending = self._robots_pending.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future = asyncio.get_running_loop().create_future()
        self._robots_pending[key] = future
        try:
            rules = await self._load_robots(key)
            self.robots.put(key, rules)
            future.set_result(rules)
            return rules
        except BaseException as exc:
            future.set_exception(exc)
            raise
        finally:
            self._robots_pending.pop(key, None)

    async def _load_robots(self, key: str) -> RobotsRules:
        result = await self._fetch(key + "/robots.txt", "robots", check_robots=False, retries=self.config.retries)
        if result.status is not None and 400 <= result.status < 500:
            return RobotsRules.allowing(f"robots.txt {result.status}")
        if not result.ok or result.status is None or result.status >= 500:
            # unreachable or server error: RFC 9309 2.3.1.4, assume complete disallow
            return RobotsRules.disallowing(f"robots.txt unavailable: {result.reason or result.status}")
        rules = parse(result.body.decode("utf-8", errors="replace"))
        if rules.crawl_delay:
            gate = self.gate(urlsplit(key).hostname or "")
            gate.delay = max(gate.delay, min(rules.crawl_delay, self.config.max_crawl_delay))
        return rules

    # -- fetching

    async def fetch(self, url: str, kind: str = "page", retries: int | None = None) -> FetchResult:
        """Fetch ``url`` under every rule; never raises for a fetch failure. Transient
        failures are tried again ``retries`` times (``config.retries`` by default) with
        back-off; ``retries=0`` hands them back at once (``result.transient``)."""
        return await self._fetch(url, kind, check_robots=self.config.obey_robots,
                                 retries=self.config.retries if retries is None else retries)

    def backoff(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before attempt ``attempt + 1``: exponential, jittered, at least
        what the server asked for."""
        pause = min(self.config.backoff_max, self.config.backoff_base * 2 ** (attempt - 1))
        return max(pause * (0.75 + random.random() / 2), retry_after or 0.0)

    async def _fetch(self, url: str, kind: str, check_robots: bool, retries: int = 0) -> FetchResult:
        if self._client is None:
            raise RuntimeError("use SafeFetcher as an async context manager")
        result = FetchResult(url=url, kind=kind)
        attempt = 0
        while True:
            attempt += 1
            result.attempts = attempt
            result.retry_after = None
            try:
                await self._follow(result, kind, check_robots)
                break
            except _Transient as exc:
                result.error, result.detail, result.retry_after = exc.reason, exc.detail, exc.retry_after
                if exc.retry_after is not None and exc.retry_after > self.config.max_retry_after:
                    # a host that asks for hours is not waited for within a sweep
                    result.error = "retry_after_too_long"
                    result.detail = f"{exc.reason} asked for {exc.retry_after:g}s (limit {self.config.max_retry_after:g}s): {exc.detail}"
                    result.retry_after = None
                    break
                if attempt > retries:
                    break
                await asyncio.sleep(self.backoff(attempt, exc.retry_after))
            except FetchError as exc:
                result.error, result.detail = exc.reason, exc.detail
                break
        if result.fetched_at is None:
            result.fetched_at = datetime.now(timezone.utc)
        if result.error:
            result.body = b""
        return result

    async def _follow(self, result: FetchResult, kind: str, check_robots: bool) -> None:
        """One attempt: every redirect hop, each request under the time left of the budget."""
        import httpx

        url = result.url
        seen: set[str] = set()
        result.redirects = []
        result.error, result.detail = None, ""
        result.request_seconds = 0.0
        budget = self.config.total_timeout
        for _hop in range(self.config.max_redirects + 1):
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https"):
                raise FetchError("scheme_not_allowed", f"{parts.scheme or 'no scheme'}: {url[:200]}")
            if not parts.hostname:
                raise FetchError("bad_url", url[:200])
            url = urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))
            if url in seen:
                raise FetchError("redirect_loop", " -> ".join([*result.redirects, url])[-500:])
            seen.add(url)
            # the address first, so that a refusal says why (connect_tcp checks again)
            try:
                async with asyncio.timeout(self.config.connect_timeout):
                    await self.resolver.resolve(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
            except TimeoutError as exc:
                raise _Transient("dns_timeout", f"{parts.hostname}: no answer in {self.config.connect_timeout:g}s") from exc
            if check_robots and kind != "robots":
                rules = await self.robots_for(url)
                if not rules.allowed(url):
                    raise FetchError("robots_disallowed", f"{url[:200]} ({rules.reason})")
            host = parts.hostname.lower()
            remaining = budget - result.request_seconds
            if remaining <= 0:
                raise _Transient("too_slow", f"over {budget:g}s of requests")
            try:
                # the host's turn first (it may sleep for politeness), then a global slot:
                # a request waiting for its host never holds a slot another host could use.
                # Neither wait is the request's time: the clock starts when it leaves.
                async with self.gate(host), self._global:
                    started = time.monotonic()
                    try:
                        async with asyncio.timeout(remaining):
                            location = await self._request(result, url, kind, host)
                    finally:
                        result.request_seconds += time.monotonic() - started
            except BlockedAddress:
                raise
            except FetchError:
                raise
            except TimeoutError as exc:
                raise _Transient("too_slow", f"over {budget:g}s of requests") from exc
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                raise _Transient("connect_error", f"{host}: {exc}") from exc
            except httpx.ReadTimeout as exc:
                raise _Transient("read_timeout", f"{host}: no data for {self.config.read_timeout:g}s") from exc
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
                raise _Transient("protocol_error", f"{host}: {exc}") from exc
            except httpx.HTTPError as exc:
                raise FetchError("http_error", f"{type(exc).__name__}: {exc}") from exc
            if location is None:
                return
            result.redirects.append(url)
            url = urljoin(url, location)
        raise FetchError("too_many_redirects", f"more than {self.config.max_redirects}: {' -> '.join(result.redirects)[-500:]}")

    async def _request(self, result: FetchResult, url: str, kind: str, host: str) -> str | None:
        limit = self.config.limit_for(kind)
        client = await self.client_for(host)
        async with client.stream("GET", url) as response:
            stream = response.extensions.get("network_stream")
            peer = stream.get_extra_info("server_addr") if stream is not None else None
            result.resolved_ip = peer[0] if peer else None
            result.fetched_at = datetime.now(timezone.utc)
            result.status = response.status_code
            result.final_url = url
            # from the raw pairs: httpx decodes each header through its charset detection otherwise
            headers = result.headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in response.headers.raw}
            if response.status_code in REDIRECT_STATUSES and "location" in headers:
                return headers["location"]
            if response.status_code in TRANSIENT_STATUSES:
                retry_after = retry_after_seconds(headers.get("retry-after"))
                if retry_after:
                    self.gate(host).hold_off(min(retry_after, self.config.max_retry_after))
                raise _Transient(f"http_{response.status_code}", url[:200], retry_after)
            if response.status_code >= 400 and kind != "robots":
                raise FetchError(f"http_{response.status_code}", url[:200])
            if response.status_code >= 400:
                return None  # the robots loader reads the status
            declared = headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise FetchError("too_large", f"Content-Length {int(declared)} is over the {limit}-byte {kind} limit")
            chunks = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    raise FetchError("too_large", f"over the {limit}-byte {kind} limit")
                chunks.append(chunk)
            body = b"".join(chunks)
        result.body = body
        self._check_content(result, kind)
        return None

    def _check_content(self, result: FetchResult, kind: str) -> None:
        sniffed = sniff(result.body)
        result.content_type = sniffed
        claimed = result.headers.get("content-type", "?").split(";")[0].strip()
        if kind == "image":
            if sniffed == "image/svg+xml":
                raise FetchError("svg_not_supported", f"SVG served as {claimed}")
            if sniffed not in RASTER_TYPES:
                raise FetchError("not_an_image", f"{sniffed} served as {claimed}")
            result.image_size = image_size(result.body, self.config.max_image_pixels)
        elif kind == "page":
            if sniffed != "text/html":
                raise FetchError("not_html", f"{sniffed} served as {claimed}")


def fetch_bytes(url: str, max_bytes: int = 100 * 1024 * 1024, kind: str = "image", settings=None) -> bytes:
    """Fetch one URL under the safe rules and return its body; raises ``FetchError``."""

    async def run() -> FetchResult:
        limits = {"max_image_bytes": max_bytes} if kind == "image" else {"max_page_bytes": max_bytes, "max_feed_bytes": max_bytes}
        async with SafeFetcher(settings, **limits) as fetcher:
            return await fetcher.fetch(url, kind=kind)

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        result = asyncio.run(run())
    else:  # called from inside an event loop: run in a thread of its own
        import concurrent.futures

        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            result = pool.submit(asyncio.run, run()).result()
    return result.raise_for_error().body
