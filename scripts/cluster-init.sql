-- Cluster mode: the second database, for Airflow's metadata (the warehouse is POSTGRES_DB).
create database airflow;
