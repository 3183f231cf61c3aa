"""The review policy lives in the settings, where IT can pin it."""

from callcue.report.access import AccessPolicy
from callcue.settings import Settings, SettingsStore


def test_policy_round_trips_through_the_settings_file(tmp_path):
    store = SettingsStore(tmp_path / "settings.json")
    s = Settings()
    assert s.set("review_role", "supervisor") and s.set("review_user", "kim")
    assert s.set("review_policy", "team") and s.set("review_team", ["lee", "sam"])
    store.save(s)
    policy = AccessPolicy.from_settings(store.load())
    assert (policy.role, policy.user, policy.supervisors_see, policy.team) == ("supervisor", "kim", "team",
                                                                            ("lee", "sam"))


def test_a_bad_policy_value_is_refused():
    import pytest

    from callcue.settings import BadValue

    with pytest.raises(BadValue):
        Settings().set("review_policy", "everyone")
