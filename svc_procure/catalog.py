"""What svc_procure needs of the catalog: which SKUs it does not know.

A port, so use cases depend on the question, not on gRPC; app.py plugs in
the gRPC client, and tests may plug in svc_catalog itself or a stand-in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class SkuDirectory(Protocol):
    async def unknown(self, skus: Sequence[str]) -> list[str]:
        """The SKUs among `skus` that no variant of the caller's tenant carries."""
        ...
