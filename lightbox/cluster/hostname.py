"""``[core] hostname_callable`` of the cluster: the name a task instance records as the host
that ran it. Several local Celery workers share one machine, so each gets its own name
(``LIGHTBOX_WORKER_NAME``); in containers the host name already differs."""
from __future__ import annotations

import os
import socket


def hostname() -> str:
    return os.environ.get("LIGHTBOX_WORKER_NAME") or socket.getfqdn()
