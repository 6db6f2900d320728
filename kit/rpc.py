"""Types servicers share."""

from __future__ import annotations

from typing import Any, TypeAlias

from grpc import aio

# The request/response parameters carry no information for our handlers.
Context: TypeAlias = aio.ServicerContext[Any, Any]
