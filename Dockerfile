# The image of the cluster mode (docker-compose.yml): Airflow 3.3 with Lightbox installed.
FROM apache/airflow:3.3.2-python3.11
USER root
RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 && rm -rf /var/lib/apt/lists/*
USER airflow
COPY --chown=airflow:root requirements.txt constraints.txt pyproject.toml README.md /opt/lightbox/
COPY --chown=airflow:root lightbox /opt/lightbox/lightbox
COPY --chown=airflow:root ml /opt/lightbox/ml
RUN pip install --no-cache-dir -r /opt/lightbox/requirements.txt -c /opt/lightbox/constraints.txt s3fs \
 && pip install --no-cache-dir --no-deps /opt/lightbox
COPY --chown=airflow:root dags /opt/airflow/dags
COPY --chown=airflow:root plugins /opt/airflow/plugins
COPY --chown=airflow:root dbt /opt/lightbox/dbt
COPY --chown=airflow:root include /opt/lightbox/include
