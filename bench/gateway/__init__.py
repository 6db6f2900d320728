"""The REST/JSON gateway against direct gRPC, live stock fanned out over
server-sent events, and the ASGI server's overhead, in one run.

    make bench-gateway    # or: .venv/bin/python -m bench.gateway --clients 16 --compare-servers

Starts svc_user, svc_catalog, svc_stock and svc_order on PostgreSQL and one
gateway (`python -m gateway`: uvicorn with uvloop and httptools), each its own
process over mTLS on 127.0.0.1, seeds a tenant, a warehouse and 100 SKUs with
plenty of stock, then prints:

1. GetStockLevel and CreateOrder through the gateway (HTTP/1.1 keep-alive, one
   connection per client) and over direct gRPC at the same concurrency: calls/s,
   p50, p99, the ratios gateway/direct, and the CPU every process spent.
2. Live-stock fan-out: SSE subscribers on the gateway, then receipts one at a
   time; the delay from ReceiveStock's return to each delivery, against one
   direct gRPC subscriber of the same changes; then the CPU the gateway and
   svc_stock spend holding the idle streams.
3. With --compare-servers: GetStockLevel through the gateway served by uvicorn
   and by granian (not a dependency of the project: pip install granian==2.8.7).

--profile adds a cProfile of the gateway under load: its top costs per request.
Needs PostgreSQL at STOCKMESH_TEST_POSTGRES (default
postgresql://root@127.0.0.1:5432/postgres).

The modules: `procstat` (CPU, memory and TCP readings from /proc), `stack` (the
services, the gateway process, the seeded data), `clients` (the callers and a
measured run), `compare` (part 1), `subscribers` and `fanout` (part 2),
`servers` (part 3, and the factory granian imports), `profiling` (--profile),
`__main__` (the arguments and the order of the parts).
"""
