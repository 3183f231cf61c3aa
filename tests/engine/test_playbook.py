import pytest

from callcue.engine.playbook import load_playbook
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
