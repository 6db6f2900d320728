"""Clients of the services that other services call: one subpackage per
called service (catalog, stock, user), used by every caller.

Each depends only on the generated contracts (`stockmesh.*`) and `kit`. A
subpackage's `__init__` and `types` import no gRPC, so use cases can name its
types; its `client` module holds the gRPC client that `app.py` plugs in. A
neighbour's refusal or failure reaches a client as a kit error, by the one
rule of `kit.neighbours`, applied by the channel.
"""
