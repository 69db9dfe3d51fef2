"""The one stack of a stage: every construct of ``infra/``, wired together."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct
from pixy_whatsapp.settings import Settings

from infra.alarm_topic import AlarmTopic
from infra.api import Api
from infra.config import StageConfig
from infra.events import EventBus, Schedules
from infra.functions import Functions, log_retention
from infra.layers import Layers
from infra.observability import Alarms, Dashboard
from infra.permissions import Resources
from infra.queues import Queues
from infra.secrets import Secrets
from infra.signals import Signals
from infra.storage import Storage
from infra.topology import FunctionKey, QueueKey, SecretKey, Topology


def build_settings(
    topology: Topology, config: StageConfig, queues: Queues, bucket_name: str
) -> Settings:
    """The functions' settings: names from the topology, choices from the stage config."""
    values = topology.settings_values(
        queue_urls={key: queue.queue_url for key, queue in queues.queues.items()},
        dlq_urls={key: queue.queue_url for key, queue in queues.dlqs.items()},
        bucket=bucket_name,
    )
    values.update(
        graph_api_version=config.graph_api_version,
        graph_base_url=config.graph_base_url,
        default_mps=config.default_mps,
        shard_count=config.shard_count,
        callback_override_url=config.callback_override_url,
    )
    return Settings.model_validate(values)


class PixyWhatsAppStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        topology = Topology(config.stage)
        self.topology = topology
        retain = config.retain_data

        storage = Storage(self, "Storage", topology=topology, retain=retain)
        queues = Queues(self, "Queues", topology=topology, retain=retain)
        secrets = Secrets(self, "Secrets", topology=topology, retain=retain)
        bus = EventBus(self, "Events", topology=topology)
        layers = Layers(self, "Layers")

        settings = build_settings(topology, config, queues, queues.webhook_bucket.bucket_name)
        resources = Resources(
            tables=storage.tables,
            index_names={spec.key: tuple(i.name for i in spec.indexes) for spec in topology.tables},
            queues=queues.queues,
            dlqs=queues.dlqs,
            bucket=queues.webhook_bucket,
            secrets=secrets.secrets,
            waba_secret_prefix=secrets.waba_secret_prefix,
            waba_secret_arn_pattern=secrets.waba_secret_arn_pattern,
            bus=bus.bus,
        )
        functions = Functions(
            self,
            "Functions",
            topology=topology,
            config=config,
            layers=layers,
            settings=settings,
            resources=resources,
        )
        Schedules(self, "Schedules", topology=topology, functions=functions.functions)
        api = Api(
            self,
            "Api",
            topology=topology,
            api_function=functions.functions[FunctionKey.API],
            webhook_function=functions.functions[FunctionKey.WEBHOOK],
            throttle_rate=config.api_throttle_rate,
            throttle_burst=config.api_throttle_burst,
            log_retention=log_retention(config.log_retention_days),
        )

        topic = AlarmTopic(self, "AlarmTopic", topology=topology, email=config.alarm_email)
        signals = Signals(topology, functions.functions, queues.queues, queues.dlqs)
        alarms = Alarms(
            self, "Alarms", topology=topology, signals=signals, config=config, topic=topic.topic
        )
        dashboard = Dashboard(
            self,
            "Dashboard",
            topology=topology,
            signals=signals,
            alarms=list(alarms.alarms.values()),
        )

        for key, value in config.tags.items():
            cdk.Tags.of(self).add(key, value)

        self.storage = storage
        self.layers = layers
        self.queues = queues
        self.secrets = secrets
        self.functions = functions
        self.api = api
        self.event_bus = bus
        self.alarm_topic = topic
        self.alarms = alarms
        self.dashboard = dashboard

        outputs = {
            "ApiUrl": api.url,
            "WebhookUrl": api.webhook_url,
            "OutboundQueueUrl": queues.queues[QueueKey.OUTBOUND].queue_url,
            "OutboundDlqUrl": queues.dlqs[QueueKey.OUTBOUND].queue_url,
            "InboundDlqUrl": queues.dlqs[QueueKey.INBOUND].queue_url,
            "EventBusName": bus.bus.event_bus_name,
            "AppSecretName": topology.secret_name(SecretKey.APP_SECRET),
            "VerifyTokenName": topology.secret_name(SecretKey.VERIFY_TOKEN),
            "AlarmTopicArn": topic.topic.topic_arn,
            "DashboardName": topology.dashboard_name,
        }
        for name, value in outputs.items():
            cdk.CfnOutput(self, name, value=value)
