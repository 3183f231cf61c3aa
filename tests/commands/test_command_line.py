"""The command line as a newcomer meets it: the README's commands as written, help for every command,
one meaning per option, exit codes as documented (0 ok, 1 failed check, 2 bad input)."""

from __future__ import annotations

import argparse
import os
import re
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from callcue import cli
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def run(*args, cwd=None, env=None):
    return subprocess.run([sys.executable, "-m", "callcue", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=120)


def subcommands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()):
    """(path, parser, help in the parent's list) of every subcommand, nested ones too."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, sub in action.choices.items():
                yield (*prefix, name), sub, helps.get(name)
                yield from subcommands(sub, (*prefix, name))


# --------------------------------------------------------------------------- the README


def test_the_readme_says_how_to_put_callcue_on_the_path():
    assert ".venv/bin/callcue" in README and ". .venv/bin/activate" in README


def readme_examples() -> list[str]:
    """The commands of the README's block that follows "the commands below are written for that"."""
    after = README.split("the commands below are written for that:", 1)
    assert len(after) == 2, "the README shows no example commands after its PATH note"
    block = re.match(r"\n\n((?:    .*\n)+)", after[1])
    assert block, "the PATH note is not followed by an indented block of commands"
    lines = [line.strip() for line in block.group(1).splitlines()]
    assert lines[0] == ". .venv/bin/activate"
    return [line for line in lines[1:] if line.startswith("callcue ")]


def test_the_readme_examples_run_as_written_from_the_project_folder():
    examples = readme_examples()
    assert len(examples) >= 3
    bin_dir = Path(sys.executable).parent  # what `. .venv/bin/activate` puts first on PATH
    assert (bin_dir / "callcue").exists()
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    for line in examples:
        r = subprocess.run(shlex.split(line), cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, (line, r.stderr)
        assert r.stdout.strip() and "Traceback" not in r.stderr, line


def test_the_readme_names_every_command_and_action():
    table = README.split("## Commands", 1)[1].lstrip("\n").split("\n\n", 1)[0]
    rows = {}
    for line in table.splitlines():
        for name in re.findall(r"`callcue (\w[\w-]*)", line.split(" | ", 1)[0]):  # the row's first column
            rows.setdefault(name, line)
    for path, _, _ in subcommands(cli.build_parser()):
        if path == ("run",):
            assert "| `callcue` |" in table  # `callcue` alone is `callcue run`
        elif len(path) == 1:
            assert path[0] in rows, path
        else:
            row = rows.get(path[0], "")
            assert re.search(rf"(`|\||\b{path[0]} ){path[1]}\b", row), (path, row)


def test_the_readme_documents_the_exit_codes():
    section = README.split("### Exit codes", 1)[1].split("\n## ", 1)[0]
    codes = re.findall(r"^\| (\d+) \|", section, flags=re.M)
    assert codes[:3] == ["0", "1", "2"], section


def test_every_command_and_action_has_help_and_a_description():
    missing = [" ".join(path) for path, sub, help_ in subcommands(cli.build_parser())
               if not help_ or not sub.description]
    assert missing == []
    for path, sub, _ in subcommands(cli.build_parser()):
        for action in sub._actions:
            if action.option_strings or isinstance(action, argparse._SubParsersAction):
                continue
            assert action.help, (path, action.dest)  # positional arguments say what they are


# --------------------------------------------------------------------------- one meaning per option


def test_analyze_takes_the_agents_name_as_agent_name_and_still_agent_with_a_note(capsys):
    parser = cli.build_parser()
    args = parser.parse_args(["analyze", "call.wav", "--save", "--agent-name", "kim"])
    assert args.agent == "kim" and capsys.readouterr().err == ""
    args = parser.parse_args(["analyze", "call.wav", "--save", "--agent", "kim"])
    err = capsys.readouterr().err
    assert args.agent == "kim" and "deprecated" in err and "--agent-name" in err and err.count("\n") == 1
    assert "--agent-name" in parser._subparsers._group_actions[0].choices["analyze"].format_help()
    listen = parser.parse_args(["listen", "--agent", "3", "--agent-name", "kim"])
    assert listen.agent == "3" and listen.agent_name == "kim"  # a device, and a name


def test_a_folder_without_save_says_what_it_needs(tmp_path):
    r = run("analyze", tmp_path)
    assert r.returncode == 2 and r.stdout == "" and r.stderr.count("\n") == 1
    assert "is a folder" in r.stderr and "--save" in r.stderr and "Traceback" not in r.stderr


# --------------------------------------------------------------------------- exit codes and messages


@pytest.fixture
def no_devices(monkeypatch):
    monkeypatch.setattr("callcue.audio.devices.input_devices", lambda *a, **k: [])
    monkeypatch.setattr("callcue.audio.pulse.list_sources", lambda *a, **k: [])


@pytest.mark.parametrize("args", [["devices"], ["devices", "--json"]])
def test_devices_without_devices_exits_2_and_does_not_send_you_to_itself(no_devices, capsys, args):
    assert cli.main(args) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith("callcue: no audio input devices found")
    assert "pactl info" in err and "callcue devices" not in err


def test_devices_that_cannot_be_listed_do_not_send_you_to_itself(monkeypatch, capsys):
    from callcue.audio.devices import NO_SERVER_HINT
    from callcue.errors import CallcueError

    def fail(*a, **k):
        raise CallcueError(f"cannot list the audio devices (PortAudio error); {NO_SERVER_HINT}")

    monkeypatch.setattr("callcue.audio.devices.input_devices", fail)
    assert cli.main(["devices", "--json"]) == 2
    err = capsys.readouterr().err
    assert "cannot list" in err and "pactl info" in err and "callcue devices" not in err


def test_a_taken_chat_port_says_how_to_choose_another_for_the_overlay_and_the_demo_too():
    from callcue.chat.server import ChatServer
    from callcue.errors import CallcueError

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(CallcueError) as err:
            ChatServer(port=taken.getsockname()[1], token="t" * 32)
    msg = str(err.value)
    assert "Settings, Panel, Chat port" in msg
    demo = cli.build_parser()._subparsers._group_actions[0].choices["demo"]
    assert "--port" not in demo.format_help()  # so the message may name --port only for `chat serve`
    assert re.findall(r"\S*\s--port", msg) == ["serve --port"], msg
