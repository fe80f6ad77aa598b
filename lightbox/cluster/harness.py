"""A whole local cluster on the sample marketplace, for the smoke test and the benchmark:
seed the landing folder, serve the sample sites on loopback, run ``lightbox cluster up`` (as
a user would, in a subprocess) with the seed's crawl settings, hand back a signed-in REST
client, and always stop every process on the way out.

    with SampleCluster(home, workers=2) as cluster:
        cluster.api.trigger(...)
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from lightbox.cluster import local
from lightbox.cluster.api import Airflow


def sample_environment(manifest: dict) -> dict[str, str]:
    """What the cluster's services need to crawl the sample sites (the demo's settings)."""
    from lightbox.demo import demo_environment

    env = demo_environment(manifest)
    env.setdefault("LIGHTBOX_CRAWL_ALLOW_NETWORKS", "127.0.0.0/8")
    return env


class SampleCluster:
    def __init__(self, home: Path, workers: int = 2, scale: str = "small", seed: int = 7,
                 schedules: bool = False, timeout: float = 900, extra_env: dict | None = None):
        self.home = Path(home)
        self.workers = workers
        self.scale = scale
        self.seed = seed
        self.schedules = schedules
        self.timeout = timeout
        self.extra_env = extra_env or {}
        self.root = self.home / "cluster"
        self.landing = self.home / "landing"
        self.manifest: dict = {}
        self.state: dict = {}
        self.api: Airflow | None = None
        self._sites = None

    def environment(self) -> dict[str, str]:
        """The environment ``lightbox cluster up`` runs in."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(local.STRIPPED_PREFIXES)}
        env.update({"LIGHTBOX_HOME": str(self.home), "LIGHTBOX_LANDING": str(self.landing)})
        env.update(sample_environment(self.manifest))
        # Only the runs the caller triggers: no cron or asset-triggered runs on the side.
        env["AIRFLOW_USE_JOB_SCHEDULE"] = "True" if self.schedules else "False"
        env.update(self.extra_env)
        return env

    def seed_and_serve(self) -> None:
        from lightbox.seed import generate
        from lightbox.sites import serve_sites

        port = local.free_port()
        self.home.mkdir(parents=True, exist_ok=True)
        old = {k: os.environ.get(k) for k in ("LIGHTBOX_HOME", "LIGHTBOX_LANDING")}
        os.environ.update({"LIGHTBOX_HOME": str(self.home), "LIGHTBOX_LANDING": str(self.landing)})
        try:
            generate(str(self.landing), scale=self.scale, seed=self.seed, sites_port=port)
        finally:
            for k, v in old.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        self.manifest = json.loads((self.landing / "_seed.json").read_text())
        self._sites, _ = serve_sites(self.manifest["sites_dir"], port=port)

    def cli(self, *args: str, timeout: float | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "lightbox.cli", "cluster", *args, "--dir", str(self.root)],
                              env=self.environment(), capture_output=True, text=True, timeout=timeout)

    def start(self) -> None:
        self.seed_and_serve()
        proc = self.cli("up", "--workers", str(self.workers), "--free-ports", "--timeout", str(self.timeout),
                        timeout=self.timeout + 120)
        if proc.returncode != 0:
            raise local.ClusterError(f"lightbox cluster up failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        self.state = local.load_state(self.root)
        secrets = local.load_secrets(self.root)
        self.api = Airflow(f"http://127.0.0.1:{self.state['ports']['api']}", "admin", secrets["AIRFLOW_ADMIN_PASSWORD"])

    def client_environment(self) -> dict[str, str]:
        return local.client_environment(self.root)

    def stop(self) -> None:
        try:
            local.down(self.root, echo=lambda *_: None)
        finally:
            if self._sites is not None:
                self._sites.shutdown()
                self._sites.server_close()
                self._sites = None

    def __enter__(self) -> SampleCluster:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
