"""Speech for a live call: the recognizer that leaves silences undecoded and renews itself under the call's
memory budget (ThriftyRecognizer), the budget's default, and which model a call uses when none is named.

The pipeline that runs these on a call is callcue.calls.live; a recording's decode is callcue.calls.offline.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np

from callcue.engine.clock import RATE
from callcue.speech.heap import MemoryBudget, give_back_memory

RENEW_S = 10.0  # without a memory budget, a recognizer this old (call time) is replaced at a line's end
PAUSE_S = 0.3  # ... or at a pause this long, when Vosk has not ended a line by then
SHORT_PAUSE_S = 0.15  # ... and this long when the memory budget is nearly spent (a gap between words)
CACHE_MB = 150  # memory the recognizers of a live call may add for their caches, on glibc's malloc
LEAN_CACHE_MB = 200  # ... and on jemalloc (callcue.allocator): a call starts ~70 MB leaner, the caches get it
LEAST_S = 2.0  # under a memory budget, a recognizer that has decoded less than this is not replaced
IDLE_S = 0.8  # after this long without speech, a channel is not decoded until speech is heard again
PREROLL_S = 0.3  # ... and then it is decoded from this long before that speech (a soft onset is heard late)


class _VoiceWatch:
    """How long the channel has been without speech (webrtcvad, 30 ms frames), and whether the
    audio just fed held any."""

    FRAME = 480  # 30 ms at 16 kHz

    def __init__(self) -> None:
        import webrtcvad

        self.vad = webrtcvad.Vad(1)  # the second least aggressive: silence must be clear silence
        self.quiet = 0  # samples without speech in a row, up to the last whole frame
        self.heard = False
        self._rest = np.zeros(0, dtype=np.int16)

    def feed(self, pcm: np.ndarray) -> None:
        buf = np.concatenate([self._rest, pcm]) if self._rest.size else pcm
        n = len(buf) // self.FRAME * self.FRAME
        self.heard = False
        for i in range(0, n, self.FRAME):
            if self.vad.is_speech(buf[i:i + self.FRAME].tobytes(), RATE):
                self.quiet, self.heard = 0, True
            else:
                self.quiet += self.FRAME
        self._rest = buf[n:].copy()


def default_cache_mb() -> int:
    """The recognizers' cache budget when the settings name none (speech_cache_mb): the one that keeps
    a two-channel call with the Korean test model within 800 MB on the allocator this process runs on."""
    from callcue.allocator import active

    return LEAN_CACHE_MB if active() == "jemalloc" else CACHE_MB


# --------------------------------------------------------------------------- models


def no_model_note() -> str:
    from callcue.speech.models import install_hint

    return ("no speech model: words-based signals (sentiment, phrases, commitments) are absent; "
            f"{install_hint()}")


# --------------------------------------------------------------------------- recognizers


class ThriftyRecognizer:
    """A channel's streaming recognizer that leaves long silences undecoded and is replaced by a fresh
    one, at the end of a line, when the call's memory budget (or, where memory cannot be read, its
    age) says so.

    Silence: once webrtcvad has heard no speech for `idle_s` (the line is over: Vosk's own rules
    end one after 0.5 to 2 s of silence, and a line it has not ended is ended here), the channel's audio
    is only kept, `preroll_s` of it, until speech is heard again; decoding resumes from there and
    Vosk's clock skips the gap (StreamingRecognizer.skip_to), no line spans it. In a two-party
    call each side is silent a third to a half of the time, and Vosk decodes silence at about
    two-thirds of the cost of speech. Silence does not grow a recognizer's memory (below). Measured
    (bench/bench_live.py, billing-dispute, 6-7 runs each): idle after 1 s with 0.5 s of pre-roll
    left 33% / 48% of the two sides undecoded; after 0.8 s with 0.3 s, 37% / 52%, and the worst
    channel's RTF went from 0.23-0.27 to 0.21-0.25. A line is then ended by 0.8 s of silence,
    still longer than the 0.5 s of Vosk's first rule.

    Memory: a Vosk recognizer caches the part of the decoding graph it has visited (the lookahead
    composition of HCLr and Gr) and never lets go: with the Korean model one grows by about 60 MB
    in its first 10 s of speech and 2 MB a second of speech after that (none in silence), on glibc's
    malloc (on jemalloc, callcue.allocator, the process starts leaner and the budget is larger).
    Replacing it (and giving the freed heap back to the system) is the only way to get that
    memory back, and a new one decodes at two to three times the cost of a warm one until its
    cache has filled. So a recognizer lives as long as the budget allows (speech.heap.MemoryBudget):
    near the limit one whose channel is quiet is replaced there and then; nearer, one that is
    speaking is replaced at its line's end (Vosk's endpoint, or the first pause of SHORT_PAUSE_S);
    at the limit but for a few MB its line is cut where it is. With no budget (analyze, which
    must give the same words every time) or no way to read memory, it is replaced once `renew_s`
    old (call time), in a silence or at a line's end or at a pause of `pause_s`.
    Measured with bench/bench_live.py (two channels, 87 s, Korean model, silence decoded, by
    age): every 20 s, RTF 0.15-0.18 but peak RSS 820-880 MB; every 10 s, 0.19-0.26 and 715-790 MB.
    A renewal loses nothing else that a silence has not already reset: Vosk's FinalResult, which
    ends the line at each silence, rebuilds the feature pipeline (speaker adaptation included); only
    a renewal at an endpoint or a pause within speech loses an adaptation built up since. Tried, and
    not done: other malloc arena counts, one BLAS thread, a core per thread, decoding in bigger
    pieces, one lock so the channels decode in turn (no change); renewing the recognizer that has
    decoded the most first (no better); lending a quiet channel's recognizer to the side that speaks
    next (after FinalResult it holds nothing of its speaker: the same audio gives the same words):
    no better, as the budget holds about one warm cache, not two, and the next side mostly starts
    before the last one's silence is `idle_s` long; holding a pause undecoded until it is known to
    end the line (then decoding 0.3 s of it) or not (then all of it): 41% / 55% undecoded but the
    RTF within noise, and captions after a pause came up to 0.9 s late (p99, was 0.33 s) while the
    held pause was decoded.
    """

    def __init__(self, make: Callable[[], Any], renew_s: float | None = None, pause_s: float = PAUSE_S,
                 idle_s: float | None = IDLE_S, preroll_s: float = PREROLL_S,
                 budget: MemoryBudget | None = None) -> None:
        self.make = make
        self.renew = int((RENEW_S if renew_s is None else renew_s) * RATE)
        self.budget = budget if budget is not None and budget.known else None
        # the pause at which a line is cut for a renewal: under a budget memory is short, cut sooner
        self.cut_pause = int((SHORT_PAUSE_S if self.budget is not None else pause_s) * RATE)
        self.least = int(LEAST_S * RATE)
        self.idle_after = None if idle_s is None else int(idle_s * RATE)
        self.preroll = int(preroll_s * RATE)
        self.rec = make()
        self.age = 0  # call samples since this recognizer was made, decoded or not
        self.decoded = 0  # ... and of those, the ones it decoded (none: a fresh one)
        self.renewals = 0
        self.idle = False  # in a silence, not decoding
        self.skipped = 0  # samples left undecoded
        self._watch = _VoiceWatch()
        self._held: deque[tuple[np.ndarray, int]] = deque()  # the latest audio of a silence

    def accept(self, pcm: np.ndarray, first_sample: int) -> list:
        pcm = np.asarray(pcm, dtype=np.int16)
        self.age += len(pcm)
        self._watch.feed(pcm)
        if self.idle:
            self._hold(pcm, first_sample)
            if not self._watch.heard:
                self.skipped += len(pcm)
                if self._spent(quiet=True):
                    self._renew()  # grown old in the silence: its memory back now, not when speech is
                return []
            pcm, first_sample = self._resume()
        self.decoded += len(pcm)
        out = self.rec.accept(pcm, first_sample)
        if self.idle_after is not None and self._watch.quiet >= self.idle_after:
            return out + self._go_idle()
        if not self._spent(quiet=False):
            return out
        ended = self.rec.ended
        critical = self.budget is not None and self.budget.critical()
        if not ended and (self._watch.quiet >= self.cut_pause or critical):
            out += self.rec.flush()  # the line so far, as a final line: it ends in a pause
            ended = True
        if ended:
            left = self.rec.take_pending()  # the last few ms it took but had not decoded yet
            self._renew()
            if left is not None:
                out += self.rec.accept(*left)
        return out

    def _spent(self, quiet: bool) -> bool:
        """Is it time this recognizer gave its memory back (now when its channel is quiet, else at
        the line's end)?"""
        if not self.decoded:
            return False  # a fresh one has nothing to give back
        if self.budget is not None:
            if self.decoded < self.least:
                return False  # what it holds is little: the memory is not its cache, replacing it only costs CPU
            return self.budget.pressed() if quiet else self.budget.over()
        return self.age >= self.renew

    def _renew(self) -> None:
        self.rec = None  # free the old one (and its cache) before making the new one
        self.rec = self.make()
        self.age = self.decoded = 0
        self.renewals += 1
        give_back_memory()

    def _go_idle(self) -> list:
        # the line is ended here, so none spans the gap (Vosk waits up to 2 s of silence to end one;
        # its Result() would leave the last frames' features to the next line, FinalResult does not)
        out = self.rec.flush()
        self.idle = True
        self._held.clear()
        if self._spent(quiet=True):
            self._renew()  # what the old one had not decoded yet is silence
        return out

    def _hold(self, pcm: np.ndarray, first_sample: int) -> None:
        self._held.append((pcm, first_sample))  # the newest, and at least `preroll` before it
        while len(self._held) > 2 and sum(len(p) for p, _ in list(self._held)[1:-1]) >= self.preroll:
            self._held.popleft()

    def _resume(self) -> tuple[np.ndarray, int]:
        """The held audio up to the speech just heard, from where it runs without a gap."""
        self.idle = False
        pieces = [self._held.pop()]
        while self._held and self._held[-1][1] + len(self._held[-1][0]) == pieces[-1][1]:
            pieces.append(self._held.pop())
        self._held.clear()
        pieces.reverse()
        pcm, first = np.concatenate([p for p, _ in pieces]), pieces[0][1]
        self.skipped -= len(pcm) - len(pieces[-1][0])
        self.rec.skip_to(first)
        return pcm, first

    def flush(self) -> list:
        return self.rec.flush()
