"""Helpers of the gateway's path-template specifications: a router of literal routes."""

from __future__ import annotations

from gateway.templates import Router, parse


def router_of(*routes: tuple[str, str]) -> Router[str]:
    router: Router[str] = Router()
    for method, template in routes:
        router.add(method, parse(template), f"{method} {template}")
    return router
