"""Reading `GET subscribed_apps` answers the simulator does not produce (several apps)."""

from __future__ import annotations

from pixy_whatsapp.graph import SubscribedApp
from pixy_whatsapp.subscriptions.verdict import judge

OURS, BSP = "100000000000001", "200000000000002"
HOOK = "https://hooks.example.test/whatsapp"


def app(app_id: str, override: str | None = None) -> SubscribedApp:
    entry: dict[str, object] = {"whatsapp_business_api_data": {"id": app_id, "name": "x"}}
    if override is not None:
        entry["override_callback_uri"] = override
    return SubscribedApp.model_validate(entry)


def test_a_known_app_id_must_be_listed_even_when_others_are() -> None:
    verdict = judge([app(BSP)], app_id=OURS, override_callback_uri=None)

    assert not verdict.subscribed
    assert verdict.apps_seen == (BSP,)
    assert verdict.problem is not None
    assert OURS in verdict.problem


def test_a_known_app_id_is_found_among_several() -> None:
    verdict = judge([app(BSP), app(OURS, HOOK)], app_id=OURS, override_callback_uri=HOOK)

    assert verdict.subscribed
    assert verdict.app_id == OURS


def test_a_lone_app_is_taken_as_ours_and_its_override_checked() -> None:
    assert judge([app(OURS)], app_id=None, override_callback_uri=None).app_id == OURS
    moved = judge(
        [app(OURS, "https://elsewhere.example.test/")], app_id=None, override_callback_uri=HOOK
    )
    assert not moved.subscribed
    assert moved.problem is not None
    assert "elsewhere" in moved.problem


def test_several_apps_and_no_known_id_can_only_say_someone_is_subscribed() -> None:
    verdict = judge([app(BSP), app(OURS)], app_id=None, override_callback_uri=None)

    assert verdict.subscribed
    assert verdict.app_id is None
    assert set(verdict.apps_seen) == {BSP, OURS}


def test_no_app_at_all_is_not_subscribed() -> None:
    verdict = judge([], app_id=None, override_callback_uri=None)

    assert not verdict.subscribed
    assert verdict.apps_seen == ()
