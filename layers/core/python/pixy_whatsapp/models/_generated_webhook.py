# Generated from Meta's WhatsApp Business Messaging OpenAPI spec v23.0 by tools/generate_models.py.
# Do not edit by hand: regenerate with `make models`.

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field

from pixy_whatsapp.models.bases import WebhookRecord


class ContactObjectAddress(WebhookRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    city: str | None = None
    country: str | None = None
    country_code: str | None = None
    state: str | None = None
    street: str | None = None
    type: str | None = None
    zip: str | None = None


class ContactObjectEmail(WebhookRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    email: str | None = None
    type: str | None = None


class ContactObjectName(WebhookRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    formatted_name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    middle_name: str | None = None
    suffix: str | None = None
    prefix: str | None = None


class ContactObjectOrg(WebhookRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    company: str | None = None
    department: str | None = None
    title: str | None = None


class ContactObjectPhone(WebhookRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    phone: str | None = None
    wa_id: str | None = None
    type: str | None = None


class ContactObjectUrl(WebhookRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    url: str | None = None
    type: str | None = None


class ContactObject(WebhookRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    addresses: list[ContactObjectAddress] | None = None
    birthday: str | None = None
    emails: list[ContactObjectEmail] | None = None
    name: ContactObjectName | None = None
    org: ContactObjectOrg | None = None
    phones: list[ContactObjectPhone] | None = None
    urls: list[ContactObjectUrl] | None = None


class ContactProfileProfile(WebhookRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    name: str | None = None
    username: str | None = None


class ContactProfile(WebhookRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    profile: ContactProfileProfile | None = None
    wa_id: str | None = None
    user_id: str | None = None
    parent_user_id: str | None = None


class ContextObjectReferredProduct(WebhookRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    catalog_id: str | None = None
    product_retailer_id: str | None = None


class ContextObject(WebhookRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    from_: Annotated[str | None, Field(alias="from")] = None
    id: str | None = None
    referred_product: ContextObjectReferredProduct | None = None


class ConversationOrigin(WebhookRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    type: str | None = None


class ErrorData(WebhookRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    details: str | None = None


class ErrorObjectErrorData(WebhookRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    details: str | None = None


class ErrorObject(WebhookRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    code: int | None = None
    title: str | None = None
    message: str | None = None
    error_data: ErrorObjectErrorData | None = None
    href: str | None = None


class GroupParticipant(WebhookRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    input: str | None = None
    wa_id: str | None = None


class GroupProfilePicture(WebhookRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    mime_type: str | None = None
    sha256: str | None = None


class Groups(WebhookRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    timestamp: str | None = None
    group_id: str | None = None
    type: str | None = None
    request_id: str | None = None
    subject: str | None = None
    description: str | None = None
    added_participants: list[GroupParticipant] | None = None
    removed_participants: list[GroupParticipant] | None = None
    profile_picture: GroupProfilePicture | None = None


class IncomingMessageText(WebhookRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    body: str | None = None


class IncomingMessageReaction(WebhookRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    message_id: str | None = None
    emoji: str | None = None


class IncomingMessageLocation(WebhookRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    name: str | None = None
    url: str | None = None


class IncomingMessageButton(WebhookRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    payload: str | None = None
    text: str | None = None


class IncomingMessageInteractiveNfmReply(WebhookRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    name: str | None = None
    body: str | None = None
    response_json: str | None = None


class IncomingMessageInteractiveListReply(WebhookRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    id: str | None = None
    title: str | None = None
    description: str | None = None


class IncomingMessageInteractiveButtonReply(WebhookRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    id: str | None = None
    title: str | None = None


class IncomingMessageInteractive(WebhookRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    type: str | None = None
    nfm_reply: IncomingMessageInteractiveNfmReply | None = None
    list_reply: IncomingMessageInteractiveListReply | None = None
    button_reply: IncomingMessageInteractiveButtonReply | None = None


class IncomingMessageOrderProductItem(WebhookRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    product_retailer_id: str | None = None
    quantity: int | None = None
    item_price: float | None = None
    currency: str | None = None


class IncomingMessageOrder(WebhookRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    catalog_id: str | None = None
    text: str | None = None
    product_items: list[IncomingMessageOrderProductItem] | None = None


class IncomingMessageSystem(WebhookRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    body: str | None = None
    wa_id: str | None = None
    type: str | None = None


class MediaMessageProperties(WebhookRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    mime_type: str | None = None
    sha256: str | None = None
    id: str | None = None


class Metadata(WebhookRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    display_phone_number: str | None = None
    phone_number_id: str | None = None


class Pricing(WebhookRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    billable: bool | None = None
    pricing_model: str | None = None
    category: str | None = None
    type: str | None = None


class ReferralObjectWelcomeMessage(WebhookRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    text: str | None = None


class ReferralObject(WebhookRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    source_url: str | None = None
    source_id: str | None = None
    source_type: str | None = None
    body: str | None = None
    headline: str | None = None
    media_type: str | None = None
    image_url: str | None = None
    video_url: str | None = None
    thumbnail_url: str | None = None
    ctwa_clid: str | None = None
    welcome_message: ReferralObjectWelcomeMessage | None = None


class StatusError(WebhookRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    code: int | None = None
    title: str | None = None
    message: str | None = None
    error_data: ErrorData | None = None
    href: str | None = None


class Conversation(WebhookRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    id: str | None = None
    expiration_timestamp: str | None = None
    origin: ConversationOrigin | None = None


class Audio(MediaMessageProperties):
    model_config = ConfigDict(
        populate_by_name=True,
    )
    voice: bool | None = None


class Document(MediaMessageProperties):
    model_config = ConfigDict(
        populate_by_name=True,
    )
    filename: str | None = None


class Image(MediaMessageProperties):
    model_config = ConfigDict(
        populate_by_name=True,
    )
    caption: str | None = None


class Sticker(MediaMessageProperties):
    model_config = ConfigDict(
        populate_by_name=True,
    )
    animated: bool | None = None


class Video(MediaMessageProperties):
    model_config = ConfigDict(
        populate_by_name=True,
    )
    caption: str | None = None


class IncomingMessage(WebhookRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    from_: Annotated[str | None, Field(alias="from")] = None
    id: str | None = None
    timestamp: str | None = None
    from_user_id: str | None = None
    type: str | None = None
    text: IncomingMessageText | None = None
    context: ContextObject | None = None
    referral: ReferralObject | None = None
    reaction: IncomingMessageReaction | None = None
    audio: Audio | None = None
    document: Document | None = None
    image: Image | None = None
    sticker: Sticker | None = None
    video: Video | None = None
    location: IncomingMessageLocation | None = None
    contacts: list[ContactObject] | None = None
    errors: list[ErrorObject] | None = None
    button: IncomingMessageButton | None = None
    interactive: IncomingMessageInteractive | None = None
    order: IncomingMessageOrder | None = None
    system: IncomingMessageSystem | None = None


class Statuses(WebhookRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    id: str | None = None
    status: str | None = None
    timestamp: str | None = None
    recipient_id: str | None = None
    group_id: str | None = None
    conversation: Conversation | None = None
    pricing: Pricing | None = None
    errors: list[StatusError] | None = None
    recipient_user_id: str | None = None
    biz_opaque_callback_data: str | None = None
    recipient_type: str | None = None
    recipient_participant_id: str | None = None


class ChangeValue(WebhookRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    messaging_product: str | None = None
    metadata: Metadata | None = None
    contacts: list[ContactProfile] | None = None
    messages: list[IncomingMessage] | None = None
    statuses: list[Statuses] | None = None
    groups: list[Groups] | None = None
    errors: list[ErrorObject] | None = None


class Change(WebhookRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    value: ChangeValue | None = None
    field: str | None = None


class Entry(WebhookRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    id: str | None = None
    changes: list[Change] | None = None
    time: int | None = None


class WebhookPayload(WebhookRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    object: str | None = None
    entry: list[Entry] | None = None
