"""svc_stock's storage on SQL (SQLAlchemy Core on SQLite and PostgreSQL):
`tables`, one repository module per aggregate, the unit of work (`unit`),
reservation batches (`batches`, and `pg_batches` for PostgreSQL alone), and
the live stream's announcements (`feed`)."""
