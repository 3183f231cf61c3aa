import os

import pytest

from callcue.engine.playbook import ListOf, above, between, load_playbook, rule_for, whole
from callcue.errors import CallcueError


def test_default_has_every_required_cue(playbook):
    required = {"acknowledge-frustration", "let-them-finish", "check-in-silence", "slow-down", "plain-words",
                "let-customer-talk", "escalation-request", "repeat-contact", "negotiate", "note-commitment"}
    assert required <= set(playbook.cue_ids)
    spec = playbook.cue("escalation-request")
    assert spec.severity == "alert" and spec.skill == "conflict-management" and spec.max_per_call >= 1


def test_profile_overrides(playbook):
    strict = load_playbook(profile="strict")
    assert strict.cue("check-in-silence")["after_s"] < playbook.cue("check-in-silence")["after_s"]
    assert "strict" in playbook.profiles


def test_team_playbook_overrides_only_what_it_says(tmp_path):
    p = tmp_path / "team.toml"
    p.write_text('[cues.slow-down]\nsyllables_per_s = 7.0\n\n[profiles.night]\ncues.slow-down.min_words = 5\n')
    pb = load_playbook(p, "night")
    assert pb.cue("slow-down")["syllables_per_s"] == 7.0
    assert pb.cue("slow-down")["min_words"] == 5
    assert pb.cue("let-them-finish").text == "Let them finish"


@pytest.mark.parametrize("body, line, words", [
    ("[cues.slow-down]\nsyllables_per_s = \n", 2, "malformed"),
    ("[playbook]\nshow_s = 6\n[cues.slow-down]\nsyllables_per_s = \"fast\"\n", 4, "must be a number"),
    ("[cues.slow-down]\n\nseverity = \"urgent\"\n", 3, "severity"),
    ("[cues.make-coffee]\ntext = \"x\"\n", 1, "unknown cue"),
    ("[playbook]\n\nshowtime = 3\n", 3, "unknown setting"),
])
def test_malformed_playbook_names_file_and_line(tmp_path, body, line, words):
    p = tmp_path / "bad.toml"
    p.write_text(body)
    with pytest.raises(CallcueError) as err:
        load_playbook(p)
    assert f"{p}:{line}:" in str(err.value)
    assert words in str(err.value)


def test_unknown_profile_lists_the_known_ones():
    with pytest.raises(CallcueError, match="strict"):
        load_playbook(profile="nope")


# ---- types and ranges (issue 19, items 5 and 6) ------------------------------------------------

@pytest.mark.parametrize("body, line, words", [
    ("[activity]\nvad_mode = 5\n", 2, "activity.vad_mode must be a whole number from 0 to 3, not 5"),
    ("[activity]\nvad_mode = -1\n", 2, "from 0 to 3, not -1"),
    ("[activity]\n\nvad_mode = 2.5\n", 3, "whole number from 0 to 3, not 2.5"),
    ("[frustration]\nalpha = 5\n", 2, "frustration.alpha must be a number above 0 and at most 1, not 5"),
    ("[frustration]\nalpha = nan\n", 2, "not nan (the default is 0.6)"),
    ("[frustration]\nalpha_down = inf\n", 2, "not inf"),
    ("[cues.slow-down]\nmax_per_call = -1\n", 2, "cues.slow-down.max_per_call must be a whole number, 0 or more"),
    ("[cues.slow-down]\ncooldown_s = -0.5\n", 2, "cooldown_s must be a number, 0 or more"),
    ("[conversation]\nsilence_s = -1.0\n", 2, "conversation.silence_s must be a number above 0, not -1.0"),
    ("[conversation]\nsilence_s = 0\n", 2, "above 0, not 0"),
    ("[chat]\nport = 70000\n", 2, "chat.port must be a whole number from 1 to 65535"),
    ("[chat.frustration]\nanswer = -3.0\n", 2, "chat.frustration.answer must be a number from -1 to 1"),
    ("[cues.slow-down]\nenabled = 1\n", 2, "cues.slow-down.enabled must be true or false, not 1"),
    ("[cues.slow-down]\nseverity = \"urgent\"\n", 2, "one of info, warn, alert, not \"urgent\""),
    ("[chat.reply]\ntemplates = [{ flag = \"cold\" }]\n", 2, "item 1 is { flag = \"cold\" }"),
    ("[chat.reply]\ntemplates = [\n  { flag = \"cold\", say = \"x\" },\n  5,\n]\n", 2, "item 2 is 5"),
    ("[cues.check-in-silence]\nafter_s = 3.0\n[cues.slow-down]\nafter_s = -1.0\n", 4, "cues.slow-down.after_s"),
    ("[cues.plain-words]\nterms = 0\n", 2, "cues.plain-words.terms must be a whole number, 1 or more"),
    ("[frustration]\nalpha = " + "9" * 400 + "\n", 2, "not 99999"),  # an OverflowError before
])
def test_values_out_of_range_name_file_line_and_range(tmp_path, body, line, words):
    p = tmp_path / "team.toml"
    p.write_text(body)
    with pytest.raises(CallcueError) as err:
        load_playbook(p)
    msg = str(err.value)
    assert msg.startswith(f"{p}:{line}: ") and words in msg and "\n" not in msg


@pytest.mark.parametrize("body, words", [
    ("[frustration]\nalpha = " + "9" * 5000 + "\n", "a number of thousands of digits"),
    ("a = " + "[" * 100000 + "]" * 100000 + "\n", "a list nested too deeply"),
])
def test_toml_that_tomllib_cannot_hold_is_one_line(tmp_path, body, words):
    p = tmp_path / "team.toml"
    p.write_text(body)
    with pytest.raises(CallcueError, match=rf"^{p}: malformed playbook: {words}"):
        load_playbook(p)


def test_a_profile_value_is_checked_at_its_own_line(tmp_path):
    p = tmp_path / "team.toml"
    p.write_text("[cues.check-in-silence]\nafter_s = 3.0\n\n[profiles.night]\n"
                 "cues.check-in-silence.after_s = -4.0\n")
    load_playbook(p)  # the profile is not used: the team's own values are fine
    with pytest.raises(CallcueError, match=rf"^{p}:5: cues.check-in-silence.after_s must be"):
        load_playbook(p, "night")


def test_a_profile_that_is_not_a_table(tmp_path):
    p = tmp_path / "team.toml"
    p.write_text("[playbook]\nshow_s = 5.0\n[profiles]\nnight = 5\n")
    with pytest.raises(CallcueError, match=rf"^{p}:4: profile 'night' must be a table"):
        load_playbook(p)


def test_a_folder_or_an_unreadable_file_is_one_line(tmp_path):
    with pytest.raises(CallcueError, match="is a folder, not a playbook"):
        load_playbook(tmp_path)
    p = tmp_path / "locked.toml"
    p.write_text("[playbook]\n")
    p.chmod(0)
    if os.access(p, os.R_OK):
        pytest.skip("running as a user who reads any file (root)")
    with pytest.raises(CallcueError, match="cannot read the playbook"):
        load_playbook(p)


def test_good_values_at_the_ends_of_their_ranges_load(tmp_path):
    p = tmp_path / "team.toml"
    p.write_text("[activity]\nvad_mode = 3\n[frustration]\nalpha = 1\nalpha_down = 1.0\n"
                 "[playbook]\nshow_s = 6\n[cues.slow-down]\nmax_per_call = 0\nenabled = false\n")
    pb = load_playbook(p)
    assert pb.section("activity")["vad_mode"] == 3 and pb.section("playbook")["show_s"] == 6
    assert "slow-down" not in pb.cue_ids


def test_every_number_of_the_default_playbook_has_a_range(playbook):
    """A key added to default.toml needs one line in engine/playbook.py's RULES (the message says which)."""
    missing = []

    def walk(table, prefix):
        for key, value in table.items():
            if isinstance(value, dict):
                walk(value, f"{prefix}{key}.")
            elif rule_for(prefix + key) is None and any(
                    isinstance(v, (int, float)) and not isinstance(v, bool)
                    for v in (value if isinstance(value, list) else [value])):
                missing.append(prefix + key)  # a number, or a list of them

    walk({k: v for k, v in playbook.data.items() if k != "profiles"}, "")
    assert not missing, f"add a range for each to RULES in engine/playbook.py: {missing}"


def test_a_list_of_numbers_can_have_a_rule(monkeypatch, tmp_path):
    from callcue.engine import playbook as pbmod

    rule = ListOf(pbmod.FRACTION, ascending=True)
    assert rule.ok([0.2, 0.5]) and not rule.ok([0.5, 0.2]) and not rule.ok([0.2, 1.5]) and not rule.ok(0.2)
    assert rule.want == "a list of numbers from 0 to 1 in ascending order"
    bad = tmp_path / "default.toml"  # a default with a key of bands, as a helper may add
    bad.write_text(pbmod.default_playbook_path().read_text().replace("[activity]", "bands = [0.6, 0.3]\n\n[activity]"))
    monkeypatch.setattr(pbmod, "default_playbook_path", lambda: bad)
    monkeypatch.setitem(pbmod.RULES, "playbook.bands", rule)
    pbmod.rule_for.cache_clear()
    try:
        with pytest.raises(CallcueError, match=r"playbook.bands must be a list of numbers from 0 to 1 in ascending "
                                               r"order, not \[0.6, 0.3\]"):
            load_playbook()
    finally:
        pbmod.rule_for.cache_clear()


def test_the_most_specific_rule_wins():
    assert rule_for("chat.frustration.steepness") == above(0)
    assert rule_for("chat.frustration.sarcasm") == between(-1, 1)
    assert rule_for("cues.anything.max_per_call") == whole(0)
    assert rule_for("no.such.key") is None


def test_every_default_value_meets_its_rule(playbook):
    for name in [None, *playbook.profiles]:
        load_playbook(profile=name)  # raises on a default or a profile value out of its range


def test_a_default_value_out_of_range_is_reported_in_the_default(tmp_path, monkeypatch):
    from callcue.engine import playbook as pbmod

    bad = tmp_path / "default.toml"
    bad.write_text(pbmod.default_playbook_path().read_text().replace("vad_mode = 2", "vad_mode = 9"))
    monkeypatch.setattr(pbmod, "default_playbook_path", lambda: bad)
    with pytest.raises(CallcueError, match=rf"^{bad}:\d+: activity.vad_mode must be"):
        load_playbook()


def test_the_cli_prints_one_line_and_exits_2(tmp_path, capsys):
    from callcue.cli import main

    p = tmp_path / "team.toml"
    p.write_text("[activity]\nvad_mode = 7\n")
    assert main(["chat", "check", "hello", "--playbook", str(p)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "vad_mode" in err and "Traceback" not in err
