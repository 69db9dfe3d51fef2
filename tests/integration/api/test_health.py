"""`GET /v1/health`: queue depths from moto SQS, breaker and limit state from moto DynamoDB."""

from __future__ import annotations

from pixy_whatsapp.breaker import BreakerRecord, BreakerState, Circuit, DynamoDBBreakerStore, Scope
from pixy_whatsapp.limits import DynamoDBLimitStore

from .support import NUMBER, WABA, ApiClient, Deployment, text


def test_health_reports_every_queue_s_depth(api: ApiClient, deployment: Deployment) -> None:
    assert api.send(text(id="a"), text(id="b", to="+15550001111")).status == 202
    deployment.sqs.send_message(QueueUrl=deployment.settings.inbound_queue_url, MessageBody="{}")

    answer = api.get("/v1/health")

    assert answer.status == 200
    assert answer.body["status"] == "ok"
    queues = answer.body["queues"]
    assert queues["outbound"] == {
        "reachable": True,
        "visible": 2,
        "in_flight": 0,
        "delayed": 0,
        "error": None,
    }
    assert queues["outbound_dlq"]["visible"] == 0
    assert queues["inbound"]["visible"] == 1
    assert queues["inbound_dlq"]["reachable"] is True
    assert answer.body["phone_number"] is None
    assert answer.body["waba"] is None


def test_messages_being_sent_count_as_in_flight(api: ApiClient, deployment: Deployment) -> None:
    assert api.send(text(id="a")).status == 202
    deployment.sqs.receive_message(QueueUrl=deployment.settings.outbound_queue_url)

    outbound = api.get("/v1/health").body["queues"]["outbound"]

    assert (outbound["visible"], outbound["in_flight"]) == (0, 1)


def test_a_number_s_breaker_and_limit_and_its_waba_s_breaker(
    api: ApiClient, deployment: Deployment
) -> None:
    control = deployment.settings.control_table
    breakers = DynamoDBBreakerStore(deployment.dynamodb, control)
    breakers.replace(
        Circuit(Scope.WABA, WABA).pk,
        0,
        BreakerRecord(
            state=BreakerState.HELD,
            version=1,
            opens=1,
            changed_at_ms=1_900_000_000_000,
            reason="access token expired (190)",
        ),
    )

    answer = api.get("/v1/health", {"phone_number_id": NUMBER, "waba_id": WABA})

    assert answer.status == 200
    number = answer.body["phone_number"]
    assert number["id"] == NUMBER
    assert number["breaker"]["state"] == "closed"
    assert number["limit"]["mps"] == deployment.settings.default_mps
    assert number["limit"]["source"] == "default"
    assert number["limit"]["reserved_ahead_ms"] == 0
    waba = answer.body["waba"]
    assert waba["breaker"]["state"] == "held"
    assert waba["breaker"]["reason"] == "access token expired (190)"
    assert waba["breaker"]["changed_at"].startswith("2030-03-17")


def test_a_number_s_throughput_override_is_its_configured_rate(
    api: ApiClient, deployment: Deployment
) -> None:
    limits = DynamoDBLimitStore(deployment.dynamodb, deployment.settings.control_table)
    limits.write_number_mps(NUMBER, 1000, at_ms=1_900_000_000_000)

    limit = api.get("/v1/health", {"phone_number_id": NUMBER}).body["phone_number"]["limit"]

    assert (limit["mps"], limit["source"]) == (1000, "override")
    assert limit["burst"] >= 10


def test_an_unreachable_queue_makes_it_503(api: ApiClient, deployment: Deployment) -> None:
    deployment.sqs.delete_queue(QueueUrl=deployment.settings.outbound_dlq_url)

    answer = api.get("/v1/health")

    assert answer.status == 503
    assert answer.body["status"] == "unavailable"
    dlq = answer.body["queues"]["outbound_dlq"]
    assert dlq["reachable"] is False
    assert "NonExistentQueue" in dlq["error"]
    assert answer.body["queues"]["outbound"]["reachable"] is True


def test_query_ids_that_cannot_be_ids_are_refused(api: ApiClient) -> None:
    answer = api.get("/v1/health", {"phone_number_id": "+15557654321"})

    assert answer.status == 422
    assert "query.phone_number_id" in answer.problems
