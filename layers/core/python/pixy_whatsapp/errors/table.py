"""The error table: every Graph API error code the gateway knows, as data.

Titles are Meta's; a title in parentheses is our label where Meta gives none. Meanings and
notes are ours. ``sources`` name the pages each row rests on (see ``SOURCES``); HTTP
statuses are the ones Meta documented for the code, for reference only, since the
classification keys on the code.
"""

from __future__ import annotations

from pixy_whatsapp.errors.actions import Action, BreakerScope, ErrorClass
from pixy_whatsapp.errors.rules import Backoff, CodeSpan, ErrorRule

SOURCES: dict[str, tuple[str, str]] = {
    "ERR": (
        "Meta, Error codes",
        "https://developers.facebook.com/documentation/business-messaging/whatsapp/support/"
        "error-codes",
    ),
    "ERR-OLD": (
        "Meta, Error codes, an earlier revision of the same page, with an HTTP status column",
        "",
    ),
    "GRP": (
        "Meta, Groups API error codes",
        "https://developers.facebook.com/documentation/business-messaging/whatsapp/groups/"
        "error-codes/",
    ),
    "ABOUT": (
        "Meta, About the WhatsApp Business Platform (rate limits, pair rate limits)",
        "https://developers.facebook.com/documentation/business-messaging/whatsapp/"
        "about-the-platform",
    ),
    "TP": (
        "Meta, Throughput",
        "https://developers.facebook.com/documentation/business-messaging/whatsapp/throughput",
    ),
    "WH-STATUS": (
        "Meta, Status messages webhook reference",
        "https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/"
        "reference/messages/status",
    ),
    "GRAPH-WABA": (
        "Meta, Graph API reference of the WABA edges (message_templates, phone_numbers)",
        "https://developers.facebook.com/docs/graph-api/reference/whats-app-business-account/"
        "message_templates/",
    ),
    "SPEC": ("Meta, WhatsApp Business Platform OpenAPI specification, v23.0", ""),
    "PYWA": (
        "pywa, pywa/errors.py (a community library, not a Meta page)",
        "https://github.com/david-lev/pywa",
    ),
    "LEGACY-SDK": (
        "whatsapp-business-sdk, src/types/error.ts (legacy titles, not a Meta page)",
        "https://github.com/MarcosNicolau/whatsapp-business-sdk",
    ),
}

# Doc sections, in the order the generated page shows them.
CREDENTIALS = "Credentials and permissions"
ACCOUNT = "Account and phone number state"
THROTTLING = "Throttling"
META_FAULTS = "Faults on Meta's side"
RECIPIENT = "Recipient and delivery"
REQUEST = "Request content"
TEMPLATES = "Templates and Flows"
REGISTRATION = "Registration (not on the send path)"
GROUPS = "Groups API"
UNKNOWN = "Codes missing from the table"

SECTIONS: tuple[str, ...] = (
    CREDENTIALS,
    ACCOUNT,
    THROTTLING,
    META_FAULTS,
    RECIPIENT,
    REQUEST,
    TEMPLATES,
    REGISTRATION,
    GROUPS,
    UNKNOWN,
)

# Meta-side faults: short, growing waits; the breaker, not a long back-off, handles outages.
_TRANSIENT = Backoff(2, factor=2, cap_seconds=120)
# Throughput is counted per second, so waits past a minute would only idle the number.
_NUMBER_THROTTLE = Backoff(1, factor=2, cap_seconds=60)
# App and WABA allowances are counted over a rolling hour: eight attempts span about 75 min.
_WABA_THROTTLE = Backoff(60, factor=2, cap_seconds=900)
_WABA_THROTTLE_ATTEMPTS = 8
# While a breaker is open the message waits in the queue; 16 waits of 15 min give an
# operator four hours to fix a token or an account before the message fails.
_PAUSE = Backoff(900)
_PAUSE_ATTEMPTS = 16

_ERR = ("ERR", "ERR-OLD")


def _code(code: int) -> CodeSpan:
    return CodeSpan(code, code)


def _credentials(
    code: CodeSpan,
    title: str,
    meaning: str,
    *,
    sources: tuple[str, ...],
    http_statuses: tuple[int, ...] = (),
    note: str = "",
) -> ErrorRule:
    return ErrorRule(
        codes=code,
        title=title,
        meaning=meaning,
        action=Action.PAUSE_CREDENTIALS,
        error_class=ErrorClass.CREDENTIALS,
        breaker=BreakerScope.WABA,
        backoff=_PAUSE,
        max_attempts=_PAUSE_ATTEMPTS,
        section=CREDENTIALS,
        sources=sources,
        http_statuses=http_statuses,
        note=note,
    )


def _paused(
    code: int,
    title: str,
    meaning: str,
    scope: BreakerScope,
    section: str,
    *,
    sources: tuple[str, ...],
    http_statuses: tuple[int, ...] = (),
    note: str = "",
) -> ErrorRule:
    return ErrorRule(
        codes=_code(code),
        title=title,
        meaning=meaning,
        action=Action.PAUSE_ACCOUNT,
        error_class=ErrorClass.ACCOUNT,
        breaker=scope,
        backoff=_PAUSE,
        max_attempts=_PAUSE_ATTEMPTS,
        section=section,
        sources=sources,
        http_statuses=http_statuses,
        note=note,
    )


def _transient(
    code: int,
    title: str,
    meaning: str,
    attempts: int,
    *,
    sources: tuple[str, ...],
    http_statuses: tuple[int, ...] = (),
    note: str = "",
) -> ErrorRule:
    return ErrorRule(
        codes=_code(code),
        title=title,
        meaning=meaning,
        action=Action.RETRY_BACKOFF,
        error_class=ErrorClass.TRANSIENT,
        breaker=BreakerScope.NUMBER,
        backoff=_TRANSIENT,
        max_attempts=attempts,
        section=META_FAULTS,
        sources=sources,
        http_statuses=http_statuses,
        note=note,
    )


def _waba_throttle(
    code: int,
    title: str,
    meaning: str,
    *,
    sources: tuple[str, ...],
    http_statuses: tuple[int, ...] = (),
    note: str = "",
) -> ErrorRule:
    return ErrorRule(
        codes=_code(code),
        title=title,
        meaning=meaning,
        action=Action.THROTTLE_WABA,
        error_class=ErrorClass.THROTTLED,
        backoff=_WABA_THROTTLE,
        max_attempts=_WABA_THROTTLE_ATTEMPTS,
        section=THROTTLING,
        sources=sources,
        http_statuses=http_statuses,
        note=note,
    )


def _failed(
    codes: int | CodeSpan,
    title: str,
    meaning: str,
    error_class: ErrorClass,
    section: str,
    *,
    sources: tuple[str, ...],
    http_statuses: tuple[int, ...] = (),
    note: str = "",
) -> ErrorRule:
    return ErrorRule(
        codes=_code(codes) if isinstance(codes, int) else codes,
        title=title,
        meaning=meaning,
        action=Action.FAIL_PERMANENT,
        error_class=error_class,
        section=section,
        sources=sources,
        http_statuses=http_statuses,
        note=note,
    )


RULES: tuple[ErrorRule, ...] = (
    # --- credentials and permissions: one token per WABA, so the WABA is the scope -------
    _credentials(
        _code(0),
        "AuthException",
        "The access token could not authenticate the caller: it expired, was invalidated "
        "or was revoked.",
        sources=_ERR,
        http_statuses=(401,),
    ),
    _credentials(
        _code(3),
        "API Method",
        "The app or token lacks a capability or permission this call needs.",
        sources=_ERR,
        http_statuses=(500,),
        note="Meta files it under permissions and capabilities, so it pauses the WABA like "
        "a credential fault even though the old table gave it HTTP 500.",
    ),
    _credentials(
        _code(10),
        "Permission Denied",
        "A permission the call needs was never granted or was withdrawn, or the account is "
        "not eligible for this endpoint.",
        sources=_ERR,
        http_statuses=(403,),
        note="On the send path the endpoint never changes, so ineligibility hits every "
        "message of the WABA alike: pausing the WABA until its token or permissions change "
        "beats failing each message one by one.",
    ),
    _credentials(
        _code(190),
        "Access token has expired",
        "The access token is past its expiry (Meta's examples carry subcode 463).",
        sources=(*_ERR, "SPEC"),
        http_statuses=(401,),
    ),
    _credentials(
        _code(200),
        "(no access token)",
        "The request had no usable access token; some read endpoints also answer this way "
        "when the app id is missing or wrong.",
        sources=("ERR",),
        http_statuses=(403,),
    ),
    _credentials(
        CodeSpan(200, 299),
        "API Permission",
        "A permission the call needs was never granted or was withdrawn.",
        sources=_ERR,
        http_statuses=(403,),
        note="Meta documents the whole band as permission errors; 200 has its own row only "
        "because its usual cause differs.",
    ),
    _credentials(
        _code(131005),
        "Access denied",
        "A permission the call needs was never granted or was withdrawn.",
        sources=_ERR,
        http_statuses=(403,),
        note="Same meaning as 10 and 200-299, so the same handling.",
    ),
    # --- account and phone number state ----------------------------------------------------
    _paused(
        368,
        "Temporarily blocked for policies violations",
        "The WhatsApp Business Account is restricted or disabled after a policy violation.",
        BreakerScope.WABA,
        ACCOUNT,
        sources=_ERR,
        http_statuses=(403,),
    ),
    _paused(
        131031,
        "Account has been locked",
        "The WABA is restricted or disabled, or Meta could not verify data sent with the "
        "request (a wrong two-step PIN, for example).",
        BreakerScope.WABA,
        ACCOUNT,
        sources=_ERR,
        http_statuses=(403,),
    ),
    _paused(
        131042,
        "Business eligibility payment issue",
        "Billing is missing or in trouble: no payment method, credit line over its limit, "
        "time zone or currency unset, or the WABA deleted or suspended.",
        BreakerScope.WABA,
        ACCOUNT,
        sources=_ERR,
        http_statuses=(400,),
    ),
    _paused(
        131064,
        "(messaging limited after template classification violations)",
        "The WABA's messaging is limited because of template category violations; Meta "
        "lifts the limit on its own after an enforcement period it does not state.",
        BreakerScope.WABA,
        ACCOUNT,
        sources=("ERR",),
        note="Meta lists it with a delay of unknown length; a WABA pause with the usual "
        "probe lets sending resume when Meta lifts the limit, without guessing a duration.",
    ),
    _paused(
        131048,
        "Spam rate limit hit",
        "Meta restricts the number because earlier messages were blocked or reported as spam.",
        BreakerScope.NUMBER,
        ACCOUNT,
        sources=_ERR,
        http_statuses=(400,),
        note="The restriction is not short-term and belongs to one number, so that number "
        "pauses (protecting its quality) while the WABA's other numbers keep sending.",
    ),
    _paused(
        131037,
        "(display name not approved)",
        "A 555 business number has no approved display name yet.",
        BreakerScope.NUMBER,
        ACCOUNT,
        sources=("ERR",),
    ),
    _paused(
        131045,
        "Incorrect certificate",
        "The phone number's registration is broken; it has to be registered again.",
        BreakerScope.NUMBER,
        ACCOUNT,
        sources=_ERR,
        http_statuses=(500,),
    ),
    _paused(
        133000,
        "Incomplete Deregistration",
        "An earlier deregistration of the number did not finish.",
        BreakerScope.NUMBER,
        ACCOUNT,
        sources=_ERR,
        http_statuses=(500,),
    ),
    _paused(
        133006,
        "Phone number re-verification needed",
        "The number has to be verified again before it can send.",
        BreakerScope.NUMBER,
        ACCOUNT,
        sources=_ERR,
        http_statuses=(400,),
    ),
    _paused(
        133007,
        "Account Blocked",
        "Legacy code: the account behind the number is blocked.",
        BreakerScope.NUMBER,
        ACCOUNT,
        sources=("LEGACY-SDK",),
        note="Not on Meta's current page. It belongs to the phone number family (133xxx), so "
        "the narrower number scope applies; a WABA-wide block also shows up as 368 or "
        "131031 on the other numbers.",
    ),
    _paused(
        133010,
        "Phone number Not Registered",
        "The phone number is not registered on the platform.",
        BreakerScope.NUMBER,
        ACCOUNT,
        sources=_ERR,
        http_statuses=(400,),
    ),
    _failed(
        33,
        "Parameter value is not valid",
        "The business phone number has been deleted.",
        ErrorClass.ACCOUNT,
        ACCOUNT,
        sources=_ERR,
        http_statuses=(400,),
        note="A deleted number never comes back under the same id, so waiting helps nothing: "
        "each message fails at once with the reason, and the account-class alarm sends an "
        "operator to fix the routing.",
    ),
    _failed(
        130497,
        "Business account is restricted from messaging users in this country",
        "The WABA may not message users in the recipient's country.",
        ErrorClass.ACCOUNT,
        ACCOUNT,
        sources=("ERR",),
        note="Only recipients in one country are affected, so the WABA keeps sending; the "
        "producer should stop sending to that country.",
    ),
    _failed(
        131063,
        "(marketing messages disabled on Cloud API)",
        "The WABA has marketing messages switched off for Cloud API.",
        ErrorClass.ACCOUNT,
        ACCOUNT,
        sources=("ERR",),
        note="Only marketing sends are refused, so other categories keep flowing; each "
        "marketing message fails with the reason.",
    ),
    # --- throttling ---------------------------------------------------------------------------
    ErrorRule(
        codes=_code(130429),
        title="Rate limit hit",
        meaning="The phone number is sending faster than its throughput allows (80 messages "
        "a second by default, up to 1,000, inbound and outbound together).",
        action=Action.THROTTLE_NUMBER,
        error_class=ErrorClass.THROTTLED,
        backoff=_NUMBER_THROTTLE,
        max_attempts=12,
        section=THROTTLING,
        sources=(*_ERR, "TP"),
        http_statuses=(400, 429),
    ),
    _waba_throttle(
        4,
        "API Too Many Calls",
        "The app has used up its Graph API call allowance for the moment.",
        sources=_ERR,
        http_statuses=(400, 429),
    ),
    _waba_throttle(
        613,
        "Calls to this api have exceeded the rate limit",
        "Graph-wide throttling of one API; the Calling API uses it for its permission "
        "lookups. Not on Meta's WhatsApp error page.",
        sources=("PYWA",),
        note="Unconfirmed for messaging; handled like the other app-level limits, which "
        "slows down without tripping a breaker.",
    ),
    _waba_throttle(
        80007,
        "Rate limit issues",
        "The WABA reached its request limit on management endpoints (200 or 5,000 "
        "requests an hour per app, depending on whether the WABA is active).",
        sources=(*_ERR, "ABOUT"),
        http_statuses=(400, 429),
    ),
    _waba_throttle(
        80008,
        "(too many calls to this WhatsApp Business account)",
        "Too many calls to one WABA edge, such as its templates or phone numbers.",
        sources=("GRAPH-WABA",),
    ),
    ErrorRule(
        codes=_code(131056),
        title="(Business Account, Consumer Account) pair rate limit hit",
        meaning="The number sent too many messages to the same recipient in a short time "
        "(about one every 6 s sustained; bursts borrow from later).",
        action=Action.RETRY_AFTER,
        error_class=ErrorClass.PAIR_LIMITED,
        backoff=Backoff(1, factor=4),
        max_attempts=6,
        section=THROTTLING,
        sources=(*_ERR, "ABOUT"),
        http_statuses=(400, 429),
        note="Meta asks for a wait of 4^X seconds after the X-th failure, X from 0. The "
        "limit is per recipient, so the number's other recipients are not slowed. Six "
        "attempts reach the 15-minute ceiling, after which the message fails.",
    ),
    # --- faults on Meta's side -----------------------------------------------------------------
    _transient(
        1,
        "API Unknown",
        "Either the request was invalid or Meta had a server-side problem; Meta points to "
        "its status page.",
        3,
        sources=_ERR,
        http_statuses=(400,),
        note="It may be the request's fault, so it gets only a few attempts.",
    ),
    _transient(
        2,
        "API Service",
        "Meta is briefly down or overloaded.",
        6,
        sources=_ERR,
        http_statuses=(503,),
    ),
    _transient(
        131000,
        "Something went wrong",
        "An unspecified failure inside Meta.",
        5,
        sources=_ERR,
        http_statuses=(500,),
        note="Meta advises limited retries and a support ticket if it persists.",
    ),
    _transient(
        131016,
        "Service unavailable",
        "A Meta service is unavailable for a while.",
        6,
        sources=_ERR,
        http_statuses=(500,),
    ),
    _transient(
        133004,
        "Server Temporarily Unavailable",
        "A Meta server is briefly unavailable.",
        6,
        sources=_ERR,
        http_statuses=(503,),
    ),
    ErrorRule(
        codes=_code(131057),
        title="Account in maintenance mode",
        meaning="The number is briefly out of service, for example while Meta raises its "
        "throughput, which takes up to a minute.",
        action=Action.RETRY_AFTER,
        error_class=ErrorClass.TRANSIENT,
        backoff=Backoff(60),
        max_attempts=3,
        section=META_FAULTS,
        sources=(*_ERR, "TP"),
        http_statuses=(500,),
        note="A planned, short outage: wait a minute, no breaker.",
    ),
    # --- recipient and delivery -------------------------------------------------------------
    _failed(
        130403,
        "(business blocked the user)",
        "The business has blocked this user.",
        ErrorClass.RECIPIENT,
        RECIPIENT,
        sources=("ERR",),
    ),
    _failed(
        130472,
        "User's number is part of an experiment",
        "Meta held the marketing message back because the user is in a marketing-message "
        "experiment.",
        ErrorClass.RECIPIENT,
        RECIPIENT,
        sources=_ERR,
        http_statuses=(400,),
    ),
    _failed(
        131026,
        "Message Undeliverable",
        "The recipient cannot receive the message: not on WhatsApp, terms of service not "
        "accepted, or an app too old. Often reported later, in a failed status webhook.",
        ErrorClass.RECIPIENT,
        RECIPIENT,
        sources=_ERR,
        http_statuses=(400,),
    ),
    _failed(
        131030,
        "Recipient phone number not in allowed list",
        "A test number may only message recipients on its allowed list.",
        ErrorClass.RECIPIENT,
        RECIPIENT,
        sources=("PYWA",),
    ),
    _failed(
        131047,
        "Re-engagement message",
        "The recipient has not written to this number in the last 24 hours, so only "
        "approved templates may be sent. Can arrive after a 200, in a failed status.",
        ErrorClass.RECIPIENT,
        RECIPIENT,
        sources=_ERR,
        http_statuses=(400,),
        note="Sending the same free-form message again cannot succeed; the producer has to "
        "switch to a template.",
    ),
    _failed(
        131049,
        "(not delivered to maintain healthy ecosystem engagement)",
        "Meta held the marketing message back to limit how many marketing messages the user "
        "receives (this also covers the pause on marketing to US +1 numbers). Meta asks to "
        "wait at least 24 hours before sending again.",
        ErrorClass.RECIPIENT,
        RECIPIENT,
        sources=("ERR", "WH-STATUS"),
        note="Fails permanently with the reason rather than waiting: 24 hours or more is "
        "beyond what a FIFO queue can hold a message (SQS visibility stops at 12 h) without "
        "blocking the recipient's shard, Meta says the period varies, and the code usually "
        "arrives in a status webhook after the send finished anyway. The producer decides "
        "whether to send again a day later.",
    ),
    _failed(
        131050,
        "(user stopped marketing messages)",
        "The recipient opted out of this business's marketing messages.",
        ErrorClass.RECIPIENT,
        RECIPIENT,
        sources=("ERR",),
    ),
    # --- request content ------------------------------------------------------------------------
    _failed(
        100,
        "Invalid parameter",
        "A parameter is unknown, misspelled or too long. Template text containing new "
        "lines, tabs or more than four spaces in a row is reported this way too.",
        ErrorClass.PERMANENT,
        REQUEST,
        sources=_ERR,
        http_statuses=(400,),
    ),
    _failed(
        131008,
        "Required parameter is missing",
        "The request lacks a required parameter.",
        ErrorClass.PERMANENT,
        REQUEST,
        sources=_ERR,
        http_statuses=(400,),
    ),
    _failed(
        131009,
        "Parameter value is not valid",
        "One or more parameter values are invalid.",
        ErrorClass.PERMANENT,
        REQUEST,
        sources=_ERR,
        http_statuses=(400,),
        note="The Marketing Messages API also uses it while an ad sync finishes (about ten "
        "minutes); this gateway sends through Cloud API, where the request itself is wrong.",
    ),
    _failed(
        131021,
        "Recipient cannot be sender",
        "The message is addressed to the sending number itself.",
        ErrorClass.PERMANENT,
        REQUEST,
        sources=_ERR,
        http_statuses=(400,),
    ),
    _failed(
        131051,
        "Unsupported message type",
        "The message type is not supported; inbound messages Meta could not process carry it too.",
        ErrorClass.PERMANENT,
        REQUEST,
        sources=(*_ERR, "SPEC"),
        http_statuses=(400,),
    ),
    _failed(
        131052,
        "Media download error",
        "Meta could not fetch media the user sent (inbound messages only).",
        ErrorClass.PERMANENT,
        REQUEST,
        sources=_ERR,
        http_statuses=(400,),
    ),
    _failed(
        131053,
        "Media upload error",
        "Meta could not take the message's media, for example because of an unsupported MIME type.",
        ErrorClass.PERMANENT,
        REQUEST,
        sources=_ERR,
        http_statuses=(400,),
    ),
    _failed(
        135000,
        "Generic user error",
        "Something is wrong with the request parameters, and Meta does not say what.",
        ErrorClass.PERMANENT,
        REQUEST,
        sources=_ERR,
        http_statuses=(400,),
    ),
    # --- templates and Flows ------------------------------------------------------------------
    _failed(
        132000,
        "Template Param Count Mismatch",
        "The number of parameters differs from what the template defines.",
        ErrorClass.TEMPLATE,
        TEMPLATES,
        sources=_ERR,
        http_statuses=(400,),
    ),
    _failed(
        132001,
        "Template does not exist",
        "No approved template has that name in that language.",
        ErrorClass.TEMPLATE,
        TEMPLATES,
        sources=_ERR,
        http_statuses=(404,),
    ),
    _failed(
        132005,
        "Template Hydrated Text Too Long",
        "The template text, once its parameters are filled in, is too long.",
        ErrorClass.TEMPLATE,
        TEMPLATES,
        sources=_ERR,
        http_statuses=(400,),
    ),
    _failed(
        132007,
        "Template Format Character Policy Violated",
        "The template content breaks a formatting or content policy.",
        ErrorClass.TEMPLATE,
        TEMPLATES,
        sources=_ERR,
        http_statuses=(400,),
    ),
    _failed(
        132012,
        "Template Parameter Format Mismatch",
        "A parameter's format differs from what the template expects (an image header "
        "given text, for example).",
        ErrorClass.TEMPLATE,
        TEMPLATES,
        sources=_ERR,
        http_statuses=(400,),
    ),
    _failed(
        132015,
        "Template is Paused",
        "Meta paused the template for low quality; it stays paused until edited and "
        "approved again.",
        ErrorClass.TEMPLATE,
        TEMPLATES,
        sources=_ERR,
        http_statuses=(400,),
        note="There is no template-level breaker here: each message using the paused "
        "template fails with the reason, and the template class alarm tells operators.",
    ),
    _failed(
        132016,
        "Template is Disabled",
        "The template was paused too many times and is disabled for good; a new template "
        "is needed.",
        ErrorClass.TEMPLATE,
        TEMPLATES,
        sources=_ERR,
        http_statuses=(400,),
    ),
    _failed(
        132018,
        "Template validation error",
        "The template parameters failed validation; error_data.details names the problem "
        "(a media header without id or link, a wrong button type, and so on).",
        ErrorClass.TEMPLATE,
        TEMPLATES,
        sources=("ERR",),
        http_statuses=(400,),
        note="Meta lists it under the Marketing Messages API, but Cloud API template sends "
        "return it too. Old references call it an HSM parameter error.",
    ),
    _failed(
        132068,
        "Flow is blocked",
        "The Flow the message uses is blocked.",
        ErrorClass.TEMPLATE,
        TEMPLATES,
        sources=_ERR,
        http_statuses=(400,),
    ),
    _failed(
        132069,
        "Flow is throttled",
        "The Flow has reached its limit of messages for the past hour.",
        ErrorClass.TEMPLATE,
        TEMPLATES,
        sources=_ERR,
        http_statuses=(400,),
        note="Meta allows a retry within the hour, but a wait that long would hold the "
        "recipient's FIFO shard far past the 15-minute delay ceiling, so the message fails "
        "with the reason and the producer may send it again later.",
    ),
    _failed(
        CodeSpan(132000, 132069),
        "(template and Flow errors)",
        "A template or Flow problem in Meta's 132000-132069 band that has no row of its own.",
        ErrorClass.TEMPLATE,
        TEMPLATES,
        sources=("ERR",),
        note="Every documented code in the band is a fault of the template, its parameters "
        "or a Flow, so an undocumented one is treated the same way.",
    ),
    # --- registration: these answer register/deregister calls, never a send ------------------
    _failed(
        133001,
        "Decryption Error",
        "Legacy code: registration data could not be decrypted.",
        ErrorClass.ACCOUNT,
        REGISTRATION,
        sources=("LEGACY-SDK",),
    ),
    _failed(
        133002,
        "Backup Blob Decryption Error",
        "Legacy code: the registration backup could not be decrypted.",
        ErrorClass.ACCOUNT,
        REGISTRATION,
        sources=("LEGACY-SDK",),
    ),
    _failed(
        133003,
        "Recovery Token Decryption Error",
        "Legacy code: the recovery token could not be decrypted.",
        ErrorClass.ACCOUNT,
        REGISTRATION,
        sources=("LEGACY-SDK",),
    ),
    _failed(
        133005,
        "Two-step verification PIN Mismatch",
        "The two-step verification PIN is wrong.",
        ErrorClass.ACCOUNT,
        REGISTRATION,
        sources=_ERR,
        http_statuses=(400,),
    ),
    _failed(
        133008,
        "Too Many two-step verification PIN Guesses",
        "Too many wrong PINs; error_data.details says how long to wait.",
        ErrorClass.ACCOUNT,
        REGISTRATION,
        sources=_ERR,
        http_statuses=(400,),
        note="Registration is an operator action: the operator waits the time Meta names "
        "and tries again; nothing retries it automatically.",
    ),
    _failed(
        133009,
        "Two-step verification PIN Guessed Too Fast",
        "PIN attempts came too quickly one after another.",
        ErrorClass.ACCOUNT,
        REGISTRATION,
        sources=_ERR,
        http_statuses=(400,),
        note="As for 133008: the operator waits and tries again.",
    ),
    _failed(
        133016,
        "Account register/deregister rate limit exceeded",
        "Too many registration or deregistration attempts for the number.",
        ErrorClass.ACCOUNT,
        REGISTRATION,
        sources=_ERR,
        http_statuses=(400,),
        note="As for 133008: the operator waits and tries again.",
    ),
    # --- Groups API -----------------------------------------------------------------------
    ErrorRule(
        codes=_code(131059),
        title="Invalid cursor",
        meaning="A Groups API paging cursor expired or was corrupted; listing has to start "
        "again from the first page. A one-to-one send never returns it.",
        action=Action.RESTART_PAGINATION,
        error_class=ErrorClass.PAGINATION,
        section=GROUPS,
        sources=("GRP", "PYWA"),
        http_statuses=(400,),
        note="It concerns Groups API paging only: a fresh listing fixes it, while repeating "
        "the same request with the same cursor never would.",
    ),
)

# The rules for codes the table does not know, picked by HTTP status (see classify).
UNKNOWN_TRANSIENT = ErrorRule(
    codes=None,
    name="unknown-transient",
    title="Unknown fault, server side or no answer",
    meaning="No error code (a timeout, a dropped connection, a body that is not a Graph "
    "error) with no HTTP status, HTTP 408 or 5xx; or an unknown code with HTTP 408 or 5xx.",
    action=Action.RETRY_BACKOFF,
    error_class=ErrorClass.UNKNOWN,
    breaker=BreakerScope.NUMBER,
    backoff=_TRANSIENT,
    max_attempts=3,
    section=UNKNOWN,
    sources=(),
    note="A server-side status or a missing answer says the request may never have been "
    "judged, so a few retries are safe; they count toward the number's breaker so an "
    "outage stops the sending instead of burning every message's attempts. The cap is "
    "small because Meta has no idempotency key: a lost 200 retried is a duplicate message.",
)
UNKNOWN_THROTTLED = ErrorRule(
    codes=None,
    name="unknown-throttled",
    title="Unknown throttling",
    meaning="An unknown code, or no code, with HTTP 429.",
    action=Action.THROTTLE_NUMBER,
    error_class=ErrorClass.UNKNOWN,
    backoff=_NUMBER_THROTTLE,
    max_attempts=5,
    section=UNKNOWN,
    sources=(),
    note="HTTP 429 means slow down whatever the code; the phone number is the narrowest "
    "key that slows this sender, and a throttle never trips a breaker.",
)
UNKNOWN_PERMANENT = ErrorRule(
    codes=None,
    name="unknown-permanent",
    title="Unknown rejection",
    meaning="An unknown code with any other HTTP status (usually 4xx) or with none, as in "
    "a failed-status webhook; also no code with a 4xx status other than 408 and 429.",
    action=Action.FAIL_PERMANENT,
    error_class=ErrorClass.UNKNOWN,
    section=UNKNOWN,
    sources=(),
    note="Meta judged the request and said no in a way the table does not know; retrying "
    "an unexplained refusal risks an endless loop. The message fails with Meta's code and "
    "details kept, and the unknown class on the dashboard shows which code to add here.",
)

UNKNOWN_RULES: tuple[ErrorRule, ...] = (UNKNOWN_TRANSIENT, UNKNOWN_THROTTLED, UNKNOWN_PERMANENT)
