"""Queues, tables, functions, layers, events, secrets and the HTTP API of the stack."""

from __future__ import annotations

from typing import Any

from aws_cdk.assertions import Match
from pixy_whatsapp.settings import Settings, env_name

from infra.topology import VISIBILITY_FACTOR, FunctionKey, QueueKey, SecretKey, TableKey, Topology

from .cdk_support import STAGE, Synthesized

TOPOLOGY = Topology(STAGE)


def _queue(synthesized: Synthesized, key: QueueKey, *, dlq: bool = False) -> dict[str, Any]:
    queues = synthesized.stack.queues.dlqs if dlq else synthesized.stack.queues.queues
    props: dict[str, Any] = synthesized.resources[synthesized.logical_id(queues[key])]["Properties"]
    return props


def _function(synthesized: Synthesized, key: FunctionKey) -> dict[str, Any]:
    function = synthesized.stack.functions.functions[key]
    props: dict[str, Any] = synthesized.resources[synthesized.logical_id(function)]["Properties"]
    return props


# --- queues ------------------------------------------------------------------------------


def test_outbound_queue_is_high_throughput_fifo_with_a_fifo_dlq(synthesized: Synthesized) -> None:
    outbound = _queue(synthesized, QueueKey.OUTBOUND)
    dlq = _queue(synthesized, QueueKey.OUTBOUND, dlq=True)

    assert outbound["QueueName"] == "pixy-whatsapp-test-outbound.fifo"
    assert outbound["FifoQueue"] is True
    assert outbound["FifoThroughputLimit"] == "perMessageGroupId"
    assert outbound["DeduplicationScope"] == "messageGroup"
    assert dlq["FifoQueue"] is True
    assert dlq["QueueName"] == "pixy-whatsapp-test-outbound-dlq.fifo"
    dlq_arn = synthesized.ref(synthesized.stack.queues.dlqs[QueueKey.OUTBOUND].queue_arn)
    assert outbound["RedrivePolicy"] == {
        "deadLetterTargetArn": dlq_arn,
        "maxReceiveCount": TOPOLOGY.queue(QueueKey.OUTBOUND).max_receive_count,
    }
    assert outbound["RedrivePolicy"]["maxReceiveCount"] >= 5


def test_inbound_queue_is_standard_with_redrive(synthesized: Synthesized) -> None:
    inbound = _queue(synthesized, QueueKey.INBOUND)
    dlq_arn = synthesized.ref(synthesized.stack.queues.dlqs[QueueKey.INBOUND].queue_arn)

    assert "FifoQueue" not in inbound
    assert inbound["RedrivePolicy"]["deadLetterTargetArn"] == dlq_arn
    assert inbound["RedrivePolicy"]["maxReceiveCount"] >= 5
    assert "FifoQueue" not in _queue(synthesized, QueueKey.INBOUND, dlq=True)


def test_every_queue_is_encrypted_and_refuses_plain_http(synthesized: Synthesized) -> None:
    queues = synthesized.of_type("AWS::SQS::Queue")
    policies = synthesized.of_type("AWS::SQS::QueuePolicy").values()
    assert len(queues) == 4

    for logical_id, queue in queues.items():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True
        deny = [
            statement
            for policy in policies
            if {"Ref": logical_id} in policy["Properties"]["Queues"]
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
            if statement["Effect"] == "Deny"
        ]
        assert deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_dead_letter_queues_take_four_times_their_source_queues_message_size(
    synthesized: Synthesized,
) -> None:
    for key in QueueKey:
        source = _queue(synthesized, key)["MaximumMessageSize"]
        dlq = _queue(synthesized, key, dlq=True)["MaximumMessageSize"]

        # A body the source queue took still fits in the DLQ with its reason attributes.
        assert (source, dlq) == (262_144, 1_048_576)


def test_visibility_is_at_least_six_times_the_consumer_timeout(synthesized: Synthesized) -> None:
    mappings = synthesized.of_type("AWS::Lambda::EventSourceMapping").values()
    assert len(mappings) == 2

    for mapping in mappings:
        queue_id = mapping["Properties"]["EventSourceArn"]["Fn::GetAtt"][0]
        function_id = mapping["Properties"]["FunctionName"]["Ref"]
        visibility = synthesized.resources[queue_id]["Properties"]["VisibilityTimeout"]
        timeout = synthesized.resources[function_id]["Properties"]["Timeout"]
        assert visibility >= VISIBILITY_FACTOR * timeout


def test_webhook_bucket_is_private_encrypted_and_expiring(synthesized: Synthesized) -> None:
    synthesized.template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                ]
            },
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "LifecycleConfiguration": {
                "Rules": [Match.object_like({"ExpirationInDays": 14, "Status": "Enabled"})]
            },
        },
    )
    synthesized.template.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            }
        },
    )


# --- tables ------------------------------------------------------------------------------


def test_tables_are_on_demand_encrypted_recoverable_with_ttl(synthesized: Synthesized) -> None:
    tables = synthesized.of_type("AWS::DynamoDB::Table")
    names = {table["Properties"]["TableName"] for table in tables.values()}

    assert names == {f"pixy-whatsapp-test-{key}" for key in TableKey}
    for table in tables.values():
        props = table["Properties"]
        assert props["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
        assert {"AttributeName": "pk", "AttributeType": "S"} in props["AttributeDefinitions"]
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["TimeToLiveSpecification"] == {
            "AttributeName": "expires_at",
            "Enabled": True,
        }
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
        assert props["SSESpecification"]["SSEEnabled"] is True


def test_messages_table_is_indexed_by_wamid(synthesized: Synthesized) -> None:
    synthesized.template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "TableName": "pixy-whatsapp-test-messages",
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": "by-wamid",
                    "KeySchema": [{"AttributeName": "wamid", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            ],
        },
    )


# --- functions and layers ----------------------------------------------------------------


def test_functions_are_python_313_on_arm64_with_both_layers(synthesized: Synthesized) -> None:
    layers = synthesized.stack.layers
    layer_ids = [synthesized.logical_id(layer) for layer in (layers.deps, layers.core)]
    for spec in TOPOLOGY.functions:
        props = _function(synthesized, spec.key)
        assert props["FunctionName"] == f"pixy-whatsapp-test-{spec.key}"
        assert props["Runtime"] == "python3.13"
        assert props["Architectures"] == ["arm64"]
        assert props["Handler"] == "handler.handler"
        assert props["MemorySize"] == spec.memory_mb
        assert props["Timeout"] == spec.timeout_seconds
        assert props["TracingConfig"] == {"Mode": "Active"}
        # The two layers share no files, so their order does not matter.
        assert sorted(layer["Ref"] for layer in props["Layers"]) == sorted(layer_ids)


def test_layers_target_arm64_python_313(synthesized: Synthesized) -> None:
    layers = synthesized.of_type("AWS::Lambda::LayerVersion").values()
    assert len(layers) == 2
    for layer in layers:
        assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
        assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]


def test_every_function_gets_every_setting(synthesized: Synthesized) -> None:
    expected = {env_name(name) for name, field in Settings.model_fields.items()}
    expected.discard(env_name("callback_override_url"))  # unset in this stage

    for key in FunctionKey:
        variables = _function(synthesized, key)["Environment"]["Variables"]
        assert expected <= set(variables)
        assert variables["PIXY_STAGE"] == STAGE
        assert variables["PIXY_GRAPH_API_VERSION"] == "v24.0"
        assert variables["PIXY_DEFAULT_MPS"] == "80"
        assert variables["PIXY_SHARD_COUNT"] == "16"
        assert variables["PIXY_WABA_SECRET_PREFIX"] == "pixy-whatsapp/test/waba/"
        assert variables["PIXY_OUTBOUND_QUEUE_URL"] == synthesized.ref(
            synthesized.stack.queues.queues[QueueKey.OUTBOUND].queue_url
        )
        assert variables["POWERTOOLS_SERVICE_NAME"] == "pixy-whatsapp-test"
        assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "PixyWhatsApp"


def test_sender_reads_the_fifo_queue_in_batches_with_partial_failures(
    synthesized: Synthesized,
) -> None:
    sender = TOPOLOGY.function(FunctionKey.SENDER).event_source
    assert sender is not None
    outbound = synthesized.stack.queues.queues[QueueKey.OUTBOUND]
    synthesized.template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "EventSourceArn": synthesized.ref(outbound.queue_arn),
            "FunctionName": {
                "Ref": synthesized.logical_id(
                    synthesized.stack.functions.functions[FunctionKey.SENDER]
                )
            },
            "BatchSize": 10,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "ScalingConfig": {"MaximumConcurrency": sender.max_concurrency},
        },
    )
    assert 2 <= sender.max_concurrency <= 1000


def test_inbound_processor_reads_the_inbound_queue(synthesized: Synthesized) -> None:
    inbound = synthesized.stack.queues.queues[QueueKey.INBOUND]
    synthesized.template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "EventSourceArn": synthesized.ref(inbound.queue_arn),
            "FunctionName": {
                "Ref": synthesized.logical_id(
                    synthesized.stack.functions.functions[FunctionKey.INBOUND]
                )
            },
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "ScalingConfig": {"MaximumConcurrency": Match.any_value()},
        },
    )


def test_function_logs_have_a_retention(synthesized: Synthesized) -> None:
    for key in FunctionKey:
        synthesized.template.has_resource_properties(
            "AWS::Logs::LogGroup",
            {"LogGroupName": f"/aws/lambda/pixy-whatsapp-test-{key}", "RetentionInDays": 30},
        )


# --- events and secrets ------------------------------------------------------------------


def test_bus_and_subscription_schedule(synthesized: Synthesized) -> None:
    synthesized.template.has_resource_properties(
        "AWS::Events::EventBus", {"Name": "pixy-whatsapp-test-events"}
    )
    subscriptions = synthesized.stack.functions.functions[FunctionKey.SUBSCRIPTIONS]
    synthesized.template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "ScheduleExpression": "rate(15 minutes)",
            "Targets": [Match.object_like({"Arn": synthesized.ref(subscriptions.function_arn)})],
        },
    )


def test_app_secret_and_verify_token_exist_under_the_stage_path(synthesized: Synthesized) -> None:
    secrets = synthesized.of_type("AWS::SecretsManager::Secret").values()
    assert {secret["Properties"]["Name"] for secret in secrets} == {
        f"pixy-whatsapp/test/{key}" for key in SecretKey
    }


# --- HTTP API ----------------------------------------------------------------------------


def test_webhook_routes_are_public_and_v1_is_iam_only(synthesized: Synthesized) -> None:
    routes = {
        route["Properties"]["RouteKey"]: route["Properties"]["AuthorizationType"]
        for route in synthesized.of_type("AWS::ApiGatewayV2::Route").values()
    }
    assert routes == {
        "GET /webhook": "NONE",
        "POST /webhook": "NONE",
        "ANY /v1/{proxy+}": "AWS_IAM",
    }


def test_routes_reach_the_right_functions(synthesized: Synthesized) -> None:
    integrations = synthesized.of_type("AWS::ApiGatewayV2::Integration")
    targets = {}
    for route in synthesized.of_type("AWS::ApiGatewayV2::Route").values():
        integration_id = route["Properties"]["Target"]["Fn::Join"][1][1]["Ref"]
        uri = integrations[integration_id]["Properties"]["IntegrationUri"]
        targets[route["Properties"]["RouteKey"]] = uri["Fn::GetAtt"][0]
    functions = synthesized.stack.functions.functions

    assert targets["POST /webhook"] == synthesized.logical_id(functions[FunctionKey.WEBHOOK])
    assert targets["GET /webhook"] == synthesized.logical_id(functions[FunctionKey.WEBHOOK])
    assert targets["ANY /v1/{proxy+}"] == synthesized.logical_id(functions[FunctionKey.API])


def test_stage_is_throttled_and_access_logged(synthesized: Synthesized) -> None:
    synthesized.template.has_resource_properties(
        "AWS::ApiGatewayV2::Stage",
        {
            "StageName": "$default",
            "AutoDeploy": True,
            "DefaultRouteSettings": {"ThrottlingRateLimit": 1000, "ThrottlingBurstLimit": 2000},
            "AccessLogSettings": {
                "DestinationArn": Match.any_value(),
                "Format": Match.string_like_regexp(r"\$context\.requestId"),
            },
        },
    )
