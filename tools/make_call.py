#!/usr/bin/env python3
"""Synthesize a two-party support call with exact ground truth.

A call script (JSON) lists turns; each turn is spoken by espeak-ng in the
speaker's voice and mood, placed on that speaker's channel, and timed by
`gap` (seconds after the previous turn ends; negative = starts before it
ends, i.e. overlapping speech), or by `during` (index of a turn) and
`offset` (seconds into it) for a backchannel such as "mm-hmm".  Output:

  NAME.wav         stereo, 16 kHz, 16-bit: left = agent, right = customer
  NAME.truth.json  every utterance's true start/end, the interruptions,
                   the silences, and each utterance's mood (how the voice
                   sounds) and `frustrated` (what the speaker feels: the
                   mood annoyed/angry, unless the turn says otherwise)
  NAME.vtt         the exact transcript as WebVTT, one cue per utterance,
                   speaker in a voice tag: <v agent> / <v customer>

Needs espeak-ng and Python with numpy + soundfile.

  make_call.py SCRIPT.json [SCRIPT.json ...] OUTDIR [--noise-db -55] [--bleed-db none]

The tests make their calls with it (tests/data/calls/*.json, once per test session: see
tests/conftest.py). It is ../shared/tools/make_call.py, which made the shared calls, brought into the
project so that a clone without ../shared can make them: with the same espeak-ng the output is the
same bytes as ../shared/calls.
"""
import argparse
import json
import os
import subprocess
import tempfile

import numpy as np
import soundfile as sf

RATE = 16000
# mood -> espeak-ng speed (wpm), pitch (0-99), amplitude (0-200)
MOODS = {
    "calm": (155, 45, 90),
    "warm": (150, 50, 90),
    "annoyed": (180, 62, 130),
    "angry": (205, 78, 180),
    "tired": (130, 30, 70),
}
SILENCE_MIN_S = 2.0        # silences shorter than this are ordinary turn gaps
OVERLAP_MIN_S = 0.5        # overlaps shorter than this are not interruptions
BACKCHANNEL_MAX_WORDS = 2  # "mm-hmm", "okay", "right" over the other: not an interruption


def speak(text, voice, mood):
    speed, pitch, amp = MOODS[mood]
    with tempfile.NamedTemporaryFile(suffix=".wav") as tmp:
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch),
                        "-a", str(amp), "-w", tmp.name, text], check=True)
        audio, rate = sf.read(tmp.name, dtype="float32")
    if audio.ndim > 1:
        audio = audio.mean(axis=1)
    # resample (espeak-ng speaks at 22050 Hz) by linear interpolation: fine for test speech
    n_out = int(round(len(audio) * RATE / rate))
    audio = np.interp(np.linspace(0, len(audio) - 1, n_out), np.arange(len(audio)), audio).astype(np.float32)
    # trim leading/trailing silence so the utterance bounds are the speech bounds
    loud = np.flatnonzero(np.abs(audio) > 0.01)
    return audio[loud[0]: loud[-1] + 1] if len(loud) else audio


def build(script, noise_db, bleed_db, seed):
    voices = script["voices"]
    placed, lead_in = [], float(script.get("lead_in", 0.8))
    prev = None                      # the last turn placed by `gap` (backchannels don't count)
    own_end = {"agent": 0.0, "customer": 0.0}
    for turn in script["turns"]:
        who, mood = turn["who"], turn.get("mood", "calm")
        audio = speak(turn["text"], voices[who], mood)
        if "during" in turn:         # a backchannel: `offset` s into turn number `during`
            start = placed[turn["during"]]["start"] + float(turn.get("offset", 1.0))
        elif prev is None:
            start = lead_in
        else:                        # `gap` s after the previous turn ends; negative = overlap
            start = max(0.0, prev["end"] + float(turn.get("gap", 0.6)))
        start = max(start, own_end[who] + 0.15)  # nobody overlaps themselves
        end = start + len(audio) / RATE
        # frustrated: what the customer feels, which the voice (mood) may or may not show
        frustrated = bool(turn.get("frustrated", mood in ("annoyed", "angry")))
        p = dict(who=who, start=round(start, 3), end=round(end, 3), text=turn["text"], mood=mood,
                 frustrated=frustrated, audio=audio)
        placed.append(p)
        own_end[who] = end
        if "during" not in turn:
            prev = p
    total = max(p["end"] for p in placed) + float(script.get("tail", 1.0))
    n = int(total * RATE) + 1
    chans = {"agent": np.zeros(n, np.float32), "customer": np.zeros(n, np.float32)}
    for p in placed:
        i = int(p["start"] * RATE)
        chans[p["who"]][i: i + len(p["audio"])] += p["audio"]
    rng = np.random.default_rng(seed)
    if bleed_db is not None:  # customer leaks into the agent's mic (speaker phone, open headset)
        g = 10 ** (bleed_db / 20)
        chans["agent"] = chans["agent"] + g * np.concatenate([np.zeros(80, np.float32), chans["customer"][:-80]])
    for k in chans:
        chans[k] += (10 ** (noise_db / 20)) * rng.standard_normal(n).astype(np.float32)
    stereo = np.stack([chans["agent"], chans["customer"]], axis=1)
    peak = np.abs(stereo).max()
    if peak > 0.98:
        stereo *= 0.98 / peak
    return placed, stereo, total


def truth(placed, total):
    utts = [{k: p[k] for k in ("who", "start", "end", "text", "mood", "frustrated")} for p in placed]
    interruptions = []
    for p in utts:
        words = len(p["text"].split())
        for q in utts:
            if q is p or q["who"] == p["who"]:
                continue
            # p starts while q is talking, and the overlap is long enough to be talk-over
            if q["start"] < p["start"] < q["end"]:
                overlap = min(p["end"], q["end"]) - p["start"]
                if overlap >= OVERLAP_MIN_S and words > BACKCHANNEL_MAX_WORDS:
                    interruptions.append(dict(at=p["start"], by=p["who"], over=q["who"],
                                              overlap_s=round(overlap, 3)))
    # silences: gaps where neither party speaks
    spans = sorted((u["start"], u["end"]) for u in utts)
    silences, cur_end = [], 0.0
    for s, e in spans:
        if s - cur_end >= SILENCE_MIN_S:
            silences.append(dict(start=round(cur_end, 3), end=round(s, 3), duration_s=round(s - cur_end, 3)))
        cur_end = max(cur_end, e)
    if total - cur_end >= SILENCE_MIN_S:
        silences.append(dict(start=round(cur_end, 3), end=round(total, 3), duration_s=round(total - cur_end, 3)))
    return dict(duration_s=round(total, 3), channels=["agent", "customer"], utterances=utts,
                interruptions=interruptions, silences=silences,
                definitions=dict(silence_min_s=SILENCE_MIN_S, overlap_min_s=OVERLAP_MIN_S,
                                 backchannel_max_words=BACKCHANNEL_MAX_WORDS))


def vtt_time(t):
    h, rem = divmod(t, 3600)
    m, sec = divmod(rem, 60)
    return f"{int(h):02d}:{int(m):02d}:{sec:06.3f}"


def write_vtt(path, utterances):
    with open(path, "w") as f:
        f.write("WEBVTT\n")
        for u in sorted(utterances, key=lambda u: u["start"]):
            f.write(f"\n{vtt_time(u['start'])} --> {vtt_time(u['end'])}\n<v {u['who']}>{u['text']}\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scripts", nargs="+", metavar="SCRIPT.json")
    ap.add_argument("outdir")
    ap.add_argument("--noise-db", type=float, default=-55.0)
    ap.add_argument("--bleed-db", type=float, default=None)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    for path in a.scripts:
        make(path, a.outdir, a.noise_db, a.bleed_db, a.seed)


def make(path, outdir, noise_db=-55.0, bleed_db=None, seed=7):
    """One call from the script at `path`: NAME.wav, NAME.truth.json and NAME.vtt in `outdir`."""
    with open(path) as f:
        script = json.load(f)
    name = os.path.splitext(os.path.basename(path))[0]
    placed, stereo, total = build(script, noise_db, bleed_db, seed)
    os.makedirs(outdir, exist_ok=True)
    sf.write(os.path.join(outdir, name + ".wav"), stereo, RATE, subtype="PCM_16")
    t = truth(placed, total)
    t["script"] = script.get("title", name)
    with open(os.path.join(outdir, name + ".truth.json"), "w") as f:
        json.dump(t, f, indent=1)
    write_vtt(os.path.join(outdir, name + ".vtt"), t["utterances"])
    print(f"{name}: {total:.1f} s, {len(t['utterances'])} utterances, "
          f"{len(t['interruptions'])} interruptions, {len(t['silences'])} silences")


if __name__ == "__main__":
    main()
