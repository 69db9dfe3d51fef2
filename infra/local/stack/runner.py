"""Starting and stopping the whole local stack.

:class:`LocalStack` brings up, in order: moto server; the stage's resources from
:mod:`infra.topology`; the Graph API simulator (status webhooks pointed at the local HTTP
API's ``/webhook`` and signed with the app secret stored in the app-secret secret), or
Meta's real Graph API; the process environment the handlers read at cold start; the HTTP
API; the queue pollers; the schedule; and the demo WABAs (onboarded through ``POST
/v1/wabas`` when the api function exists, else their token secrets are stored directly).
``stop()`` takes it all down in reverse and puts the environment back.

Example::

    with LocalStack(LocalConfig(http_port=0)) as stack:
        httpx.post(f"{stack.api_url}/v1/messages", json=...)
        stack.simulator.accepted
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from infra.local.stack.emf import EmfAggregator, capture_emf
from infra.local.stack.http_api import HttpApi
from infra.local.stack.lambda_runtime import FunctionPool
from infra.local.stack.moto_backend import MotoMode, MotoServer, start_moto
from infra.local.stack.pollers import DEFAULT_WAIT_SECONDS, QueuePoller
from infra.local.stack.resources import (
    ACCOUNT_ID,
    AwsClients,
    CreatedResources,
    create_resources,
    store_waba_token,
)
from infra.local.stack.schedule import Scheduler
from infra.topology import FunctionKey, QueueKey, Topology

if TYPE_CHECKING:
    import boto3
    from pixy_whatsapp.settings import Settings

    from infra.local.graph_simulator import GraphSimulator

_log = logging.getLogger("pixy.local")

ROOT = Path(__file__).resolve().parents[3]
DEFAULT_HTTP_PORT = 8787

# Lower than the AWS stack's maximum concurrency (sender 50, inbound 20): moto server is
# one GIL-bound process whose calls slow down with every extra client thread (see
# docs/architecture.md, "Local stack", for the measurements behind these numbers).
DEFAULT_CONCURRENCY: Mapping[FunctionKey, int] = {
    FunctionKey.SENDER: 4,
    FunctionKey.INBOUND: 2,
    FunctionKey.API: 4,
    FunctionKey.WEBHOOK: 4,
    FunctionKey.SUBSCRIPTIONS: 1,
}

# Settings that differ locally, and why:
LOCAL_SETTINGS: Mapping[str, object] = {
    # A send the simulator holds (timeout fault) is given up after 5 s, not 10 s.
    "graph_timeout_seconds": 5.0,
    # An ambiguous send waits 2 minutes (not 15) for a webhook before it is sent again, so
    # a local run with timeout faults ends in minutes; still longer than the inbound path
    # lags behind on a loaded laptop, so a slow webhook is not mistaken for a lost send.
    "ambiguous_window_seconds": 120,
    # A rotated token (the "revoked, then restored" drill) is picked up within seconds.
    "secret_max_age_seconds": 5,
}


@dataclass(frozen=True)
class DemoNumber:
    phone_number_id: str
    display_phone_number: str


@dataclass(frozen=True)
class DemoWaba:
    waba_id: str
    token: str = field(repr=False)
    numbers: tuple[DemoNumber, ...]


def demo_wabas(count: int = 3, numbers_per_waba: int = 2) -> tuple[DemoWaba, ...]:
    """Made-up WABAs, phone numbers and tokens for the simulator (ids look like Meta's)."""
    return tuple(
        DemoWaba(
            waba_id=f"2000000000000{w:02d}",
            token=f"local-token-waba-{w}",
            numbers=tuple(
                DemoNumber(f"1000000000000{w}{n}", f"1555010{w:02d}{n:02d}")
                for n in range(1, numbers_per_waba + 1)
            ),
        )
        for w in range(1, count + 1)
    )


@dataclass(frozen=True)
class RealGraph:
    """Meta's real Graph API instead of the simulator (documented; not tested here)."""

    base_url: str
    token: str = field(repr=False)
    phone_number_id: str
    waba_id: str


@dataclass(frozen=True)
class LocalConfig:
    stage: str = "local"
    region: str = "us-east-1"
    http_host: str = "127.0.0.1"
    http_port: int = DEFAULT_HTTP_PORT
    moto_mode: MotoMode = "process"
    concurrency: Mapping[FunctionKey, int] = field(
        default_factory=lambda: dict(DEFAULT_CONCURRENCY)
    )
    poll_wait_seconds: int = DEFAULT_WAIT_SECONDS
    settings: Mapping[str, object] = field(default_factory=lambda: dict(LOCAL_SETTINGS))
    log_level: str = "WARNING"
    # The Graph API simulator
    faults: tuple[str, ...] = ()
    latency: str = "lognormal:0.08,0.4"
    seed: int = 0
    webhook_duplicate_rate: float = 0.02
    webhook_reorder_rate: float = 0.02
    # Meta posts the statuses of one number that fall due together in one request; so does
    # the simulator (a third fewer webhook requests and inbound records, measured).
    webhook_max_statuses_per_post: int = 20
    webhook_batch_window_seconds: float = 0.2
    # Every accepted message gets `delivered`, so "terminal" is well defined (see demo.py).
    delivered_probability: float = 1.0
    read_probability: float = 0.6
    simulator_overrides: Mapping[str, Any] = field(default_factory=dict)
    wabas: tuple[DemoWaba, ...] = field(default_factory=demo_wabas)
    real_graph: RealGraph | None = None
    app_secret: str | None = None
    verify_token: str | None = None
    schedule_scale: float = 1.0
    onboard_through_api: bool = True
    # Functions whose environments run in child processes (infra/local/stack/worker.py),
    # so a test can kill one mid-invocation; every other function runs in threads.
    process_functions: frozenset[FunctionKey] = frozenset()


class EnvironmentPatch:
    """Set process environment variables and put the old values back afterwards."""

    def __init__(self) -> None:
        self._saved: dict[str, str | None] = {}

    def set(self, values: Mapping[str, str | None]) -> None:
        for name, value in values.items():
            if name not in self._saved:
                self._saved[name] = os.environ.get(name)
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    def restore(self) -> None:
        for name, value in self._saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved.clear()


AwsSessionHook = Callable[["boto3.Session"], None]
"""Shown every boto3 session the stack and its handlers build AWS clients from, before the
first client: events registered on ``session.events`` then reach every client (benchmarks
count requests this way)."""


class LocalStack:
    """The whole system on one machine: see the module docstring."""

    def __init__(
        self, config: LocalConfig | None = None, *, aws_session_hook: AwsSessionHook | None = None
    ) -> None:
        self.config = config or LocalConfig()
        self._aws_session_hook = aws_session_hook
        self._saved_default_session: tuple[boto3.Session | None] | None = None
        self.topology = Topology(self.config.stage)
        self.emf = EmfAggregator()
        self.app_secret = self.config.app_secret or secrets.token_hex(16)
        self.verify_token = self.config.verify_token or secrets.token_urlsafe(16)
        self.pools: dict[FunctionKey, FunctionPool] = {}
        self.pollers: dict[FunctionKey, QueuePoller] = {}
        self.onboarded: dict[str, str] = {}  # waba id -> how its token got stored
        self.started_at: float | None = None
        self._stack = contextlib.ExitStack()
        self._env = EnvironmentPatch()
        self._moto: MotoServer | None = None
        self._clients: AwsClients | None = None
        self._resources: CreatedResources | None = None
        self._simulator: GraphSimulator | None = None
        self._http: HttpApi | None = None
        self._scheduler: Scheduler | None = None
        self._settings: Settings | None = None
        self._stopped = threading.Event()
        self._redirected: list[tuple[logging.StreamHandler[Any], Any]] = []
        self._saved_log_level: int | None = None

    # -- what it is --------------------------------------------------------------------------

    @property
    def clients(self) -> AwsClients:
        assert self._clients is not None, "the stack is not started"
        return self._clients

    @property
    def resources(self) -> CreatedResources:
        assert self._resources is not None, "the stack is not started"
        return self._resources

    @property
    def settings(self) -> Settings:
        assert self._settings is not None, "the stack is not started"
        return self._settings

    @property
    def simulator(self) -> GraphSimulator:
        if self._simulator is None:
            raise RuntimeError("no Graph API simulator (the stack talks to Meta)")
        return self._simulator

    @property
    def has_simulator(self) -> bool:
        return self._simulator is not None

    @property
    def http(self) -> HttpApi:
        assert self._http is not None, "the stack is not started"
        return self._http

    @property
    def api_url(self) -> str:
        return self.http.url

    @property
    def moto_url(self) -> str:
        assert self._moto is not None, "the stack is not started"
        return self._moto.endpoint_url

    @property
    def scheduler(self) -> Scheduler:
        assert self._scheduler is not None, "the stack is not started"
        return self._scheduler

    @property
    def wabas(self) -> tuple[DemoWaba, ...]:
        if self.config.real_graph is not None:
            real = self.config.real_graph
            return (
                DemoWaba(real.waba_id, real.token, (DemoNumber(real.phone_number_id, "real"),)),
            )
        return self.config.wabas

    def queue_url(self, key: QueueKey) -> str:
        return self.resources.queue_urls[key]

    def dlq_url(self, key: QueueKey) -> str:
        return self.resources.dlq_urls[key]

    # -- starting ----------------------------------------------------------------------------

    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        config = self.config
        started = time.monotonic()
        self._stack.enter_context(capture_emf(self.emf))
        self._moto = self._stack.enter_context(start_moto(config.moto_mode))
        self._clients = AwsClients.for_endpoint(self._moto.endpoint_url, config.region)
        if self._aws_session_hook is not None:
            self._aws_session_hook(self._clients.session)
        self._resources = create_resources(
            self._clients,
            self.topology,
            app_secret=self.app_secret,
            verify_token=self.verify_token,
        )

        self._http = HttpApi(
            self.pools,
            emf=self.emf,
            account_id=ACCOUNT_ID,
            host=config.http_host,
            port=config.http_port,
            health=self.health,
            run_schedule=lambda key: self.scheduler.run_now(key),
        )
        self._http.bind()
        graph_base_url = self._start_graph()

        from pixy_whatsapp.settings import Settings

        self._settings = Settings(
            **{
                **self._resources.settings_values(),
                "graph_base_url": graph_base_url,
                **dict(config.settings),
            }
        )
        self._env.set(self._environment(self._settings))
        if self._aws_session_hook is not None:
            self._hook_default_session(self._aws_session_hook)
        self._quiet_handler_logs()
        self._forget_library_singletons()

        for spec in self.topology.functions:
            self.pools[spec.key] = FunctionPool(
                spec,
                root=ROOT,
                function_name=self.topology.function_name(spec.key),
                region=config.region,
                account_id=ACCOUNT_ID,
                max_environments=config.concurrency.get(spec.key, 1),
                isolation="process" if spec.key in config.process_functions else "thread",
                emf=self.emf,
            )
        for key in (FunctionKey.WEBHOOK, FunctionKey.SENDER):
            # A missing or malformed setting fails here, not on the first message.
            if self.pools[key].available:
                self.pools[key].warm_up()
        self._http.start()

        for spec in self.topology.functions:
            if spec.event_source is None:
                continue
            source = spec.event_source
            poller = QueuePoller(
                self.pools[spec.key],
                self._clients,
                queue_url=self._resources.queue_urls[source.queue],
                queue_arn=self._resources.queue_arns[source.queue],
                batch_size=source.batch_size,
                concurrency=min(source.max_concurrency, config.concurrency.get(spec.key, 1)),
                wait_seconds=config.poll_wait_seconds,
            )
            poller.start()
            self.pollers[spec.key] = poller

        self._scheduler = Scheduler(
            self.topology,
            self.pools,
            region=config.region,
            account_id=ACCOUNT_ID,
            period_scale=config.schedule_scale,
        )
        self._scheduler.start()
        self._onboard()
        self.started_at = time.time()
        _log.info("local stack up in %.1f s", time.monotonic() - started)

    def _start_graph(self) -> str:
        config = self.config
        if config.real_graph is not None:
            return config.real_graph.base_url
        from infra.local.graph_simulator import (
            PhoneNumber,
            SimulatorConfig,
            WebhookSettings,
            parse_fault,
            parse_latency,
            run_simulator,
        )

        numbers = {
            number.phone_number_id: PhoneNumber(
                waba_id=waba.waba_id, display_phone_number=number.display_phone_number
            )
            for waba in config.wabas
            for number in waba.numbers
        }
        tokens = {
            waba.token: (waba.waba_id, *(n.phone_number_id for n in waba.numbers))
            for waba in config.wabas
        }
        settings: dict[str, Any] = {
            "phone_numbers": numbers,
            "tokens": tokens,
            "latency": parse_latency(config.latency),
            "faults": tuple(parse_fault(spec) for spec in config.faults),
            "seed": config.seed,
            "webhooks": WebhookSettings(
                url=f"{self.http.url}/webhook",
                app_secret=self.app_secret,
                duplicate_rate=config.webhook_duplicate_rate,
                reorder_rate=config.webhook_reorder_rate,
                max_statuses_per_post=config.webhook_max_statuses_per_post,
                batch_window_seconds=config.webhook_batch_window_seconds,
                delivered_probability=config.delivered_probability,
                read_probability=config.read_probability,
            ),
        }
        for name, value in config.simulator_overrides.items():
            if name == "webhooks" and isinstance(value, Mapping):
                settings["webhooks"] = settings["webhooks"].model_copy(update=dict(value))
            elif name in ("phone_numbers", "tokens") and isinstance(value, Mapping):
                settings[name] = {**settings[name], **value}  # added to the demo WABAs'
            else:
                settings[name] = value
        simulator_config = SimulatorConfig(**settings)
        self._simulator = self._stack.enter_context(run_simulator(simulator_config))
        return self._simulator.base_url

    def _environment(self, settings: Settings) -> dict[str, str | None]:
        from pixy_whatsapp.metric_names import NAMESPACE

        return {
            **settings.to_env(),
            # boto3 in the handlers talks to moto, with credentials that open nothing real.
            "AWS_ENDPOINT_URL": self.moto_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": None,
            "AWS_SECURITY_TOKEN": None,
            "AWS_PROFILE": None,
            "AWS_REGION": self.config.region,
            "AWS_DEFAULT_REGION": self.config.region,
            # What infra/functions.py gives every function (powertools_env).
            "POWERTOOLS_SERVICE_NAME": self.topology.service_name,
            "POWERTOOLS_METRICS_NAMESPACE": NAMESPACE,
            "POWERTOOLS_LOG_LEVEL": self.config.log_level,
            "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
            # No X-Ray daemon here.
            "POWERTOOLS_TRACE_DISABLED": "true",
        }

    def _hook_default_session(self, hook: AwsSessionHook) -> None:
        """Handlers build their clients with ``boto3.client()``: boto3's default session.

        A fresh one, shown to the hook, for this stack's life; the previous one comes back
        at stop, so the hook sees nothing of another stack in the same process.
        """
        import boto3

        self._saved_default_session = (boto3.DEFAULT_SESSION,)
        boto3.setup_default_session()
        assert boto3.DEFAULT_SESSION is not None
        hook(boto3.DEFAULT_SESSION)

    def _quiet_handler_logs(self) -> None:
        """Handler logs go to stderr (Lambda's log stream); stdout is the CLI's output.

        Undone by ``_restore_handler_logs``: a test process runs other tests afterwards.
        """
        import warnings

        from pixy_whatsapp import observability

        # Put back when the stack's exit stack closes.
        self._stack.enter_context(warnings.catch_warnings())
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        powertools_logger = observability.logger
        self._saved_log_level = powertools_logger.log_level
        powertools_logger.setLevel(self.config.log_level)
        handlers = {
            *getattr(powertools_logger, "handlers", []),
            *logging.getLogger(powertools_logger.name).handlers,
        }
        for handler in handlers:
            if isinstance(handler, logging.StreamHandler) and handler.stream is sys.stdout:
                self._redirected.append((handler, handler.stream))
                handler.setStream(sys.stderr)

    def _restore_handler_logs(self) -> None:
        for handler, stream in self._redirected:
            handler.setStream(stream)
        self._redirected.clear()
        if self._saved_log_level is not None:
            from pixy_whatsapp import observability

            observability.logger.setLevel(self._saved_log_level)
            self._saved_log_level = None

    @staticmethod
    def _forget_library_singletons() -> None:
        """Library objects built from the environment on first use must see this stack's.

        A process that runs several stacks one after another (the e2e tests) would
        otherwise keep talking to the first stack's moto server.
        """
        import importlib

        with contextlib.suppress(ImportError):
            wabas_routes = importlib.import_module("pixy_whatsapp.api.wabas_routes")
            factory = wabas_routes.manager_factory
            factory.set(None)
            # Its event loop holds the old Graph client; closing it closes the client.
            runner = getattr(factory, "_runner", None)
            if isinstance(runner, asyncio.Runner):
                with contextlib.suppress(Exception):
                    runner.close()
                factory._runner = None

    def _onboard(self) -> None:
        """Register every demo WABA: the API's onboarding when it exists, else the secret."""
        for waba in self.wabas:
            how = "secret"
            if self.config.onboard_through_api and self.pools[FunctionKey.API].available:
                try:
                    response = httpx.post(
                        f"{self.api_url}/v1/wabas",
                        json={
                            "waba_id": waba.waba_id,
                            "access_token": waba.token,
                            "phone_number_ids": [n.phone_number_id for n in waba.numbers],
                        },
                        timeout=30.0,
                    )
                except httpx.HTTPError as error:
                    _log.warning("onboarding %s through the API failed: %s", waba.waba_id, error)
                else:
                    if response.is_success:
                        how = "api"
                    else:
                        _log.warning(
                            "POST /v1/wabas for %s answered %s: %s",
                            waba.waba_id,
                            response.status_code,
                            response.text[:300],
                        )
            if how == "secret":
                store_waba_token(self.clients, self.topology, waba.waba_id, waba.token)
            self.onboarded[waba.waba_id] = how

    # -- while running -----------------------------------------------------------------------

    def rotate_token(self, waba_id: str, new_token: str) -> None:
        """What an operator does after a revoked token: a new token, in Meta and the secret."""
        if self._simulator is not None:
            tokens = dict(self._simulator.config.tokens)
            grants = next(
                (grant for token, grant in tokens.items() if waba_id in grant), (waba_id,)
            )
            tokens[new_token] = grants
            self._simulator.update_config(tokens=tokens)
        store_waba_token(self.clients, self.topology, waba_id, new_token)

    def queue_depth(self, key: QueueKey, *, dlq: bool = False) -> dict[str, int]:
        url = self.dlq_url(key) if dlq else self.queue_url(key)
        attributes = self.clients.client("sqs").get_queue_attributes(
            QueueUrl=url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        )["Attributes"]
        return {
            "visible": int(attributes.get("ApproximateNumberOfMessages", 0)),
            "in_flight": int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
            "delayed": int(attributes.get("ApproximateNumberOfMessagesDelayed", 0)),
        }

    def health(self) -> dict[str, Any]:
        queues: dict[str, Any] = {}
        for key in (QueueKey.OUTBOUND, QueueKey.INBOUND):
            queues[str(key)] = self.queue_depth(key)
            queues[f"{key}-dlq"] = self.queue_depth(key, dlq=True)
        payload: dict[str, Any] = {
            "queues": queues,
            "pollers": {str(k): p.stats.as_dict() for k, p in self.pollers.items()},
            "functions": {str(k): p.stats.as_dict() for k, p in self.pools.items()},
            "onboarded": dict(self.onboarded),
        }
        if self._scheduler is not None:
            payload["schedules"] = {"runs": self._scheduler.runs}
        if self._simulator is not None:
            state = self._simulator.state()
            payload["simulator"] = {
                key: state[key]
                for key in (
                    "accepted_total",
                    "rejections",
                    "faults",
                    "webhooks",
                    "webhooks_pending",
                )
            }
        return payload

    def wait_until_stopped(self) -> None:
        self._stopped.wait()

    def request_stop(self) -> None:
        self._stopped.set()

    # -- stopping ----------------------------------------------------------------------------

    def stop(self) -> None:
        self._stopped.set()
        if self._scheduler is not None:
            self._scheduler.stop()
        for poller in self.pollers.values():
            poller.stop()
        if self._http is not None:
            self._http.stop()
        for pool in self.pools.values():
            pool.close()
        try:
            self._stack.close()  # simulator, moto, EMF capture (last in, first out)
        finally:
            self._forget_library_singletons()
            self._restore_handler_logs()
            self._env.restore()
            if self._saved_default_session is not None:
                import boto3

                (boto3.DEFAULT_SESSION,) = self._saved_default_session
                self._saved_default_session = None


@contextlib.contextmanager
def local_stack(config: LocalConfig | None = None) -> Iterator[LocalStack]:
    with LocalStack(config) as stack:
        yield stack
