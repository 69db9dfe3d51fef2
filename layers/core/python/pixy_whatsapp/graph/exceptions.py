"""What can go wrong on a Graph API call, as exception classes.

The client never retries: it reports one of these and the caller (the sender's
outcome classifier) decides. The split that matters to a caller:

- `GraphApiError`: Meta answered with an error. Classify by `code` (Meta asks
  for that rather than HTTP status or subcode).
- `GraphNotSentError`: the request surely never reached Meta (connect or pool
  failure); sending again cannot duplicate anything.
- `GraphAmbiguousError`: the request may have reached Meta and been acted on
  (timeout or connection loss while waiting, or a 2xx answer that could not be
  read). There is no idempotency key on `/messages`, so sending again may
  duplicate; reconcile through status webhooks instead.

No exception here ever holds an access token: texts coming from Meta are
scrubbed of the token before they are stored.
"""

from __future__ import annotations

from typing import Any


def _rebuild(cls: type[GraphError], state: dict[str, Any]) -> GraphError:
    error = cls.__new__(cls)
    error.__dict__.update(state)
    Exception.__init__(error, state.get("_text", ""))
    return error


class GraphError(Exception):
    """Base of every failure the Graph client reports."""

    operation: str
    latency_ms: float | None

    def __init__(self, text: str, *, operation: str, latency_ms: float | None) -> None:
        super().__init__(text)
        self._text = text
        self.operation = operation
        self.latency_ms = latency_ms

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._text!r})"

    # Keyword-only constructors break the default pickling of exceptions, which
    # process pools and test runners rely on to ship them across processes.
    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), dict(self.__dict__)))


class GraphApiError(GraphError):
    """Meta answered with an error (any non-2xx answer, or a body holding `error`).

    Every field of Meta's error object is kept; a body that is not a Graph error
    (an HTML 502 from a proxy, say) gives `code=None` with `http_status` kept.
    """

    def __init__(
        self,
        *,
        operation: str,
        http_status: int,
        code: int | None,
        subcode: int | None = None,
        error_type: str | None = None,
        message: str | None = None,
        details: str | None = None,
        fbtrace_id: str | None = None,
        is_transient: bool | None = None,
        user_title: str | None = None,
        user_message: str | None = None,
        latency_ms: float | None = None,
    ) -> None:
        self.http_status = http_status
        self.code = code
        self.subcode = subcode
        self.error_type = error_type
        self.message = message
        self.details = details
        self.fbtrace_id = fbtrace_id
        self.is_transient = is_transient
        self.user_title = user_title
        self.user_message = user_message
        super().__init__(self._describe(), operation=operation, latency_ms=latency_ms)

    def _describe(self) -> str:
        facts = [f"HTTP {self.http_status}"]
        if self.error_type:
            facts.append(self.error_type)
        if self.fbtrace_id:
            facts.append(f"fbtrace_id {self.fbtrace_id}")
        code = "no code" if self.code is None else f"code {self.code}"
        if self.subcode is not None:
            code += f"/{self.subcode}"
        text = f"Graph API error ({code}; {', '.join(facts)})"
        if self.message:
            text += f": {self.message}"
        if self.details:
            text += f" [{self.details}]"
        return text


class GraphTransportError(GraphError):
    """No usable answer came back. `ambiguous` says whether Meta may have acted."""

    ambiguous: bool = True


class GraphNotSentError(GraphTransportError):
    """The request never left (connect error or timeout, DNS, pool timeout)."""

    ambiguous = False


class GraphAmbiguousError(GraphTransportError):
    """The request may have reached Meta; its outcome is unknown."""

    ambiguous = True


class GraphUnreadableResponseError(GraphAmbiguousError):
    """Meta answered 2xx, but not with the body the operation expects.

    The request did reach Meta and may have taken effect (a send may have been
    accepted without us learning its wamid), so it is handled as ambiguous.
    """

    def __init__(
        self, reason: str, *, operation: str, http_status: int, latency_ms: float | None
    ) -> None:
        self.http_status = http_status
        super().__init__(
            f"unreadable Graph API answer (HTTP {http_status}): {reason}",
            operation=operation,
            latency_ms=latency_ms,
        )
