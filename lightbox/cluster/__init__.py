"""Cluster mode: the services of ``services.py`` (one table) run as local processes
(``local.py``: ``lightbox cluster up|down|status``) or as containers (``docker-compose.yml``,
written from the same table by ``compose.py``). ``api.py`` drives Airflow's REST API. See
docs/cluster.md."""
