"""Input devices: listing, marking monitors, finding the one a user named; PulseAudio/PipeWire sources;
`callcue devices` for real."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from callcue.audio.devices import choice_names, default_input, find_input, input_devices, require_inputs
from callcue.audio.pulse import PulseSource
from callcue.errors import CallcueError
from tests.pulse import FakeSD, pulse, pulse_sources  # noqa: F401 - fixtures


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


# --------------------------------------------------------------------------- PulseAudio/PipeWire sources


def sources() -> list[PulseSource]:
    return [PulseSource("alsa_input.usb-Jabra.mono-fallback", "Jabra Evolve 40 Mono", 1, 16000.0, False, True, 3),
            PulseSource("alsa_output.pci.analog-stereo.monitor", "Monitor of Built-in Audio Analog Stereo", 2,
                        48000.0, True, False, 4),
            PulseSource("alsa_output.usb-Jabra.analog-stereo.monitor", "Monitor of Jabra Evolve 40", 2, 48000.0,
                        True, False, 5)]


def desktop() -> FakeSD:
    """PortAudio on a Linux desktop: the sound server is two ALSA devices, and nothing tells its sources apart."""
    return FakeSD([("pulse", 32), ("default", 32)], default=1)


def test_a_sound_servers_sources_are_listed_after_portaudios_devices():
    devices = input_devices(desktop(), sources())
    assert [(d.name, d.source is not None) for d in devices] == [
        ("pulse", False), ("default", False), ("alsa_input.usb-Jabra.mono-fallback", True),
        ("alsa_output.pci.analog-stereo.monitor", True), ("alsa_output.usb-Jabra.analog-stereo.monitor", True)]
    jabra, builtin = devices[2], devices[3]
    assert jabra.index == builtin.index == 0  # recorded through the `pulse` device
    assert jabra.key != builtin.key
    assert [d.loopback for d in devices] == [False, False, False, True, True]
    assert jabra.default and jabra.description == "Jabra Evolve 40 Mono" and jabra.channels == 1
    assert builtin.rate == 48000.0 and builtin.hostapi == "PulseAudio"
    assert default_input(devices).name == "default"  # a mono call takes the system's default, as before


def test_without_a_pulse_device_the_server_is_not_asked(monkeypatch):
    from callcue.audio import pulse as server

    monkeypatch.setattr(server, "list_sources", lambda: pytest.fail("pactl asked without a `pulse` device"))
    assert [d.name for d in input_devices(fake())][:1] == ["Built-in Microphone"]


@pytest.mark.parametrize("spec, name", [
    ("alsa_output.pci.analog-stereo.monitor", "alsa_output.pci.analog-stereo.monitor"),  # its name
    ("monitor of built-in audio analog stereo", "alsa_output.pci.analog-stereo.monitor"),  # its description
    ("Built-in", "alsa_output.pci.analog-stereo.monitor"),  # a part of its description
    ("Evolve 40 Mono", "alsa_input.usb-Jabra.mono-fallback"),
    ("pulse", "pulse"), ("0", "pulse")])  # PortAudio's own devices as before; an index is never a source
def test_finds_a_source_by_name_description_or_a_part(spec, name):
    assert find_input(spec, input_devices(desktop(), sources()), "customer").name == name


def test_an_ambiguous_source_says_which_ones_match():
    with pytest.raises(CallcueError) as err:
        find_input("jabra", input_devices(desktop(), sources()), "agent")
    msg = str(err.value)
    assert msg.startswith("--agent 'jabra': matches several input devices")
    assert "'alsa_input.usb-Jabra.mono-fallback' (PulseAudio source 'Jabra Evolve 40 Mono'" in msg
    assert "'alsa_output.usb-Jabra.analog-stereo.monitor'" in msg and "Built-in" not in msg and "\n" not in msg


def test_no_match_lists_portaudios_devices_and_the_sources():
    with pytest.raises(CallcueError) as err:
        find_input("softphone", input_devices(desktop(), sources()), "customer")
    msg = str(err.value)
    assert "--customer 'softphone': no such input device" in msg and "\n" not in msg
    assert "0 'pulse' (input" in msg and "1 'default' (input" in msg
    assert "'alsa_output.pci.analog-stereo.monitor' (PulseAudio source 'Monitor of Built-in Audio Analog " \
           "Stereo', monitor/loopback, 2 ch, 48000 Hz)" in msg
    assert "'alsa_input.usb-Jabra.mono-fallback' (PulseAudio source 'Jabra Evolve 40 Mono', input, 1 ch, " \
           "16000 Hz, default)" in msg


def test_two_sources_are_two_routes_though_both_go_through_pulse(monkeypatch):
    from callcue.audio import pulse as server
    from callcue.audio.capture import plan_routes

    monkeypatch.setattr(server, "list_sources", sources)
    routes = plan_routes("Jabra Evolve 40 Mono", "Monitor of Built-in", sd=desktop())
    assert [(r.device.name, r.channels) for r in routes] == [
        ("alsa_input.usb-Jabra.mono-fallback", {"agent": 0}), ("alsa_output.pci.analog-stereo.monitor",
                                                              {"customer": 0})]
    stereo = plan_routes("Monitor of Built-in", "Monitor of Built-in", sd=desktop())
    assert [r.channels for r in stereo] == [{"agent": 0, "customer": 1}]  # one stereo source: left and right


def test_a_menu_shows_descriptions_and_finds_them_again():
    same = sources() + [PulseSource("other.monitor", "Monitor of Jabra Evolve 40", 2, 48000.0, True)]
    devices = input_devices(desktop(), same)
    names = choice_names(devices)
    assert names == ["pulse", "default", "Jabra Evolve 40 Mono", "Monitor of Built-in Audio Analog Stereo",
                     "alsa_output.usb-Jabra.analog-stereo.monitor", "other.monitor"]  # same words: the names
    assert [find_input(n, devices).key for n in names] == [d.key for d in devices]


# --------------------------------------------------------------------------- for real: a server without .asoundrc


def rows(text: str) -> dict[str, str]:
    """The lines of `callcue devices` by their first name-like word (after the index or the default's star)."""
    out = {}
    for line in text.splitlines():
        words = line[2:].split()
        if words and words[0].isdigit() and len(words) > 1:
            out[words[1]] = line
        elif words and "." in words[0] or words[:1] == ["mic"]:
            out[words[0]] = line
    return out


def test_devices_command_lists_the_servers_sources_without_an_asoundrc(pulse_sources):  # noqa: F811
    pulse_sources.pactl("load-module", "module-null-source", "source_name=mic", "description=Desk-Mic")
    pulse_sources.pactl("set-default-source", "customer.monitor")
    r = cli("devices", env=pulse_sources.env)
    assert r.returncode == 0, r.stderr
    listed = rows(r.stdout)
    assert "agent_monitor" not in listed and "microphone/input" in listed["pulse"]  # no .asoundrc here
    assert "PulseAudio/PipeWire sources" in r.stdout
    for name in ("agent.monitor", "customer.monitor"):
        assert f"Monitor of {name.split('.')[0]}" in listed[name] and "monitor/loopback" in listed[name]
    assert "Desk-Mic" in listed["mic"] and "microphone/input" in listed["mic"]
    assert listed["customer.monitor"].startswith("*") and not listed["agent.monitor"].startswith("*")
    assert "the sound server's default source" in r.stdout
    r = cli("devices", "--json", env=pulse_sources.env)
    got = {d["name"]: d for d in map(json.loads, r.stdout.splitlines())}
    assert got["agent.monitor"] == {"index": None, "name": "agent.monitor", "description": "Monitor of agent",
                                    "channels": 1, "rate": 16000.0, "hostapi": "PulseAudio", "default": False,
                                    "loopback": True, "source": True}
    assert got["customer.monitor"]["default"] and not got["mic"]["loopback"] and got["mic"]["channels"] == 2
    assert got["pulse"]["source"] is False and got["pulse"]["index"] is not None


def old_pactl(tmp_path: Path, env: dict) -> dict:
    """A pactl that knows no --format, like pactl 15 and before: the plain listing must do."""
    import shutil

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "pactl"
    script.write_text(f"""#!/bin/sh
case "$*" in *--format*) echo "pactl: unrecognized option '--format=json'" >&2; exit 1;; esac
exec {shutil.which("pactl")} "$@"
""")
    script.chmod(0o755)
    return dict(env, PATH=f"{bin_dir}:{env.get('PATH', '')}")


def test_devices_from_a_pactl_without_json(pulse_sources, tmp_path):  # noqa: F811
    env = old_pactl(tmp_path, pulse_sources.env)
    assert subprocess.run(["pactl", "--format=json", "info"], env=env, capture_output=True).returncode == 1
    r = cli("devices", "--json", env=env)
    assert r.returncode == 0, r.stderr
    got = {d["name"]: d for d in map(json.loads, r.stdout.splitlines())}
    assert got["customer.monitor"] == {"index": None, "name": "customer.monitor", "description":
                                       "Monitor of customer", "channels": 1, "rate": 16000.0,
                                       "hostapi": "PulseAudio", "default": False, "loopback": True, "source": True}
    assert got["agent.monitor"]["default"] and got["agent.monitor"]["loopback"]


def test_without_pactl_the_list_is_portaudios(pulse_sources, tmp_path):  # noqa: F811
    empty = tmp_path / "empty"
    empty.mkdir()
    r = cli("devices", "--json", env=dict(pulse_sources.env, PATH=str(empty)))
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert [d["name"] for d in map(json.loads, r.stdout.splitlines())] == ["pulse", "default"]
