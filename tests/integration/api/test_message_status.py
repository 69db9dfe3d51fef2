"""`GET /v1/messages/{message_id}`: the record as the sender and the webhooks leave it."""

from __future__ import annotations

from datetime import datetime

from pixy_whatsapp.statuses import MessageError, MessageStatus, MessageStore

from .support import NUMBER, WABA, ApiClient, Deployment, text


def store(deployment: Deployment) -> MessageStore:
    return MessageStore(deployment.dynamodb, deployment.settings.messages_table)


def test_a_message_reads_back_as_queued_right_after_it_is_sent(api: ApiClient) -> None:
    sent = api.send(text(id="order-1042", client_reference="order-1042", metadata={"n": 1}))
    assert sent.status == 202

    answer = api.get("/v1/messages/order-1042")

    assert answer.status == 200
    body = answer.body
    assert body["id"] == "order-1042"
    assert body["status"] == "queued"
    assert body["waba_id"] == WABA
    assert body["phone_number_id"] == NUMBER
    assert body["client_reference"] == "order-1042"
    assert body["metadata"] == {"n": 1}
    assert body["attempts"] == 0
    assert body["wamid"] is None
    [queued] = body["history"]
    assert queued["status"] == "queued"
    assert datetime.fromisoformat(queued["at"]) == datetime.fromisoformat(body["enqueued_at"])


def test_the_history_shows_each_status_with_its_time_and_meta_s_id(
    api: ApiClient, deployment: Deployment
) -> None:
    assert api.send(text(id="m1")).status == 202
    messages = store(deployment)
    t0 = 1_900_000_000_000
    messages.apply_status("m1", MessageStatus.ACCEPTED, t0, wamid="wamid.HBgL")
    messages.apply_status("m1", MessageStatus.DELIVERED, t0 + 2_000)
    messages.apply_status("m1", MessageStatus.SENT, t0 + 1_000)

    body = api.get("/v1/messages/m1").body

    assert body["status"] == "delivered"
    assert body["wamid"] == "wamid.HBgL"
    assert [h["status"] for h in body["history"]] == ["queued", "accepted", "sent", "delivered"]
    times = [datetime.fromisoformat(h["at"]) for h in body["history"][1:]]
    assert [int(t.timestamp() * 1000) for t in times] == [t0, t0 + 1_000, t0 + 2_000]


def test_a_failed_message_shows_meta_s_code_and_our_classification(
    api: ApiClient, deployment: Deployment
) -> None:
    assert api.send(text(id="m2")).status == 202
    store(deployment).apply_status(
        "m2",
        MessageStatus.FAILED,
        1_900_000_000_000,
        error=MessageError(
            reason="recipient_not_on_whatsapp",
            code=131026,
            title="Message undeliverable",
            error_class="recipient",
            source="webhook",
        ),
    )

    body = api.get("/v1/messages/m2").body

    assert body["status"] == "failed"
    assert body["error"]["code"] == 131026
    assert body["error"]["reason"] == "recipient_not_on_whatsapp"
    assert body["error"]["error_class"] == "recipient"


def test_an_unknown_id_is_a_404_that_says_why(api: ApiClient) -> None:
    answer = api.get("/v1/messages/never-sent")

    assert answer.status == 404
    assert answer.body["error"] == "message not found"
    assert "never-sent" in answer.problems["path.message_id"]


def test_an_impossible_id_is_refused_with_its_place(api: ApiClient) -> None:
    answer = api.get("/v1/messages/" + "x" * 65)

    assert answer.status == 422
    assert "path.message_id" in answer.problems
