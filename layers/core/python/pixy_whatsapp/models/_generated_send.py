# Generated from Meta's WhatsApp Business Messaging OpenAPI spec v23.0 by tools/generate_models.py.
# Do not edit by hand: regenerate with `make models`.

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, RootModel

from pixy_whatsapp.models.bases import PayloadRecord


class ActionObjectButtonReply(PayloadRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    id: Annotated[str, Field(max_length=256)]
    title: Annotated[str, Field(max_length=20)]


class ActionObjectButton(PayloadRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    type: str
    reply: ActionObjectButtonReply


class ActionObjectParametersFlowActionPayload(PayloadRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    screen: str | None = "FIRST_ENTRY_SCREEN"
    data: dict[str, Any] | None = None


class ActionObjectParameters(PayloadRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    thumbnail_product_retailer_id: str | None = None
    flow_message_version: str | None = None
    flow_id: str | None = None
    flow_name: str | None = None
    flow_cta: Annotated[str | None, Field(max_length=30)] = None
    mode: str | None = "published"
    flow_token: str | None = None
    flow_action: str | None = "navigate"
    flow_action_payload: ActionObjectParametersFlowActionPayload | None = None


class AddressObject(PayloadRecord):
    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
    )
    city: str | None = None
    country: str | None = None
    country_code: str | None = None
    state: str | None = None
    street: str | None = None
    type: str | None = None
    zip: str | None = None


class BodyObject(PayloadRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    text: Annotated[str, Field(max_length=1024)]


class CurrencyObject(PayloadRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    fallback_value: str
    code: str
    amount_1000: int


class DateTimeObject(PayloadRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    fallback_value: str


class EmailObject(PayloadRecord):
    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
    )
    email: str
    type: str | None = None


class FooterObject(PayloadRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    text: Annotated[str, Field(max_length=60)]


class GraphAPIErrorErrorErrorData(PayloadRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    messaging_product: str | None = None
    details: str | None = None


class GraphAPIErrorError(PayloadRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    message: str
    type: str
    code: int
    error_subcode: int | None = None
    fbtrace_id: str | None = None
    is_transient: bool | None = None
    error_user_title: str | None = None
    error_user_msg: str | None = None
    error_data: GraphAPIErrorErrorErrorData | None = None


class GraphAPIError(PayloadRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    error: GraphAPIErrorError


class LanguageObject(PayloadRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    policy: str | None = None
    code: str


class Location(PayloadRecord):
    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
    )
    address: str | None = None
    latitude: float | str | None = None
    longitude: float | str | None = None
    name: str | None = None


class MarkMessageRequestPayload(PayloadRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    message_id: str
    messaging_product: str
    status: str


class MediaObject(PayloadRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    id: str | None = None
    link: str | None = None


class MessageContext(PayloadRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    message_id: str | None = None


class MessageResponsePayloadContact(PayloadRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    input: str | None = None
    wa_id: str | None = None


class NameObject(PayloadRecord):
    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
    )
    first_name: str | None = None
    formatted_name: str | None = None
    last_name: str | None = None
    middle_name: str | None = None
    prefix: str | None = None
    suffix: str | None = None


class OrganizationObject(PayloadRecord):
    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
    )
    company: str | None = None
    department: str | None = None
    title: str | None = None


class PhoneObject(PayloadRecord):
    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
    )
    phone: str
    type: str | None = None
    wa_id: str | None = None


class ReactionMessageReaction(PayloadRecord):
    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
    )
    emoji: str | None = None
    message_id: str | None = None


class SectionObjectProductItem(PayloadRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    product_retailer_id: str


class SectionObjectRow(PayloadRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    id: Annotated[str, Field(max_length=200)]
    title: Annotated[str, Field(max_length=24)]
    description: Annotated[str | None, Field(max_length=72)] = None


class SectionObject(PayloadRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    title: Annotated[str | None, Field(max_length=24)] = None
    product_items: Annotated[
        list[SectionObjectProductItem] | None, Field(max_length=30, min_length=1)
    ] = None
    rows: Annotated[list[SectionObjectRow] | None, Field(max_length=10)] = None


class StickerMessageSticker(PayloadRecord):
    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
    )
    id: str | None = None
    link: str | None = None


class TemplateComponentParameter(PayloadRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    type: str
    currency: CurrencyObject | None = None
    date_time: DateTimeObject | None = None
    document: MediaObject | None = None
    image: MediaObject | None = None
    text: str | bool | None = None
    video: MediaObject | None = None
    payload: str | None = None


class TemplateComponent(PayloadRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    type: str
    sub_type: str | None = None
    parameters: Annotated[list[TemplateComponentParameter] | None, Field(min_length=1)] = None
    index: str | int | None = None


class TemplateObject(PayloadRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    name: str
    language: LanguageObject
    components: list[TemplateComponent] | None = None


class TextMessageText(PayloadRecord):
    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
    )
    body: Annotated[str, Field(max_length=4096)]
    preview_url: bool | None = None


class UrlObject(PayloadRecord):
    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
    )
    type: str | None = None
    url: str


class ActionObject(PayloadRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    button: Annotated[str | None, Field(max_length=20)] = None
    sections: Annotated[list[SectionObject] | None, Field(max_length=10, min_length=1)] = None
    buttons: Annotated[list[ActionObjectButton] | None, Field(max_length=3, min_length=1)] = None
    catalog_id: str | None = None
    product_retailer_id: str | None = None
    name: str | None = None
    parameters: ActionObjectParameters | None = None


class BaseMessageProperties(PayloadRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    messaging_product: str
    recipient_type: str | None = None
    to: str | None = None
    type: str
    context: MessageContext | None = None
    recipient: str | None = None
    biz_opaque_callback_data: Annotated[str | None, Field(max_length=512)] = None


class ContactObject(PayloadRecord):
    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
    )
    addresses: list[AddressObject] | None = None
    birthday: str | None = None
    emails: list[EmailObject] | None = None
    name: NameObject | None = None
    org: OrganizationObject | None = None
    phones: list[PhoneObject] | None = None
    urls: list[UrlObject] | None = None


class ContactsMessage(BaseMessageProperties):
    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
    )
    type: Literal["contacts"]
    contacts: Annotated[list[ContactObject], Field(max_length=5, min_length=1)]


class DocumentMessage(BaseMessageProperties):
    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
    )
    type: Literal["document"]
    document: MediaObject


class HeaderObject(PayloadRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    type: str
    text: Annotated[str | None, Field(max_length=60)] = None
    sub_text: Annotated[str | None, Field(max_length=60)] = None
    document: MediaObject | None = None
    image: MediaObject | None = None
    video: MediaObject | None = None


class ImageMessage(BaseMessageProperties):
    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
    )
    type: Literal["image"]
    image: MediaObject


class InteractiveObject(PayloadRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    type: str
    header: HeaderObject | None = None
    body: BodyObject | None = None
    footer: FooterObject | None = None
    action: ActionObject


class LocationMessage(BaseMessageProperties):
    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
    )
    type: Literal["location"]
    location: Location


class MessageResponsePayloadMessage(PayloadRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    id: str | None = None
    message_status: str | None = None


class MessageResponsePayload(PayloadRecord):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    contacts: list[MessageResponsePayloadContact] | None = None
    messages: list[MessageResponsePayloadMessage] | None = None
    messaging_product: str | None = None


class ReactionMessage(BaseMessageProperties):
    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
    )
    type: Literal["reaction"]
    reaction: ReactionMessageReaction


class StickerMessage(BaseMessageProperties):
    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
    )
    type: Literal["sticker"]
    sticker: StickerMessageSticker


class TemplateMessage(BaseMessageProperties):
    model_config = ConfigDict(
        populate_by_name=True,
    )
    type: Literal["template"]
    template: TemplateObject


class TextMessage(BaseMessageProperties):
    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
    )
    type: Literal["text"]
    text: TextMessageText


class VideoMessage(BaseMessageProperties):
    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
    )
    type: Literal["video"]
    video: MediaObject


class AudioMessage(BaseMessageProperties):
    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
    )
    type: Literal["audio"]
    audio: MediaObject


class InteractiveMessage(BaseMessageProperties):
    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
    )
    type: Literal["interactive"]
    interactive: InteractiveObject


class Message(
    RootModel[
        TextMessage
        | AudioMessage
        | DocumentMessage
        | ImageMessage
        | LocationMessage
        | VideoMessage
        | StickerMessage
        | ReactionMessage
        | InteractiveMessage
        | TemplateMessage
        | ContactsMessage
    ]
):
    root: Annotated[
        TextMessage
        | AudioMessage
        | DocumentMessage
        | ImageMessage
        | LocationMessage
        | VideoMessage
        | StickerMessage
        | ReactionMessage
        | InteractiveMessage
        | TemplateMessage
        | ContactsMessage,
        Field(discriminator="type"),
    ]
