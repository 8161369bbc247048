-- Run once by the postgres image of `docker compose up` when it creates the database (as the
-- superuser modellens, in database modellens). The demo-pg service loads the demo fleet as
-- modellens; Grafana's "ModelLens (PostgreSQL)" data source reads as modellens_reader, which may
-- only SELECT: a read-only role is what the README recommends for the sql source.
CREATE ROLE modellens_reader LOGIN PASSWORD 'modellens-reader';
GRANT CONNECT ON DATABASE modellens TO modellens_reader;
GRANT USAGE ON SCHEMA public TO modellens_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO modellens_reader;
-- Tables that modellens creates later (the loader creates predictions and reference).
ALTER DEFAULT PRIVILEGES FOR ROLE modellens IN SCHEMA public GRANT SELECT ON TABLES TO modellens_reader;
