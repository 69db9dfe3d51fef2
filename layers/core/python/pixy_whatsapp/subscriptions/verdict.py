"""Reading a `GET /{waba_id}/subscribed_apps` answer: is this deployment getting the webhooks?

A WABA can be subscribed to several apps (a BSP's and ours, say). Ours is the one whose id
the registry learnt when we subscribed; before that is known, a single listed app is taken
to be ours, and with several the answer can only say that *some* app is subscribed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pixy_whatsapp.graph import SubscribedApp

APP_CALLBACK = "the app's callback URL"


@dataclass(frozen=True, slots=True)
class Verdict:
    subscribed: bool
    app_id: str | None
    apps_seen: tuple[str, ...]
    problem: str | None = None


def judge(
    apps: Sequence[SubscribedApp], *, app_id: str | None, override_callback_uri: str | None
) -> Verdict:
    """Whether `apps` shows our app subscribed, with webhooks going where we asked."""
    seen = tuple(app.id for app in apps if app.id)
    if not apps:
        return Verdict(False, app_id, seen, "no app is subscribed to the WABA's webhooks")
    if app_id is not None:
        ours = next((app for app in apps if app.id == app_id), None)
        if ours is None:
            listed = ", ".join(seen) or "none with an id"
            return Verdict(
                False, app_id, seen, f"app {app_id} is not subscribed (listed: {listed})"
            )
    elif len(apps) == 1:
        ours = apps[0]
    else:
        return Verdict(True, None, seen)
    listed_override = ours.override_callback_uri or None
    if listed_override != override_callback_uri:
        return Verdict(
            False,
            ours.id,
            seen,
            f"webhooks go to {listed_override or APP_CALLBACK} "
            f"instead of {override_callback_uri or APP_CALLBACK}",
        )
    return Verdict(True, ours.id, seen)
