"""Managed settings: IT's locks win, the environment beats what is not locked, a broken file never stops
the app."""

from __future__ import annotations

import json
import os

# Before pytest-qt makes its QApplication: the settings dialog test never shows on a developer's screen.
os.environ["QT_QPA_PLATFORM"] = "offscreen"
import subprocess
import sys
from pathlib import Path

import pytest  # noqa: E402

from callcue import cli, managed, paths  # noqa: E402
from callcue.settings import SettingsStore  # noqa: E402
from tests.conftest import CALLS, USES_CALLS  # noqa: E402

GOOD = """\
# Callcue managed settings for the billing team
locked = ["profile", "width", "storage"]

[settings]
profile = "billing"
width = 300
edge = "left"        # not locked: IT's default, the agent may change it
opacity = 0.8        # not locked
storage = "{storage}"
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def it_file(tmp_path, monkeypatch):
    path = write(tmp_path / "etc" / "managed.toml", GOOD.format(storage=(tmp_path / "store").as_posix()))
    monkeypatch.setenv(managed.ENV_PATH, str(path))
    return path


def user_store(tmp_path: Path, values: dict) -> SettingsStore:
    path = write(tmp_path / "user" / "settings.json", json.dumps(values))
    return SettingsStore(path)


def test_a_good_file_is_read_with_its_locks(it_file, tmp_path):
    m = managed.load_managed()
    assert m.source == it_file and m.error is None and m.warnings == []
    assert m.values == {"profile": "billing", "width": 300, "edge": "left", "opacity": 0.8,
                        "storage": (tmp_path / "store").as_posix()}
    assert m.locked == {"profile", "width", "storage"}


def test_locked_keys_win_over_the_environment_and_the_users_file(it_file, tmp_path):
    store = user_store(tmp_path, {"profile": "mine", "width": 500, "captions": False})
    settings = store.load()
    env = {"CALLCUE_WIDTH": "600", "CALLCUE_PROFILE": "from-env"}
    notes = managed.apply(settings, managed.load_managed(), env)
    assert notes == []
    assert settings.profile == "billing" and settings.width == 300
    assert settings.locked == {"profile", "width"}  # storage is not an overlay setting
    assert settings.source["profile"] == settings.source["width"] == "managed"
    assert settings.captions is False and settings.source["captions"] == "user"  # not managed: the user's
    assert settings.set("width", 400) is False and settings.width == 300


def test_the_environment_overrides_what_is_not_locked(it_file, tmp_path):
    settings = user_store(tmp_path, {"opacity": 0.5}).load()
    managed.apply(settings, managed.load_managed(), {"CALLCUE_OPACITY": "0.7", "CALLCUE_CAPTIONS": "no"})
    assert settings.opacity == 0.7 and settings.source["opacity"] == "env"
    assert settings.captions is False and settings.source["captions"] == "env"
    assert "opacity" not in settings.locked


def test_unlocked_managed_values_are_defaults_under_the_users_own_choice(it_file, tmp_path):
    settings = user_store(tmp_path, {"opacity": 0.5}).load()
    managed.apply(settings, managed.load_managed(), {})
    assert settings.opacity == 0.5 and settings.source["opacity"] == "user"  # the user chose
    assert settings.edge == "left" and settings.source["edge"] == "managed"  # the user did not
    assert settings.set("edge", "right") is True


def test_a_bad_environment_value_is_reported_and_ignored(it_file, tmp_path):
    settings = user_store(tmp_path, {}).load()
    notes = managed.apply(settings, managed.load_managed(), {"CALLCUE_EDGE": "top"})
    assert settings.edge == "left"
    assert len(notes) == 1 and "CALLCUE_EDGE='top'" in notes[0] and "left, right" in notes[0]


def test_a_malformed_file_is_reported_with_path_and_line_and_defaults_apply(tmp_path, monkeypatch):
    bad = write(tmp_path / "managed.toml", 'locked = ["profile"]\n[settings]\nprofile = "billing\nwidth = 300\n')
    monkeypatch.setenv(managed.ENV_PATH, str(bad))
    m = managed.load_managed()
    assert m.values == {} and m.locked == set() and m.source == bad
    assert m.error.startswith(f"{bad}:3: ") and "defaults" in m.error
    settings = SettingsStore(tmp_path / "settings.json").load()
    notes = managed.apply(settings, m, {})
    assert notes == [m.error]
    assert settings.profile is None and settings.width == 340 and settings.locked == set()


@USES_CALLS
def test_the_command_line_warns_about_a_malformed_file_and_still_runs(tmp_path, monkeypatch, capsys):
    bad = write(tmp_path / "managed.toml", "[settings]\nwidth = = 3\n")
    monkeypatch.setenv(managed.ENV_PATH, str(bad))
    before = os.environ["CALLCUE_DATA_DIR"]
    code = cli.main(["analyze", str(CALLS / "password-reset.wav"), "--transcript",
                     str(CALLS / "password-reset.vtt"), "--json"])
    out, err = capsys.readouterr()
    assert code == 0 and out.count("\n") > 10
    assert f"callcue: warning: {bad}:2: managed settings unusable" in err
    assert os.environ["CALLCUE_DATA_DIR"] == before


def test_one_bad_value_is_skipped_and_the_rest_applies(tmp_path, monkeypatch):
    text = ('locked = ["width", "profile", "colour"]\n[settings]\nprofile = "billing"\nwidth = "wide"\n'
            "shade = 3\n")
    path = write(tmp_path / "managed.toml", text)
    m = managed.load_managed(path)
    assert m.error is None and m.values == {"profile": "billing"} and m.locked == {"profile"}
    assert any(w.startswith(f"{path}:4: width must be a number") for w in m.warnings)
    assert any(w.startswith(f"{path}:5: unknown setting 'shade'") for w in m.warnings)
    assert any(w.startswith(f"{path}:1: cannot lock unknown setting 'colour'") for w in m.warnings)
    assert any("'width' is locked but has no usable value" in w for w in m.warnings)


def test_a_star_locks_every_key_the_file_sets(tmp_path):
    text = 'locked = ["*"]\n[settings]\nedge = "left"\nmode = "compact"\n'
    m = managed.load_managed(write(tmp_path / "m.toml", text))
    assert m.locked == {"edge", "mode"}


def test_storage_and_model_reach_every_command_through_the_environment(tmp_path, monkeypatch):
    mine = tmp_path / "mine"
    text = (f'locked = ["storage"]\n[settings]\nstorage = "{(tmp_path / "it-store").as_posix()}"\n'
            f'model = "{(tmp_path / "it-model").as_posix()}"\n')
    env = {"CALLCUE_DATA_DIR": str(mine), "CALLCUE_MODEL": str(tmp_path / "my-model")}
    m = managed.activate(env, managed.load_managed(write(tmp_path / "m.toml", text)))
    assert env["CALLCUE_DATA_DIR"] == (tmp_path / "it-store").as_posix()  # locked: replaces the user's
    assert env["CALLCUE_MODEL"] == str(tmp_path / "my-model")  # not locked: the user's variable stays
    assert m.exported == {"CALLCUE_DATA_DIR": (tmp_path / "it-store").as_posix()}
    env2: dict[str, str] = {}
    managed.activate(env2, managed.load_managed(tmp_path / "m.toml"))
    assert env2["CALLCUE_MODEL"] == (tmp_path / "it-model").as_posix()  # unset: IT's default fills it


def test_storage_expands_the_users_name(tmp_path, monkeypatch):
    monkeypatch.setenv("AGENT_ID", "a123")
    m = managed.load_managed(write(tmp_path / "m.toml", '[settings]\nstorage = "/srv/callcue/$AGENT_ID"\n'))
    assert m.values["storage"] == "/srv/callcue/a123"


def test_a_locked_storage_moves_the_data_folder_of_a_real_command(tmp_path, monkeypatch):
    store = tmp_path / "it-store"
    path = write(tmp_path / "m.toml", f'locked = ["storage"]\n[settings]\nstorage = "{store.as_posix()}"\n')
    env = dict(os.environ, **{managed.ENV_PATH: str(path)})
    code = ("from callcue import cli, paths, managed; managed.activate(); print(paths.user_data_dir())")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert Path(out.strip()) == store
    assert paths.user_data_dir() != store  # this process is untouched


def test_no_file_means_no_managed_settings(tmp_path, monkeypatch):
    monkeypatch.setenv(managed.ENV_PATH, "")
    assert managed.load_managed() == managed.Managed()
    m = managed.load_managed(tmp_path / "absent.toml")
    assert m.source is None and m.error is None


def test_unreadable_or_not_utf8_files_are_reported(tmp_path):
    folder = tmp_path / "managed.toml"
    folder.mkdir()
    assert "is a folder" in managed.load_managed(folder).error
    latin = tmp_path / "latin.toml"
    latin.write_bytes('[settings]\nprofile = "caf\xe9"\n'.encode("latin-1"))
    assert "not UTF-8" in managed.load_managed(latin).error


def test_the_documented_places(monkeypatch):
    assert managed.default_path("linux") == Path("/etc/callcue/managed.toml")
    assert managed.default_path("darwin") == Path("/Library/Application Support/Callcue/managed.toml")
    monkeypatch.setenv("ProgramData", r"D:\ProgramData")
    assert managed.default_path("win32") == Path(r"D:\ProgramData") / "Callcue" / "managed.toml"
    doc = (Path(__file__).resolve().parents[2] / "docs" / "deploy.md").read_text(encoding="utf-8")
    for where in ("/etc/callcue/managed.toml", r"%ProgramData%\Callcue\managed.toml",
                  "/Library/Application Support/Callcue/managed.toml"):
        assert where in doc
    for key in managed.known_keys():
        assert f"`{key}`" in doc, f"docs/deploy.md does not document the managed key {key!r}"


def test_commands_that_run_the_engine_get_its_playbook_profile_and_model(tmp_path):
    text = ('locked = ["profile", "model"]\n[settings]\nprofile = "billing"\nmodel = "/models/it"\n'
            'playbook = "/it/team.toml"\n')
    m = managed.load_managed(write(tmp_path / "m.toml", text))
    parser = cli.build_parser()
    args = parser.parse_args(["analyze", "call.wav", "--profile", "mine", "--model", "/models/mine"])
    notes = managed.apply_to_args(args, m, {"CALLCUE_PLAYBOOK": "/env/pb.toml"})
    assert (args.profile, args.model, args.playbook) == ("billing", "/models/it", "/env/pb.toml")
    assert len(notes) == 2 and "--profile mine is ignored: IT set profile = 'billing'" in notes[0]
    review = parser.parse_args(["review", "--profile", "mine"])
    assert managed.apply_to_args(review, m, {}) == [] and review.profile == "mine"  # a filter, not a playbook


@USES_CALLS
def test_a_locked_profile_reaches_analyze(tmp_path, monkeypatch, capsys):
    path = write(tmp_path / "m.toml", 'locked = ["profile"]\n[settings]\nprofile = "no-such-team"\n')
    monkeypatch.setenv(managed.ENV_PATH, str(path))
    code = cli.main(["analyze", str(CALLS / "password-reset.wav"), "--transcript", str(CALLS / "password-reset.vtt")])
    assert code == 2 and "no profile 'no-such-team'" in capsys.readouterr().err


def test_the_settings_dialog_shows_what_it_locked(it_file, tmp_path, qtbot, monkeypatch):
    """From the file on disk to the dialog, as the overlay opens it (commands.run.load_settings)."""
    from callcue.commands.run import load_settings
    from callcue.ui import settings_dialog

    monkeypatch.setattr(settings_dialog, "input_devices", lambda: (["Headset mic"], None))
    monkeypatch.setenv("CALLCUE_WIDTH", "600")
    store = user_store(tmp_path, {"width": 500, "profile": "mine"})
    settings, notice = load_settings(store)
    assert notice is None and settings.width == 300 and settings.profile == "billing"
    dialog = settings_dialog.SettingsDialog(settings, store, meters=False)
    qtbot.addWidget(dialog)
    for locked in (dialog.width_box, dialog.profile):
        assert not locked.isEnabled() and locked.toolTip() == settings_dialog.LOCKED_TIP
    assert dialog.edge.isEnabled() and dialog.opacity.isEnabled()
    dialog.accept()
    saved = json.loads(store.path.read_text())
    assert "width" not in saved and "profile" not in saved and "edge" not in saved  # IT's, not the user's
