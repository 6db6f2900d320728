"""The reads measured: each an RPC and the requests its calls cycle through.

Deep pages are reached as a client reaches them: by walking the list with
pages of up to 1000 to the page token 90 % of the way down; the page at that
token (50 items) is what is timed. A walk that takes longer than its budget
(--walk-seconds) stops where it got to, and the operation notes how deep its
page really is.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from google.protobuf.message import Message

from bench.scale.catalog_seed import ABSENT, CATEGORIES, RARE
from bench.scale.seed import Seeded
from bench.scale.stack import Stack
from kit.protos import timestamp
from stockmesh.catalog.v1 import catalog_pb2 as catalog_pb
from stockmesh.procure.v1 import procure_pb2 as procure_pb
from stockmesh.stock.v1 import stock_pb2 as stock_pb

M = TypeVar("M", bound=Message)
PAGE = 50
WALK_PAGE = 1000
DEEP = 0.9
SAMPLE = 200  # distinct SKUs the point reads cycle through
BATCH = 100  # SKUs per BatchGetVariants and per SummarizeDemand with SKUs
DEMAND_WINDOW = timedelta(days=28)
# A leaf category holds a tenth of the seeded products, its parent a fifth;
# a walk into the leaf stops short of its smallest likely size.
LEAF, TREE = CATEGORIES[0], CATEGORIES[0].split("/")[0]
LEAF_SHARE = 0.09


@dataclass(frozen=True)
class Operation:
    label: str
    service: str  # "catalog", "stock" or "procure": the stub measured, the servicer explained
    method: str  # the RPC, by the same name on the stub and on the servicer
    requests: tuple[Message, ...]  # one per call, in turn
    note: str = ""  # e.g. a deep page that is not as deep as its label says


def with_fields(request: M, **fields: Any) -> M:
    out = type(request)()
    out.CopyFrom(request)
    for name, value in fields.items():
        if isinstance(value, list):  # a repeated field is filled, not assigned
            del getattr(out, name)[:]
            getattr(out, name).extend(value)
        else:
            setattr(out, name, value)
    return out


@dataclass(frozen=True)
class Walk:
    """Reaches page tokens deep down a list through `stack`, each walk within `seconds`."""

    stack: Stack
    seconds: float

    def token_at(self, call: Callable[..., Any], request: Message, items: str, total: int) -> tuple[str, str]:
        """The token after the first 90 % of the list's `total` items; a note if the walk stopped short."""
        target, seen, token = int(DEEP * total), 0, ""
        started = time.perf_counter()
        while seen < target and time.perf_counter() - started < self.seconds:
            page = with_fields(request, page_size=min(WALK_PAGE, target - seen), page_token=token)
            reply = call(page, metadata=self.stack.metadata, timeout=600)
            seen += len(getattr(reply, items))
            token = str(reply.next_page_token)
            if not token:
                raise RuntimeError(f"{type(request).__name__}: the list ended after {seen} of {target} items")
        if seen >= target:
            return token, ""
        depth = f"the page after item {seen:,} of {total:,} ({seen / total:.0%})"
        return token, f"walk stopped after {self.seconds:.0f} s: {depth}"

    def deep(self, call: Callable[..., Any], request: M, items: str, total: int) -> tuple[M, str]:
        token, note = self.token_at(call, request, items, total)
        return with_fields(request, page_token=token), note


def batches(skus: Sequence[str], rng: random.Random, count: int = 10) -> list[list[str]]:
    return [sorted(rng.sample(list(skus), min(BATCH, len(skus)))) for _ in range(count)]


def operations(
    stack: Stack, seeded: Seeded, stubs: dict[str, Any], rng: random.Random, walk_seconds: float
) -> list[Operation]:
    walk = Walk(stack, walk_seconds)
    return [
        *catalog_operations(stack, seeded, stubs["catalog"], rng, walk),
        *stock_operations(stack, seeded, stubs["stock"], rng, walk),
        Operation(
            "ProposeReplenishment",
            "procure",
            "ProposeReplenishment",
            (procure_pb.ProposeReplenishmentRequest(warehouse=stack.warehouse),),
        ),
        Operation(
            "ReconcileStockLevels",
            "stock",
            "ReconcileStockLevels",
            (stock_pb.ReconcileStockLevelsRequest(parent=stack.warehouse),),
        ),
    ]


def catalog_operations(
    stack: Stack, seeded: Seeded, stub: Any, rng: random.Random, walk: Walk
) -> list[Operation]:
    products = catalog_pb.ListProductsRequest(page_size=PAGE)
    deep, note = walk.deep(stub.ListProducts, products, "products", stack.size)
    picked = rng.sample(range(stack.size), min(SAMPLE, stack.size))

    def catalog(label: str, method: str, *requests: Message, note: str = "") -> Operation:
        return Operation(label, "catalog", method, requests, note)

    leaf = with_fields(products, category=LEAF)
    deep_leaf, leaf_note = walk.deep(stub.ListProducts, leaf, "products", int(LEAF_SHARE * stack.size))
    return [
        catalog("ListProducts first page", "ListProducts", products),
        catalog("ListProducts page at 90%", "ListProducts", deep, note=note),
        catalog(
            f"ListProducts category={LEAF!r} (10%), deep page", "ListProducts", deep_leaf, note=leaf_note
        ),
        catalog(
            f"ListProducts category={TREE!r} (20%)", "ListProducts", with_fields(products, category=TREE)
        ),
        catalog(f"ListProducts query={RARE!r} (0.1%)", "ListProducts", with_fields(products, query=RARE)),
        catalog(f"ListProducts query={ABSENT!r} (none)", "ListProducts", with_fields(products, query=ABSENT)),
        catalog(
            f"ListVariants query={ABSENT!r} (none)",
            "ListVariants",
            catalog_pb.ListVariantsRequest(parent="products/-", page_size=PAGE, query=ABSENT),
        ),
        catalog("LookupSku", "LookupSku", *(catalog_pb.LookupSkuRequest(sku=seeded.skus[i]) for i in picked)),
        catalog(
            "LookupBarcode",
            "LookupBarcode",
            *(catalog_pb.LookupBarcodeRequest(barcode=seeded.barcodes[i]) for i in picked),
        ),
        catalog(
            f"BatchGetVariants {BATCH} SKUs",
            "BatchGetVariants",
            *(catalog_pb.BatchGetVariantsRequest(skus=b) for b in batches(seeded.skus, rng)),
        ),
    ]


def stock_operations(
    stack: Stack, seeded: Seeded, stub: Any, rng: random.Random, walk: Walk
) -> list[Operation]:
    levels = stock_pb.ListStockLevelsRequest(parent=stack.warehouse, page_size=PAGE)
    low = stock_pb.ListLowStockRequest(parent=stack.warehouse, page_size=PAGE)
    start = timestamp(datetime.now(UTC) - DEMAND_WINDOW)
    window = datetime.now(UTC) - timedelta(days=30)  # mid-ledger
    demand = stock_pb.SummarizeDemandRequest(warehouse=stack.warehouse, start_time=start, page_size=PAGE)
    picked = [seeded.skus[i] for i in rng.sample(range(stack.size), min(SAMPLE, stack.size))]

    def stock(label: str, method: str, *requests: Message) -> Operation:
        return Operation(label, "stock", method, requests)

    def deep(label: str, method: str, request: Message, items: str, total: int) -> Operation:
        page, note = walk.deep(getattr(stub, method), request, items, total)
        return Operation(label, "stock", method, (page,), note)

    return [
        stock("ListStockLevels first page", "ListStockLevels", levels),
        deep("ListStockLevels page at 90%", "ListStockLevels", levels, "stock_levels", stack.size),
        stock("ListLowStock first page", "ListLowStock", low),
        deep("ListLowStock page at 90%", "ListLowStock", low, "stock_levels", seeded.low),
        stock(
            "GetStockLevel",
            "GetStockLevel",
            *(stock_pb.GetStockLevelRequest(name=f"{stack.warehouse}/stockLevels/{s}") for s in picked),
        ),
        stock(
            "ListMovements by SKU",
            "ListMovements",
            *(stock_pb.ListMovementsRequest(sku=s, page_size=PAGE) for s in picked),
        ),
        stock(
            "ListMovements by warehouse and SKU",
            "ListMovements",
            *(
                stock_pb.ListMovementsRequest(warehouse=stack.warehouse, sku=s, page_size=PAGE)
                for s in picked
            ),
        ),
        stock(
            "ListMovements one-hour window",
            "ListMovements",
            stock_pb.ListMovementsRequest(
                start_time=timestamp(window), end_time=timestamp(window + timedelta(hours=1)), page_size=PAGE
            ),
        ),
        stock("SummarizeDemand 28 d first page", "SummarizeDemand", demand),
        deep("SummarizeDemand 28 d page at 90%", "SummarizeDemand", demand, "summaries", seeded.demanded),
        stock(
            f"SummarizeDemand 28 d {BATCH} SKUs",
            "SummarizeDemand",
            *(with_fields(demand, skus=b, page_size=BATCH) for b in batches(seeded.skus, rng)),
        ),
    ]
