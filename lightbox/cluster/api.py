"""Airflow's REST API (``/api/v2``), as a data team drives it: sign in (a JWT from the simple
auth manager), unpause and trigger DAGs, wait for runs, read task instances."""
from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from lightbox.config import DAG_ORDER

FINISHED = {"success", "failed"}


@dataclass
class Airflow:
    base_url: str
    username: str
    password: str
    timeout: float = 60.0
    _token: str | None = None

    def _client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=self.timeout)

    def token(self) -> str:
        if self._token is None:
            with self._client() as c:
                r = c.post("/auth/token", json={"username": self.username, "password": self.password})
                r.raise_for_status()
                self._token = r.json()["access_token"]
        return self._token

    def request(self, method: str, path: str, **kwargs) -> dict:
        for attempt in range(5):
            try:
                with self._client() as c:
                    r = c.request(method, "/api/v2" + path, headers={"Authorization": f"Bearer {self.token()}"},
                                  **kwargs)
            except httpx.TransportError:  # a busy machine: a timeout or a reset connection
                if attempt == 4:
                    raise
                time.sleep(3)
                continue
            if r.status_code == 401 and attempt == 0:  # expired: sign in again
                self._token = None
                continue
            if r.status_code >= 500 and attempt < 4:  # the server is busy starting or restarting a worker
                time.sleep(2)
                continue
            r.raise_for_status()
            return r.json() if r.content else {}
        r.raise_for_status()
        return {}

    def dag_ids(self) -> set[str]:
        return {d["dag_id"] for d in self.request("GET", "/dags", params={"limit": 100})["dags"]}

    def wait_for_dags(self, dag_ids, timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        while True:
            missing = set(dag_ids) - self.dag_ids()
            if not missing:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"DAGs not parsed after {timeout:.0f} s: {', '.join(sorted(missing))}")
            time.sleep(3)

    def unpause(self, dag_id: str) -> None:
        self.request("PATCH", f"/dags/{dag_id}", json={"is_paused": False})

    def trigger(self, dag_id: str, logical_date: str | None = None, conf: dict | None = None) -> str:
        body = {"logical_date": logical_date, "conf": conf or {}}
        return self.request("POST", f"/dags/{dag_id}/dagRuns", json=body)["dag_run_id"]

    def run(self, dag_id: str, run_id: str) -> dict:
        return self.request("GET", f"/dags/{dag_id}/dagRuns/{run_id}")

    def wait(self, dag_id: str, run_id: str, timeout: float = 1800, poll: float = 3) -> str:
        deadline = time.monotonic() + timeout
        while True:
            state = self.run(dag_id, run_id)["state"]
            if state in FINISHED:
                return state
            if time.monotonic() > deadline:
                raise TimeoutError(f"{dag_id} {run_id} still {state} after {timeout:.0f} s")
            time.sleep(poll)

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        out, offset = [], 0
        while True:
            page = self.request("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances",
                                params={"limit": 100, "offset": offset})
            out.extend(page["task_instances"])
            offset += len(page["task_instances"])
            if not page["task_instances"] or offset >= page["total_entries"]:
                return out

    def clear_failed(self, dag_id: str, run_id: str) -> None:
        """Retry a run: clear its failed and upstream-failed tasks (the run goes back to running)."""
        self.request("POST", f"/dags/{dag_id}/clearTaskInstances",
                     json={"dag_run_id": run_id, "only_failed": True, "reset_dag_runs": True, "dry_run": False})


def run_chain(api: Airflow, logical_date: str | None, dag_ids=DAG_ORDER, timeout: float = 1800,
              echo=print) -> dict[str, tuple[str, str]]:
    """Trigger each DAG in dependency order and wait for it: {dag_id: (run_id, state)}."""
    results = {}
    for dag_id in dag_ids:
        api.unpause(dag_id)
        run_id = api.trigger(dag_id, logical_date)
        started = time.monotonic()
        state = api.wait(dag_id, run_id, timeout)
        echo(f"  {dag_id}: {state} in {time.monotonic() - started:.0f} s")
        results[dag_id] = (run_id, state)
    return results
