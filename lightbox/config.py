"""Lightbox configuration: every setting read from the environment, with the defaults of
shared/DESIGN.md. Read it through ``settings()`` at call time (never at import), so that
tests and the CLI can change the environment between calls."""
from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path


def _project_dir() -> Path:
    """The project's folder (dags/, dbt/, plugins/, include/): ``LIGHTBOX_PROJECT_DIR`` (the
    image sets /opt/lightbox), else the checkout this package was imported from. After a
    non-editable install the package lives in site-packages, away from dags/ and dbt/: then
    the current directory, so that nothing silently points into site-packages."""
    explicit = os.environ.get("LIGHTBOX_PROJECT_DIR")
    if explicit:
        return Path(explicit).expanduser().resolve()
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "dags").is_dir():
        return checkout
    return Path.cwd().resolve()


REPO_ROOT = _project_dir()

# The fixed DAG ids, in the order `lightbox run` runs them (upstream first).
DAG_ORDER = (
    "ingest_landing",
    "licensing_train_model",
    "licensing_score_submissions",
    "exclusivity_audit",
    "infringement_sweep",
    "settlement_reconcile",
    "replication_sync",
    "marts_build",
    "quality_report",
)


@dataclass(frozen=True)
class Region:
    code: str
    uri: str
    enforceable: bool


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str | None  # None: the embedded server
    landing: Path
    object_store: str
    regions: tuple[Region, ...]
    own_domains: tuple[str, ...]
    crawl_allow_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
    photographer_share: Decimal
    # a settlement line whose gross or fee is beyond this (in USD, absolute) is a discrepancy
    settlement_max_usd: Decimal = Decimal("1000000")
    # host -> IP overrides for the crawler's resolver ("name=ip,name=ip", like curl --resolve);
    # the demo maps its sample sites to 127.0.0.1 this way.
    crawl_resolve: dict = field(default_factory=dict)
    # stock-site listing feeds for the exclusivity audit ("site=url,site=url")
    stock_feeds: dict = field(default_factory=dict)
    # the only places a file:// or s3:// image_path may point into (URLs, no trailing slash)
    media_roots: tuple[str, ...] = ()
    # addresses whose X-Forwarded-For the inspector app believes
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    # the AI scan's routing target: pass at least this share of the photos inspectors would
    # accept (the threshold is chosen on the calibration slice, recorded with the model)
    aiscan_pass_accepted: float = 0.97

    @property
    def pgdata(self) -> Path:
        return self.home / "pgdata"

    @property
    def airflow_home(self) -> Path:
        return self.home / "airflow"

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def evidence_uri(self) -> str:
        return self.object_store.rstrip("/") + "/evidence"

    @property
    def docs_dir(self) -> Path:
        return self.home / "docs"

    def region(self, code: str) -> Region:
        for region in self.regions:
            if region.code == code:
                return region
        raise KeyError(f"unknown region {code!r}; LIGHTBOX_REGIONS is {','.join(r.code for r in self.regions)}")


def _truthy(value: str) -> bool:
    value = value.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def settings(env: dict[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    home = Path(env.get("LIGHTBOX_HOME") or "./.lightbox").expanduser().resolve()
    landing = Path(env.get("LIGHTBOX_LANDING") or home / "landing").expanduser().resolve()
    object_store = env.get("LIGHTBOX_OBJECT_STORE") or f"file://{home / 'objects'}"
    regions = []
    for code in _split(env.get("LIGHTBOX_REGIONS", "cn,eu")):
        code = code.lower()
        key = code.upper()
        uri = env.get(f"LIGHTBOX_REGION_{key}_URI") or f"file://{home / 'regions' / code}"
        enforceable = _truthy(env.get(f"LIGHTBOX_REGION_{key}_ENFORCEABLE", "true"))
        regions.append(Region(code, uri, enforceable))
    share = Decimal(env.get("LIGHTBOX_PHOTOGRAPHER_SHARE", "0.50"))
    if not Decimal(0) <= share <= Decimal(1):
        raise ValueError(f"LIGHTBOX_PHOTOGRAPHER_SHARE must be between 0 and 1, got {share}")
    ceiling = Decimal(env.get("LIGHTBOX_SETTLEMENT_MAX_USD", "1000000"))
    if not ceiling > 0:
        raise ValueError(f"LIGHTBOX_SETTLEMENT_MAX_USD must be positive, got {ceiling}")
    return Settings(
        home=home,
        database_url=env.get("LIGHTBOX_DATABASE_URL") or None,
        landing=landing,
        object_store=object_store,
        regions=tuple(regions),
        own_domains=tuple(d.lower().lstrip(".") for d in _split(env.get("LIGHTBOX_OWN_DOMAINS", ""))),
        crawl_allow_networks=tuple(
            ipaddress.ip_network(n, strict=False) for n in _split(env.get("LIGHTBOX_CRAWL_ALLOW_NETWORKS", ""))
        ),
        photographer_share=share,
        settlement_max_usd=ceiling,
        crawl_resolve=_pairs(env.get("LIGHTBOX_CRAWL_RESOLVE", "")),
        stock_feeds=_pairs(env.get("LIGHTBOX_STOCK_FEEDS", "")),
        media_roots=tuple(
            _media_root(r) for r in (_split(env.get("LIGHTBOX_MEDIA_ROOTS", "")) or (str(landing), object_store))
        ),
        trusted_proxies=tuple(
            ipaddress.ip_network(n, strict=False) for n in _split(env.get("LIGHTBOX_TRUSTED_PROXIES", ""))
        ),
        aiscan_pass_accepted=_share("LIGHTBOX_AISCAN_PASS_ACCEPTED", env.get("LIGHTBOX_AISCAN_PASS_ACCEPTED", "0.97")),
    )


def _media_root(value: str) -> str:
    """A media root as a URL: a plain path becomes ``file://<absolute path>``."""
    if "://" not in value:
        value = f"file://{Path(value).expanduser().resolve()}"
    return value.rstrip("/")


def _share(name: str, value: str) -> float:
    share = float(value)
    if not 0.5 <= share <= 1.0:
        raise ValueError(f"{name} must be between 0.5 and 1, got {value}")
    return share


def _pairs(value: str) -> dict[str, str]:
    pairs = {}
    for part in _split(value):
        name, sep, target = part.partition("=")
        if not sep:
            raise ValueError(f"expected name=value, got {part!r}")
        pairs[name.strip().lower()] = target.strip()
    return pairs
