# The image of the cluster mode (docker-compose.yml, written from lightbox/cluster/services.py):
# Airflow 3.3 with Lightbox installed. Runtime pins only (requirements.txt): no pytest,
# Playwright or sqlfluff in the image.
FROM apache/airflow:3.3.2-python3.11
USER root
RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /opt/lightbox/home /opt/lightbox/landing \
 && chown -R airflow:root /opt/lightbox && chmod -R g+rwX /opt/lightbox
USER airflow
# Where dags/, dbt/, plugins/ and include/ are (lightbox.config.REPO_ROOT reads it): the
# package itself is installed into site-packages, away from them.
ENV LIGHTBOX_PROJECT_DIR=/opt/lightbox \
    LIGHTBOX_HOME=/opt/lightbox/home \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/lightbox/dags
COPY --chown=airflow:root requirements.txt constraints.txt pyproject.toml README.md /opt/lightbox/
COPY --chown=airflow:root lightbox /opt/lightbox/lightbox
COPY --chown=airflow:root ml /opt/lightbox/ml
RUN pip install --no-cache-dir -r /opt/lightbox/requirements.txt -c /opt/lightbox/constraints.txt \
 && pip install --no-cache-dir --no-deps /opt/lightbox
COPY --chown=airflow:root dags /opt/lightbox/dags
COPY --chown=airflow:root plugins /opt/lightbox/plugins
COPY --chown=airflow:root dbt /opt/lightbox/dbt
COPY --chown=airflow:root include /opt/lightbox/include
# dbt/target/manifest.json is not in git: the marts_build DAG renders from it, so build it here
# (`dbt parse` needs no database).
RUN cd /opt/lightbox && python -c "from lightbox.marts import ensure_manifest; print(ensure_manifest())"
# Named volumes start with this folder's contents and owner: writable by the airflow user.
VOLUME ["/opt/lightbox/home"]
