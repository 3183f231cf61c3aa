"""`callcue listen` for real: a private PulseAudio server, a call played into two null sinks, the
capture on their monitors, the Korean model; a device lost and found mid-call; bad input. The monitors
are reached two ways: through an .asoundrc's ALSA devices (`agent_monitor`), and as the server's own
sources (`agent.monitor`) with no .asoundrc at all, as on a user's desktop."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.pulse import pulse, pulse_sources, short_call  # noqa: F401 - fixtures
from tests.speech.conftest import korean_model_dir, linked_copy, replace_with_prefix

GUARD_S = 60  # no test waits this long unless something is broken: it only stops a hang


class Listen:
    """A `callcue listen` process with its output read line by line as it comes."""

    def __init__(self, env: dict, *args: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "callcue", "listen", *args], env=env, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.out: queue.Queue[str | None] = queue.Queue()
        self.err: queue.Queue[str | None] = queue.Queue()
        self.events: list[dict] = []
        self.stderr: list[str] = []
        for stream, q in ((self.proc.stdout, self.out), (self.proc.stderr, self.err)):
            threading.Thread(target=self._pump, args=(stream, q), daemon=True).start()

    @staticmethod
    def _pump(stream, q: queue.Queue) -> None:  # noqa: ANN001
        for line in stream:
            q.put(line.rstrip("\n"))
        q.put(None)

    def wait_stderr(self, text: str) -> str:
        while True:
            line = self.err.get(timeout=GUARD_S)
            assert line is not None, f"listen ended before saying {text!r}: {self.stderr}"
            self.stderr.append(line)
            if text in line:
                return line

    def wait_event(self, **fields) -> dict:  # noqa: ANN003
        while True:
            line = self.out.get(timeout=GUARD_S)
            assert line is not None, f"listen ended before an event {fields}: {self.stderr}"
            event = json.loads(line)
            self.events.append(event)
            if all(event.get(k) == v for k, v in fields.items()):
                return event

    def end(self, sig: int = signal.SIGINT) -> int:
        self.proc.send_signal(sig)
        rc = self.proc.wait(GUARD_S)
        for q, into in ((self.out, None), (self.err, self.stderr)):
            while (line := q.get(timeout=GUARD_S)) is not None:
                if into is None:
                    self.events.append(json.loads(line))
                else:
                    into.append(line)
        return rc


MONITORS = ("--agent", "agent_monitor", "--customer", "customer_monitor")
SOURCES = ("--agent", "agent.monitor", "--customer", "customer.monitor")


def matches(got: float, want: float) -> bool:
    return abs(got - want) <= 0.3


@pytest.mark.slow
@pytest.mark.parametrize("pulse, devices", [(True, MONITORS), (False, SOURCES)], indirect=["pulse"],
                         ids=["asoundrc", "pulse-sources"])
def test_listen_hears_a_played_call_as_its_truth(pulse, devices, short_call):  # noqa: F811
    """Play the call's two channels into the two sinks; speech, talk-over and silence match the truth.

    Alignment: the call clock starts when the capture starts, and playback starts some time later
    (the first PortAudio callback alone can take a second or two), so every time is the truth's
    plus one offset. The offset is taken from the first speech event (the agent's greeting) and
    then holds for every other event of both channels: the customer's channel is captured by
    another stream, so matching it with the agent's offset also checks that the two are aligned.
    The tolerance, 0.3 s, covers voice-activity edges (30 ms frames, a 3-of-5 onset) and the two
    paplay processes not starting at the very same instant.

    Line noise plays into both sinks from before the capture starts (see PulseServer.noise_bed).

    With the server's sources (no .asoundrc) both streams go through the one `pulse` device: each channel
    matching the truth on its own party's times says the two were neither swapped nor mixed.
    """
    truth = short_call.truth
    utts = truth["utterances"]
    pulse.noise_bed()
    for _attempt in range(2):
        listen = Listen(pulse.env, *devices, "--json", "--model", str(korean_model_dir()))
        listen.wait_stderr("listening")
        players = [pulse.play(who, path) for who, path in short_call.parts.items()]
        for p in players:
            assert p.wait(GUARD_S) == 0, p.stderr.read()
        assert listen.end(signal.SIGINT) == 0, listen.stderr
        events = listen.events
        speech = sorted((e for e in events if e["type"] == "speech"), key=lambda e: e["start"])
        firsts = {who: next((s["start"] - u["start"] for s in speech if s["who"] == who), None)
                  for who, u in ((w, next(u for u in utts if u["who"] == w)) for w in ("agent", "customer"))}
        # Two paplay processes started one after the other on a loaded machine can start seconds apart;
        # that is the test's players, not the capture, so the playback is tried once more. A capture
        # that misaligns its channels would misalign them again.
        if None not in firsts.values() and abs(firsts["agent"] - firsts["customer"]) <= 0.3:
            break
    assert events[0]["type"] == "call" and events[0]["transcript"] == "vosk"
    assert events[0]["channels"] == ["agent", "customer"] and events[-1]["type"] == "summary"
    offset = speech[0]["start"] - utts[0]["start"]
    assert speech[0]["who"] == utts[0]["who"] == "agent" and 0 <= offset < 10, (speech, listen.stderr)
    for u in utts:
        found = [s for s in speech if s["who"] == u["who"] and matches(s["start"] - offset, u["start"])
                 and matches(s["end"] - offset, u["end"])]
        assert found, f"no speech event for {u} (offset {offset:.2f}); got {speech}"
    assert len(speech) == len(utts)
    talk_over = [e for e in events if e["type"] == "interruption"]
    assert [(e["by"], e["over"]) for e in talk_over] == [(i["by"], i["over"]) for i in truth["interruptions"]]
    for got, want in zip(talk_over, truth["interruptions"], strict=True):
        assert matches(got["at"] - offset, want["at"])
    silences = [e for e in events if e["type"] == "silence"]
    assert len(silences) == len(truth["silences"]) == 1
    for got, want in zip(silences, truth["silences"], strict=True):
        assert matches(got["start"] - offset, want["start"]) and matches(got["end"] - offset, want["end"])
    cues = {e["id"] for e in events if e["type"] == "cue"}
    assert {"let-them-finish", "check-in-silence"} <= cues
    words = [e for e in events if e["type"] == "utterance" and e["words"]]
    assert {e["who"] for e in words} == {"agent", "customer"}  # both channels were transcribed
    assert events[-1]["interruptions"] == 1


def test_a_device_lost_mid_call_comes_back_and_sigterm_ends_the_call(pulse):  # noqa: F811
    listen = Listen(pulse.env, *MONITORS, "--json")
    listen.wait_stderr("listening")
    pulse.pactl("suspend-sink", "agent", "1")  # its monitor stops delivering audio
    lost = listen.wait_event(type="status", kind="device-lost")
    assert lost["who"] == "agent" and "'agent_monitor'" in lost["message"] and "every 2 s" in lost["message"]
    pulse.pactl("suspend-sink", "agent", "0")
    back = listen.wait_event(type="status", kind="device-back")
    assert back["who"] == "agent" and back["at"] > lost["at"]
    assert listen.end(signal.SIGTERM) == 0, listen.stderr
    kinds = [e["type"] for e in listen.events]
    assert kinds[0] == "call" and kinds[-1] == "summary"
    assert "words-based signals" in listen.events[0]["note"] and listen.events[0]["model"] is None
    assert any("device-lost" in line for line in listen.stderr)
    assert not any("Traceback" in line for line in listen.stderr)


def test_a_source_removed_mid_call_is_lost_and_comes_back(pulse_sources):  # noqa: F811
    """Unloading a null sink removes its monitor source; the server moves our stream to another source and
    it goes on, so only asking the server tells. Loading the sink again brings the source back."""
    listen = Listen(pulse_sources.env, *SOURCES, "--json", "--no-save")
    listen.wait_stderr("listening: agent = 'agent.monitor', customer = 'customer.monitor'")
    pulse_sources.remove_sink("customer")
    lost = listen.wait_event(type="status", kind="device-lost")
    assert lost["who"] == "customer" and "'customer.monitor'" in lost["message"], lost
    assert "gone" in lost["message"] or "moved" in lost["message"]
    pulse_sources.add_sink("customer")
    back = listen.wait_event(type="status", kind="device-back")
    assert back["who"] == "customer" and back["at"] > lost["at"]
    assert listen.end(signal.SIGINT) == 0, listen.stderr
    assert [e["kind"] for e in listen.events if e["type"] == "status"] == ["device-lost", "device-back"]
    assert listen.events[-1]["type"] == "summary" and not any("Traceback" in line for line in listen.stderr)


def test_a_source_that_does_not_exist_lists_the_devices_and_the_sources(pulse_sources):  # noqa: F811
    r = run_listen(pulse_sources.env, "--agent", "agent.monitor", "--customer", "softphone")
    assert r.returncode == 2 and r.stdout == "" and "\n" not in r.stderr.strip()
    assert "--customer 'softphone': no such input device" in r.stderr
    assert "'pulse' (input" in r.stderr and "'customer.monitor' (PulseAudio source 'Monitor of customer', " \
           "monitor/loopback, 1 ch, 16000 Hz)" in r.stderr
    r = run_listen(pulse_sources.env, "--agent", "Monitor of", "--customer", "customer.monitor")
    assert r.returncode == 2 and "--agent 'Monitor of': matches several input devices" in r.stderr
    assert "'agent.monitor'" in r.stderr and "'customer.monitor'" in r.stderr and "Traceback" not in r.stderr


def test_a_closed_terminal_ends_the_call_as_finished(pulse):  # noqa: F811
    """SIGHUP (the terminal closed) finishes a call as Ctrl-C does: its summary made, its session finished,
    with who took it."""
    from callcue.store import SessionStore

    listen = Listen(pulse.env, *MONITORS, "--json", "--agent-name", "kim")
    listen.wait_stderr("listening")
    assert listen.end(signal.SIGHUP) == 0, listen.stderr
    assert listen.events[-1]["type"] == "summary"
    (saved,) = SessionStore(Path(pulse.env["CALLCUE_DATA_DIR"]) / "sessions.db").list()
    assert saved.state == "finished" and saved.agent == "kim"


def run_listen(env: dict, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "callcue", "listen", *args], env=env, capture_output=True,
                          text=True, timeout=GUARD_S)


def test_a_device_that_does_not_exist_lists_the_ones_that_do(pulse):  # noqa: F811
    r = run_listen(pulse.env, "--agent", "agent_monitor", "--customer", "softphone")
    assert r.returncode == 2 and r.stdout == ""
    assert "--customer 'softphone': no such input device" in r.stderr
    assert "'agent_monitor' (monitor/loopback" in r.stderr and "'customer_monitor'" in r.stderr
    assert "Traceback" not in r.stderr


def test_pulseaudio_not_running_means_no_devices_and_says_what_to_check(pulse):  # noqa: F811
    pulse.stop()  # the .asoundrc still names the devices, but PortAudio drops what it cannot open
    r = run_listen(pulse.env, *MONITORS)
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith("callcue: no audio input devices found") and "pactl info" in r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""


@pytest.fixture
def bad_models(tmp_path):
    """A missing model, a damaged one (its acoustic model cut short) and one made for 44.1 kHz audio."""
    damaged = linked_copy(korean_model_dir(), tmp_path / "damaged")
    replace_with_prefix(damaged / "am" / "final.mdl", 4096)
    other_rate = linked_copy(korean_model_dir(), tmp_path / "rate44k")
    (other_rate / "conf" / "mfcc.conf").unlink()
    (other_rate / "conf" / "mfcc.conf").write_text("--use-energy=false\n--sample-frequency=44100\n")
    return {
        "missing": (tmp_path / "no-such-model", "no such folder or installed model"),
        "damaged": (damaged, "failed to load"),
        "other rate": (other_rate, "made for 44100 Hz audio"),
    }


@pytest.mark.parametrize("case", ["missing", "damaged", "other rate"])
def test_a_bad_model_says_how_to_get_a_good_one(pulse, bad_models, case):  # noqa: F811
    path, words = bad_models[case]
    r = run_listen(pulse.env, *MONITORS, "--model", str(path))
    assert r.returncode == 2, r.stderr
    line = r.stderr.strip()
    assert words in line and "callcue models install" in line, line
    assert "Traceback" not in line and "\n" not in line and r.stdout == ""
    if case == "other rate":  # `analyze` refuses the same model the same way
        from tests.conftest import calls

        a = subprocess.run([sys.executable, "-m", "callcue", "analyze", str(calls() / "password-reset.wav"),
                            "--model", str(path)], env=pulse.env, capture_output=True, text=True, timeout=GUARD_S)
        assert a.returncode == 2 and words in a.stderr and "Traceback" not in a.stderr
