"""The simulator's ASGI application: Graph routes, admin routes, Graph's answer to the rest."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route

from infra.local.graph_simulator.admin_routes import admin_routes
from infra.local.graph_simulator.graph_routes import graph_routes, unknown_path
from infra.local.graph_simulator.simulation import Simulation

_ANY_METHOD = ["GET", "POST", "DELETE", "PUT", "PATCH"]


def build_app(simulation: Simulation) -> Starlette:
    routes = [
        *admin_routes(simulation),
        *graph_routes(simulation),
        Route("/{path:path}", unknown_path, methods=_ANY_METHOD),
    ]
    return Starlette(routes=routes)
