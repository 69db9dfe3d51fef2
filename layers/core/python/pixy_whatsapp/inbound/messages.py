"""Inbound messages: the contact's customer-service window, opt-out keywords, events.

Each message is handled once, whatever Meta redelivers: a conditional put of
``inbound#{wamid}`` in the idempotency table claims it first. The sender's identity is its
phone number (``from``) or, for users known only by username, its business-scoped user
id (``from_user_id``); the window and any opt-out are kept under each identity the
message carries, so a later send to either one sees them.
"""

from __future__ import annotations

from pixy_whatsapp.contacts import ContactStore
from pixy_whatsapp.events import MessageReceived, ReplyTarget, event_id
from pixy_whatsapp.events.details import DetailType
from pixy_whatsapp.inbound.conversions import digest, dump, epoch_ms, meta_error, plain, utc
from pixy_whatsapp.inbound.keywords import OptChange, OptKeywords
from pixy_whatsapp.inbound.outbox import Outbox
from pixy_whatsapp.inbound.telemetry import InboundTelemetry
from pixy_whatsapp.models import InboundMessage, ReceivedMessage
from pixy_whatsapp.observability import logger, mask_phone
from pixy_whatsapp.statuses import MessageStore

KEYWORD_SOURCE = "keyword"
PREFERENCE_SOURCE = "meta_user_preferences"
# Meta's notices about the user (number changed, marketing preference changed) are not
# the user writing to the business, so they do not open the customer-service window.
_NOT_FROM_THE_USER = frozenset({"system"})
_META_PREFERENCE = {"stop": OptChange.OPT_OUT, "resume": OptChange.OPT_IN}


def sender_ids(received: ReceivedMessage) -> list[str]:
    """The identities the message came from: phone number first, then the BSUID."""
    message, contact = received.message, received.contact
    ids = [message.from_, message.from_user_id]
    if contact is not None:
        ids += [contact.wa_id, contact.user_id]
    return list(dict.fromkeys(i for i in ids if i))


def message_text(message: InboundMessage) -> str | None:
    """What the user wrote or chose, whatever the message type."""
    if message.text is not None:
        return message.text.body
    if message.button is not None:
        return message.button.text or message.button.payload
    if message.interactive is not None:
        interactive = message.interactive
        for reply in (interactive.button_reply, interactive.list_reply):
            if reply is not None:
                return reply.title
        if interactive.nfm_reply is not None:
            return interactive.nfm_reply.body
    for media in (message.image, message.video, message.document):
        caption = getattr(media, "caption", None)
        if caption:
            return str(caption)
    if message.reaction is not None:
        return message.reaction.emoji
    return None


class MessageHandler:
    def __init__(
        self,
        messages: MessageStore,
        contacts: ContactStore,
        keywords: OptKeywords,
        telemetry: InboundTelemetry,
    ) -> None:
        self._messages = messages
        self._contacts = contacts
        self._keywords = keywords
        self._telemetry = telemetry

    def handle(self, received: ReceivedMessage, outbox: Outbox) -> None:
        message = received.message
        fact = message.id or f"sha:{digest(dump(message))}"
        if not outbox.claim(f"inbound#{fact}"):
            return
        at_ms = epoch_ms(message.timestamp) or outbox.received_at_ms
        senders = sender_ids(received)
        waba_id = received.waba_id
        if waba_id and message.type not in _NOT_FROM_THE_USER:
            for sender in senders:
                self._contacts.record_inbound(waba_id, sender, at_ms)
        change, source = self._opt_change(message)
        if change is not None and waba_id and senders:
            for sender in senders:
                self._contacts.set_opt_out(
                    waba_id,
                    sender,
                    opted_out=change is OptChange.OPT_OUT,
                    at_ms=at_ms,
                    source=source,
                )
            if change is OptChange.OPT_OUT:
                self._telemetry.opted_out()
            logger.info(
                "marketing preference changed by the user",
                extra={"change": change.value, "senders": [mask_phone(s) for s in senders]},
            )
        if not senders:
            logger.warning("inbound message without a sender id", extra={"wamid": message.id})
        self._telemetry.message_received()
        contact = received.contact
        profile = contact.profile if contact is not None else None
        outbox.add(
            MessageReceived(
                event_id=event_id(DetailType.MESSAGE_RECEIVED, fact),
                waba_id=waba_id,
                phone_number_id=received.phone_number_id,
                occurred_at=utc(at_ms),
                received_at=utc(outbox.received_at_ms),
                payload=dump(message),
                wamid=message.id,
                type=message.type,
                from_phone=message.from_ or (contact.wa_id if contact else None),
                from_user_id=message.from_user_id or (contact.user_id if contact else None),
                profile_name=profile.name if profile else None,
                username=profile.username if profile else None,
                text=message_text(message),
                in_reply_to=self._reply_target(message),
                opt_change=change.value if change is not None else None,
                errors=[meta_error(error) for error in message.errors or []],
                contact=dump(contact),
            )
        )

    def _opt_change(self, message: InboundMessage) -> tuple[OptChange | None, str]:
        if message.type == "text" and message.text is not None:
            return self._keywords.match(message.text.body), KEYWORD_SOURCE
        if message.type == "button" and message.button is not None:
            return self._keywords.match(message.button.payload), KEYWORD_SOURCE
        system = message.system
        if system is not None and system.type == "user_preference_changed":
            # The older delivery of Meta's marketing preference: a system message.
            preference = str((system.model_extra or {}).get("marketing", "")).lower()
            return _META_PREFERENCE.get(preference), PREFERENCE_SOURCE
        return None, KEYWORD_SOURCE

    def _reply_target(self, message: InboundMessage) -> ReplyTarget | None:
        """Our message this one answers (context) or reacts to, with the send's reference."""
        wamid = message.context.id if message.context is not None else None
        if wamid is None and message.reaction is not None:
            wamid = message.reaction.message_id
        if not wamid:
            return None
        message_id = self._messages.find_by_wamid(wamid)
        record = self._messages.get(message_id) if message_id else None
        if record is None:
            return ReplyTarget(wamid=wamid)
        return ReplyTarget(
            wamid=wamid,
            message_id=record.id,
            client_reference=record.client_reference,
            metadata=plain(record.metadata),
        )
