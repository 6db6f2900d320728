"""How every read grows from 1,000 to 10,000 to 100,000 SKUs, on PostgreSQL.

    .venv/bin/python -m bench.scale    # options: --sizes 1000 10000 100000 --calls 200 --keep ...

For each size: new databases; svc_user, svc_catalog, svc_stock and svc_procure
started as processes over mTLS and migrated by their own start-up; a tenant
and its admin, signed in; a warehouse created through gRPC. Then a store
chain's data COPYed straight into the services' own tables (seconds, not the
hours the RPCs would take): N products with one variant each, sixty days of
ledger with ten movements per level (a million at 100k), the committed orders
behind its shipments, reorder policies with a tenth of the levels low, and
suppliers with items for 99 % of the SKUs. svc_stock's own ReconcileStockLevels
must find no drift, or the run stops.

Every read is then measured from outside, one call at a time over gRPC as the
admin: after up to three warm-up calls (one for a slow operation), up to
--calls calls, or fewer for an operation slow enough to use up --seconds
(never fewer than --min-calls; the count is printed). Deep pages are reached
by walking the list as a client would (`operations`, --walk-seconds). The
catalog runs without its Redis cache, so every read reaches PostgreSQL: the
growth of the queries is what is measured.

At the end: a table of p50 / p95 / p99 per operation and size, the ratio of
each operation's p50 at the largest size to the smallest, and for each
operation that grew more than --plan-ratio times, the PostgreSQL plans of the
statements behind it. Those are captured by running the same servicers, use
cases and stores in this process against the seeded databases (a SQLAlchemy
cursor listener records statements and parameters) and explained with
EXPLAIN (ANALYZE, BUFFERS): the exact SQL the code sends for the exact request
measured, with the time the whole call took in process beside its SQL time.
auto_explain would have meant loading it into the services' sessions and
reading the server's log; this needs neither. See `plans`.

Needs PostgreSQL at STOCKMESH_TEST_POSTGRES (default
postgresql://root@127.0.0.1:5432/postgres). The modules: `stack` (processes,
databases, the admin), `catalog_seed`, `stock_seed`, `seed` and `bulk` (the
data), `operations` (the reads), `measure` (timing and the table), `plans`.
"""
