"""The SNS topic every alarm notifies, with an optional e-mail subscription."""

from __future__ import annotations

from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra.topology import Topology


class AlarmTopic(Construct):
    """Carries alarm names and metric values only, never message content or tokens.

    Not KMS-encrypted: CloudWatch cannot publish to a topic under the AWS-managed SNS key,
    and a customer key for this alone is not worth its cost. Publishing requires TLS.
    """

    def __init__(self, scope: Construct, id: str, *, topology: Topology, email: str | None) -> None:
        super().__init__(scope, id)
        self.topic = sns.Topic(
            self,
            "Topic",
            topic_name=topology.alarm_topic_name,
            display_name=f"{topology.prefix} alarms",
            enforce_ssl=True,
        )
        if email:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
