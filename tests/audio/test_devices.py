"""Input devices: listing, marking monitors, finding the one a user named; `callcue devices` for real."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from callcue.audio.devices import find_input, input_devices, require_inputs
from callcue.errors import CallcueError
from tests.pulse import FakeSD, pulse  # noqa: F401 - a fixture


def fake() -> FakeSD:
    return FakeSD([("Built-in Microphone", 2), ("Monitor of Built-in Audio", 2), ("USB Headset Mic", 1),
                   ("Stereo Mix (Realtek)", 2)], default=0, outputs=["Speakers"])


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "callcue", *args], capture_output=True, text=True, env=env,
                          timeout=60)


def test_lists_inputs_only_and_marks_monitors_and_the_default():
    devices = input_devices(fake())
    assert [d.name for d in devices] == ["Built-in Microphone", "Monitor of Built-in Audio", "USB Headset Mic",
                                         "Stereo Mix (Realtek)"]
    assert [d.loopback for d in devices] == [False, True, False, True]
    assert [d.default for d in devices] == [True, False, False, False]
    assert devices[2].channels == 1 and devices[0].hostapi == "Fake API"


@pytest.mark.parametrize("spec, name", [("2", "USB Headset Mic"), ("usb headset mic", "USB Headset Mic"),
                                        ("monitor", "Monitor of Built-in Audio"), ("Stereo", "Stereo Mix (Realtek)")])
def test_finds_a_device_by_index_name_or_part_of_its_name(spec, name):
    assert find_input(spec, input_devices(fake()), "agent").name == name


def test_a_device_that_does_not_exist_lists_the_ones_that_do():
    with pytest.raises(CallcueError) as err:
        find_input("Jabra", input_devices(fake()), "customer")
    msg = str(err.value)
    assert "--customer 'Jabra': no such input device" in msg
    for name in ("Built-in Microphone", "Monitor of Built-in Audio", "USB Headset Mic", "Stereo Mix (Realtek)"):
        assert name in msg
    assert "Speakers" not in msg  # an output is no choice for capture
    with pytest.raises(CallcueError, match="no input device has index 9"):
        find_input("9", input_devices(fake()), "agent")


def test_an_ambiguous_name_lists_the_candidates():
    with pytest.raises(CallcueError, match="matches several input devices") as err:
        find_input("built-in", input_devices(fake()), "agent")
    assert "USB" not in str(err.value)


def test_no_input_devices_at_all_says_what_to_check():
    with pytest.raises(CallcueError, match="no audio input devices found") as err:
        require_inputs(FakeSD([], outputs=["Speakers"]))
    assert "PulseAudio" in str(err.value) and "callcue devices" in str(err.value)


def test_devices_command_lists_the_pulse_monitors(pulse):  # noqa: F811
    r = cli("devices", env=pulse.env)
    assert r.returncode == 0, r.stderr
    rows = {line.split()[1]: line for line in r.stdout.splitlines() if line[2:5].strip().isdigit()}
    assert "monitor/loopback" in rows["agent_monitor"] and "monitor/loopback" in rows["customer_monitor"]
    assert "microphone/input" in rows["pulse"]
    r = cli("devices", "--json", env=pulse.env)
    listed = {d["name"]: d for d in map(json.loads, r.stdout.splitlines())}
    assert listed["customer_monitor"]["loopback"] is True and listed["pulse"]["loopback"] is False


def no_server_env(tmp_path: Path) -> dict:
    """An environment whose PortAudio finds no sound server (and, on a machine without sound cards, nothing)."""
    import os

    cards = Path("/proc/asound/cards")
    if cards.exists() and "no soundcards" not in cards.read_text():
        pytest.skip("this machine has sound cards: PortAudio lists them whatever the environment")
    home, runtime = tmp_path / "home", tmp_path / "run"
    home.mkdir()
    runtime.mkdir(mode=0o700)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULSE_")}
    env.update(HOME=str(home), XDG_RUNTIME_DIR=str(runtime))
    return env


def test_no_devices_at_all_from_the_command_line(tmp_path):
    env = no_server_env(tmp_path)
    for args in (("devices",), ("listen",), ("listen", "--agent", "mic", "--customer", "monitor")):
        r = cli(*args, env=env)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert r.stderr.startswith("callcue: no audio input devices found") and "Traceback" not in r.stderr
        assert "pactl info" in r.stderr
        assert r.stdout == ""
