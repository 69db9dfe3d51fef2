"""The local stack: the deployed topology on one machine, with the same handlers.

moto server stands in for AWS (``moto_backend``), the stage's resources come from
``infra.topology`` (``resources``), each function runs in-process in Lambda-like
environments (``lambda_runtime``), fed by an HTTP API that builds API Gateway's events
(``http_api``), by SQS pollers that behave like Lambda's event source mappings
(``pollers``) and by the schedule (``schedule``); the EMF the handlers print is aggregated
as CloudWatch would (``emf``). ``runner`` starts and stops it all; ``demo`` drives it.

Example::

    from infra.local.stack import LocalConfig, LocalStack

    with LocalStack(LocalConfig(http_port=0)) as stack:
        stack.api_url, stack.simulator.accepted
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["LocalConfig", "LocalStack", "local_stack"]


def __getattr__(name: str) -> Any:
    # Lazy, so `python -m infra.local.stack.moto_backend` (moto's child process) does not
    # import the HTTP servers and handlers' dependencies it never uses.
    if name in __all__:
        return getattr(importlib.import_module("infra.local.stack.runner"), name)
    raise AttributeError(name)
