"""Airflow UI link to the Great Expectations Data Docs site that ``quality_report`` builds.

Airflow 3 plugins add links to the UI as *external views*: a view without ``url_route`` is
a plain link in the navigation (opened outside Airflow), which is what a static site served
by ``lightbox up`` needs. The address follows ``LIGHTBOX_DATA_DOCS_URL`` (default: where
``lightbox up`` serves ``$LIGHTBOX_HOME/docs``).
"""
from __future__ import annotations

import os

from airflow.plugins_manager import AirflowPlugin

DEFAULT_DATA_DOCS_URL = "http://localhost:8091/"


def data_docs_url() -> str:
    return os.environ.get("LIGHTBOX_DATA_DOCS_URL") or DEFAULT_DATA_DOCS_URL


class LightboxDocsPlugin(AirflowPlugin):
    name = "lightbox_docs"
    external_views = [
        {
            "name": "Data Docs",
            "href": data_docs_url(),
            "destination": "nav",
            "category": "Lightbox",
        }
    ]
