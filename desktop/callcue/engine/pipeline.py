"""The engine: feed it audio and words on the sample clock, it returns events.

It is a plain object with no threads and no wall clock, so a recording
replayed at any speed gives exactly the events the live call gave.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from callcue.engine.acknowledge import AcknowledgeWatch
from callcue.engine.activity import FRAME, FRAME_S, RATE, ChannelActivity, Segment, frame_db
from callcue.engine.conversation import Conversation, Hold
from callcue.engine.cues import CueBoard
from callcue.engine.events import (
    CallStart,
    Cue,
    Event,
    Frustration,
    Partial,
    Speech,
    Status,
    TextSegment,
    Utterance,
)
from callcue.engine.frustration import FrustrationLevel, VoiceScoring, distinct, utterance_score
from callcue.engine.language import (
    Lexicons,
    TextAnalyzer,
    TextSignals,
    default_lexicons,
    syllables,
    tokens_of,
)
from callcue.engine.playbook import Playbook
from callcue.engine.prosody import Baseline, measure
from callcue.engine.summary import Commitment, SummaryFacts, SummaryRules, build_summary, commitment_due

BUFFER_S = 180.0  # audio kept per channel for measuring the voice of an utterance


@dataclass(frozen=True)
class CallState:
    """The engine's state for a live view (Engine.snapshot), on the call's clock."""

    at: float
    quiet_s: float  # how long nobody has spoken (0 before anyone has)
    talk_s: dict[str, float]  # talk so far per channel, the turns still going on included
    commitments: list[str]  # promises heard so far
    cue: Cue | None  # the cue on screen, if any


class _Audio:
    """The recent audio of one channel, addressed by absolute sample index."""

    def __init__(self) -> None:
        self.chunks: deque[tuple[int, np.ndarray]] = deque()
        self.end = 0

    def append(self, pcm: np.ndarray) -> None:
        self.chunks.append((self.end, pcm))
        self.end += len(pcm)
        while self.chunks and self.chunks[0][0] + len(self.chunks[0][1]) < self.end - BUFFER_S * RATE:
            self.chunks.popleft()

    def slice(self, a: int, b: int) -> np.ndarray:
        parts = [pcm[max(0, a - s): max(0, b - s)] for s, pcm in self.chunks if s < b and s + len(pcm) > a]
        return np.concatenate(parts) if parts else np.zeros(0, np.int16)


@dataclass
class Engine:
    playbook: Playbook
    channels: Sequence[str] = ("agent", "customer")
    words: str | None = None  # where words come from: "file", "vosk" or None (voice only)
    lexicons: Lexicons | None = None
    model: str | None = None
    events: list[Event] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.channels = tuple(self.channels)
        act, conv = self.playbook.section("activity"), self.playbook.section("conversation")
        self.activity = {
            c: ChannelActivity(c, act["vad_mode"], act["onset_frames"], act["hangover_s"], act["gate_db"])
            for c in self.channels
        }
        self.conversation = Conversation(self.channels, overlap_min_s=conv["overlap_min_s"],
                                         backchannel_max_s=conv["backchannel_max_s"],
                                         backchannel_max_words=conv["backchannel_max_words"],
                                         # A recognizer's captions lag the voice by up to a second, which
                                         # would make talk-over late; only a transcript's word times are
                                         # there in time to tell a backchannel by its words.
                                         words_heard=self._words_heard if self.words == "file" else None,
                                         silence_s=conv["silence_s"])
        fr = self.playbook.section("frustration")
        self.frustration = FrustrationLevel(alpha=fr["alpha"], alpha_down=fr["alpha_down"], trend_step=fr["trend_step"])
        self.board = CueBoard(self.playbook)
        self.text = TextAnalyzer(self.lexicons or default_lexicons())
        self.baselines: dict[str, Baseline] = {}
        self.voice_scoring = VoiceScoring.from_playbook(self.playbook.section("voice"))
        self.audio = {c: _Audio() for c in self.channels}
        self._pending_pcm = {c: np.zeros(0, np.int16) for c in self.channels}
        self._frames: dict[str, deque[np.ndarray]] = {c: deque() for c in self.channels}
        self.k = 0  # frames processed on every channel
        self._results: list[tuple[str, TextSegment]] = []
        self._partials: dict[str, list[tuple[float, int]]] = {}
        self.utterances: list[Utterance] = []
        self.commitments: list[Commitment] = []
        self.empathy_at: list[float] = []
        self._silence_cued = False
        self._mono_cued = False
        spec = self.playbook.cue("acknowledge-frustration")
        self._acknowledge = AcknowledgeWatch(spec, float(spec["ack_window_s"]))
        self._started = False
        self._finished = False

    @property
    def hold(self) -> Hold | None:
        return self.conversation.hold

    @property
    def started(self) -> bool:
        return self._started

    @property
    def now(self) -> float:
        return round(self.k * FRAME_S, 3)

    def open_turns(self) -> list[Speech]:
        """The turns still being spoken, as Speech events up to their last voiced frame, so a save
        during a long turn keeps it (the final Speech event comes when the turn ends)."""
        return [Speech(who=seg.who, start=round(seg.start, 3), end=round(seg.end, 3))
                for seg in list(self.conversation._open.values())]

    def warm_up(self) -> None:
        """Import Praat and build the tokenizers now, not at the call's first utterance: that holds
        the GIL for up to 0.1 s and takes about 90 MB, which a live call's memory budget (the speech
        recognizers' share of it) must know about from the start."""
        t = np.arange(RATE) / RATE
        tone = (3000 * np.sin(2 * np.pi * 140 * t) * (1 + 0.3 * np.sin(2 * np.pi * 3 * t))).astype(np.int16)
        try:
            measure(tone, 3, 1.0)
            self.text.analyze("Thank you, I understand how frustrating this is.")
        except Exception:  # noqa: BLE001 - only a warm-up: the call itself reports real problems
            pass

    def start(self, duration_s: float | None = None, note: str | None = None) -> list[Event]:
        self._started = True
        transcript = self.words
        return self._emit([CallStart(duration_s=None if duration_s is None else round(duration_s, 3),
                                     channels=list(self.channels), model=self.model, transcript=transcript,
                                     words=self.words is not None, note=note)])

    def _emit(self, events: list[Event]) -> list[Event]:
        self.events.extend(events)
        return events

    # ---- audio -------------------------------------------------------------------------------

    def feed(self, channel: str, pcm: np.ndarray) -> list[Event]:
        """Append 16 kHz int16 audio to one channel; returns what became known."""
        if channel not in self.audio:
            raise ValueError(f"unknown channel {channel!r}; this engine has {self.channels}")
        out = [] if self._started else self.start()
        pcm = np.asarray(pcm, dtype=np.int16)
        self.audio[channel].append(pcm)
        buf = np.concatenate([self._pending_pcm[channel], pcm]) if len(self._pending_pcm[channel]) else pcm
        n = len(buf) // FRAME
        for i in range(n):
            self._frames[channel].append(buf[i * FRAME:(i + 1) * FRAME])
        self._pending_pcm[channel] = buf[n * FRAME:]
        while all(self._frames[c] for c in self.channels):
            out += self._step({c: self._frames[c].popleft() for c in self.channels})
        return out

    def _step(self, frames: dict[str, np.ndarray]) -> list[Event]:
        out: list[Event] = []
        k = self.k
        levels = {c: frame_db(f) for c, f in frames.items()}
        loudest = max(levels.values())
        bleed = float(self.playbook.section("activity")["bleed_db"])
        for c, f in frames.items():
            act = self.activity[c]
            voiced = act.is_voice(f, levels[c]) and levels[c] >= loudest - bleed
            opened, closed = act.step(k, voiced)
            if closed is not None:
                out += self._closed(closed)
            if opened is not None:
                out += self.conversation.opened(opened)
                out += self.board.spoke(opened.who, opened.start)
                if self.hold is not None and opened.start > self.hold.at:
                    self.conversation.hold = None
                self._silence_cued = False
        self.k += 1
        now = self.now
        for ev in self.conversation.advance(now):
            out.append(ev)
            if ev.by == "agent":
                out += self.board.offer("let-them-finish", now, f"You started at {ev.at:.1f}s while the "
                                        "customer was speaking.", {"at": ev.at, "overlap_s": ev.overlap_s})
        out += self._check_silence(now)
        out += self._check_talk(now)
        out += self._release_results()
        out += self.board.tick(now)
        return self._emit(out)

    def _closed(self, seg: Segment) -> list[Event]:
        self.conversation.closed(seg)
        out: list[Event] = [Speech(who=seg.who, start=round(seg.start, 3), end=round(seg.end, 3))]
        if self.words is None and seg.duration >= 0.3:
            out += self._utterance(TextSegment(who=seg.who, start=seg.start, end=seg.end, text=""), seg.who)
        return out

    # ---- words -------------------------------------------------------------------------------

    def add_result(self, channel: str, segment: TextSegment) -> list[Event]:
        """A finished line of words (recognizer final or transcript cue) heard on `channel`."""
        self._results.append((channel, segment))
        self._results.sort(key=lambda r: (r[1].end, r[1].start))
        return self._emit(self._release_results())

    def add_partial(self, channel: str, text: str) -> list[Event]:
        """A line still being spoken; its growing word count also tells talk-over from a backchannel."""
        seen = self._partials.setdefault(channel, [])
        seen.append((self.now, len(text.split())))
        del seen[:-100]  # talk-over is decided within seconds: old partials are of no use
        return self._emit([Partial(who=channel, at=self.now, text=text)]) if text else []

    def _words_heard(self, who: str, since: float, now: float) -> int:
        """Words `who` has finished saying in [since, now]: from finished lines and the live partial."""
        lo = since - 0.15  # a word may begin a frame or two before voice activity confirms it
        lines = [seg for _, seg in self._results] + self.utterances[-6:]
        done = sum(1 for seg in lines if seg.who == who for w in seg.words if lo <= w.start and w.end <= now)
        partials = [n for t, n in self._partials.get(who, []) if t <= now]
        if partials:
            before = [n for t, n in self._partials.get(who, []) if t <= since]
            done += max(0, partials[-1] - (before[-1] if before else 0))
        return done

    def _release_results(self) -> list[Event]:
        """Results wait until the audio under them has arrived, so their voice can be measured."""
        out: list[Event] = []
        now = self.now + 1e-6
        while self._results and self._results[0][1].end <= now:
            channel, seg = self._results.pop(0)
            out += self._utterance(seg, channel)
        return out

    def _utterance(self, seg: TextSegment, channel: str) -> list[Event]:
        who = seg.who
        audio = self.audio[channel].slice(int(seg.start * RATE), int(seg.end * RATE))
        words = seg.words
        sig: TextSignals | None = self.text.analyze(seg.text) if seg.text.strip() else None
        n_words = len(sig.tokens) - sum(t in "?!" for t in sig.tokens) if sig else 0
        speech_s = seg.end - seg.start
        # only the customer's voice is scored, so only theirs needs more than pitch and loudness
        feats = measure(audio, n_words, speech_s, quality=who == "customer")
        if who not in self.baselines:
            self.baselines[who] = Baseline.from_playbook(self.playbook.section("voice"))
        base = self.baselines[who]
        change = base.compare(feats)
        base.add(feats)
        wpm = round(60.0 * n_words / speech_s, 1) if n_words and speech_s > 0 else None
        sps = round(syllables(sig.tokens) / speech_s, 2) if sig and speech_s > 0 else None
        frustration: float | None = None
        why: list[str] = []
        if who == "customer":
            frustration, why = utterance_score(sig, change, self.playbook.section("frustration")["voice_weight"],
                                               self.voice_scoring)
        utt = Utterance(who=who, start=round(seg.start, 3), end=round(seg.end, 3), text=seg.text, words=words,
                        sentiment=round(sig.sentiment, 3) if sig else 0.0, frustration=frustration, wpm=wpm,
                        syllables_per_s=sps,
                        signals=why if who == "customer" else self._agent_signals(sig))
        self.utterances.append(utt)
        out: list[Event] = [utt]
        if who == "customer" and frustration is not None:
            level, trend = self.frustration.update(utt.end, frustration)
            out.append(Frustration(at=utt.end, level=level, trend=trend))
            out += self._customer_cues(utt, sig, level, change.plain())
            self._customer_pause(sig, utt.end)
        elif who == "agent":
            out += self._agent_cues(utt, sig)
        return out

    def _customer_pause(self, sig: TextSignals | None, end: float) -> None:
        """"Hold on, let me find my card": the silence that follows is the customer's own."""
        if sig is None:
            return
        # "I've been on hold for an hour" is a complaint, not an announcement
        pauses = [h for h in sig.kinds("hold") if "on hold" not in h.phrase and "hold for" not in h.phrase]
        if pauses:
            self.conversation.hold = Hold("customer", end)

    @staticmethod
    def _agent_signals(sig: TextSignals | None) -> list[str]:
        if sig is None:
            return []
        kinds = ("empathy", "hold", "hold_long", "jargon", "idioms", "commitment")
        return [f"{h.kind}: {h.phrase}" for h in sig.hits if h.kind in kinds]

    # ---- cue rules ---------------------------------------------------------------------------

    def _customer_cues(self, utt: Utterance, sig: TextSignals | None, level: float,
                       voice: Sequence[str] = ()) -> list[Event]:
        now = max(self.now, utt.end)
        out: list[Event] = []
        quote = {"utterance": utt.text, "at": utt.start}
        if sig is not None:
            for kind, cue_id in (("escalation", "escalation-request"), ("repeat_contact", "repeat-contact"),
                                 ("negotiation", "negotiate")):
                hits = distinct(sig.kinds(kind))
                if hits:
                    said = ", ".join(dict.fromkeys(_said(sig, h) for h in hits[:3]))
                    policy = self.playbook.cue(cue_id).params.get("policy")
                    why = f'They said "{said}".' + (f" Policy: {policy}" if policy else "")
                    out += self.board.offer(cue_id, now, why, {**quote, "phrases": said})
        if self._acknowledge.due(level, utt.frustration, utt.start, now, self.empathy_at):
            out += self.board.offer("acknowledge-frustration", now, plain_why(utt.text, voice),
                                    {**quote, "level": level, "score": utt.frustration, "signals": utt.signals})
        return out

    def _agent_cues(self, utt: Utterance, sig: TextSignals | None) -> list[Event]:
        now = max(self.now, utt.end)
        out: list[Event] = []
        if sig is None:
            return out
        quote = {"utterance": utt.text, "at": utt.start}
        if sig.has("empathy"):
            self.empathy_at.append(utt.end)
        if sig.has("hold_long") or sig.has("hold"):
            self.conversation.hold = Hold("long" if sig.has("hold_long") else "short", utt.end)
        promises = _clauses(utt.text, [h.start for h in sig.kinds("commitment")], sig.tokens)
        for clause in promises:
            self.commitments.append(Commitment(at=utt.start, text=clause, due=commitment_due(clause)))
        if promises:
            out += self.board.offer("note-commitment", now, "You promised: " + "; ".join(
                f'"{c}"' for c in promises) + ".", {**quote, "commitments": promises})
        jargon = sorted({_said(sig, h) for h in sig.kinds("jargon")})
        if len(jargon) >= self.playbook.cue("plain-words")["terms"]:
            out += self.board.offer("plain-words", now, f"You said: {', '.join(jargon)}.",
                                    {**quote, "terms": jargon})
        idioms = sorted({_said(sig, h) for h in sig.kinds("idioms")})
        if len(idioms) >= self.playbook.cue("avoid-idioms")["terms"]:
            out += self.board.offer("avoid-idioms", now, f"You said: {', '.join(idioms)}.",
                                    {**quote, "idioms": idioms})
        slow = self.playbook.cue("slow-down")
        n_words = len([t for t in sig.tokens if t not in "?!"])
        if utt.syllables_per_s is not None and n_words >= slow["min_words"] and \
                utt.syllables_per_s >= slow["syllables_per_s"]:
            out += self.board.offer("slow-down", now, f"{utt.syllables_per_s:.1f} syllables a second "
                                    f"(about {utt.wpm:.0f} words a minute).",
                                    {**quote, "wpm": utt.wpm, "syllables_per_s": utt.syllables_per_s})
        return out

    def _check_silence(self, now: float) -> list[Event]:
        quiet = self.conversation.silence_so_far(now)
        if self._silence_cued or quiet <= 0 or not self.conversation.anyone_spoke:
            return []  # a line that has not started yet is not dead air
        spec = self.playbook.cue("check-in-silence")
        after = float(spec["after_s"])
        if self.hold is not None:
            # the agent checks in late after a formal hold, or when the customer is the one busy
            long_wait = self.hold.kind in ("long", "customer")
            after = float(spec["after_long_hold_s"] if long_wait else spec["after_hold_s"])
        if quiet < after:
            return []
        self._silence_cued = True
        start = self.conversation.last_end
        held = {"short": " after a short hold was announced", "long": " after a hold was announced",
                "customer": " since the customer asked for a moment"}.get(self.hold.kind, "") if self.hold else ""
        return self.board.offer("check-in-silence", now, f"Silent for {quiet:.0f}s{held}.",
                                {"since": round(start, 3), "silent_s": round(quiet, 3),
                                 "hold": self.hold.kind if self.hold else None})

    def _check_talk(self, now: float) -> list[Event]:
        spec = self.playbook.cue("let-customer-talk")
        mono = self.conversation.monologue_s()
        if mono <= 0:
            self._mono_cued = False
        if not self._mono_cued and mono >= spec["monologue_s"]:
            self._mono_cued = True
            return self.board.offer("let-customer-talk", now, f"You have talked for {mono:.0f}s without a reply.",
                                    {"monologue_s": round(mono, 3)})
        if now >= spec["ratio_after_s"] and self.k % round(1.0 / FRAME_S) == 0:
            window = self.playbook.section("conversation")["ratio_window_s"]
            ratio = self.conversation.window_ratio(now, window)
            if ratio is not None and ratio >= spec["ratio"]:
                return self.board.offer("let-customer-talk", now,
                                        f"You did {100 * ratio:.0f}% of the talking in the last "
                                        f"{window / 60:.0f} minutes.", {"ratio": round(ratio, 3)})
        return []

    # ---- controls and the end ----------------------------------------------------------------

    def act(self, action: str, cue_id: str | None = None) -> list[Event]:
        """The agent's control: "dismiss" (only `cue_id`, if given), "snooze", "hold", "resume"."""
        return self._emit(self.board.act(action, self.now, cue_id))

    def snapshot(self, at: float | None = None) -> CallState:
        """What a live view needs between events: the silence clock, talk so far (who is speaking
        now counts), the promises heard and the cue on screen. `at`: the audio clock, if ahead."""
        conv = self.conversation
        quiet = conv.silence_so_far(self.now) if conv.anyone_spoke else 0.0
        return CallState(at=round(max(self.now, at or 0.0), 3), quiet_s=round(quiet, 3),
                         talk_s={k: round(v, 2) for k, v in conv.talk_so_far().items()},
                         commitments=[c.text for c in self.commitments], cue=self.board.active)

    def status(self, kind: str, message: str, who: str | None = None) -> list[Event]:
        return self._emit([Status(at=self.now, kind=kind, message=message, who=who)])

    def finish(self) -> list[Event]:
        """The call is over: flush what is pending and add the summary."""
        if self._finished:
            return []
        self._finished = True
        out: list[Event] = [] if self._started else self.start()
        for c in self.channels:  # the last partial frame, padded, so no audio is ignored
            rest = self._pending_pcm[c]
            if len(rest):
                self._frames[c].append(np.concatenate([rest, np.zeros(FRAME - len(rest), np.int16)]))
                self._pending_pcm[c] = np.zeros(0, np.int16)
        while any(self._frames[c] for c in self.channels):
            frames = {c: self._frames[c].popleft() if self._frames[c] else np.zeros(FRAME, np.int16)
                      for c in self.channels}
            out += self._step(frames)
        tail: list[Event] = []
        for c in self.channels:
            seg = self.activity[c].close()
            if seg is not None:
                tail += self._closed(seg)
        end = self.now
        for channel, line in sorted(self._results, key=lambda r: r[1].end):
            tail += self._utterance(line, channel)
        self._results = []
        tail += self.conversation.finish(end)
        self._emit(tail)
        summary = build_summary(self.summary_facts(end))
        return out + tail + self._emit([summary])

    def summary_facts(self, end: float) -> SummaryFacts:
        """What the summary is made of: this call's numbers and the playbook's rules for them."""
        conv, fr = self.conversation, self.frustration
        return SummaryFacts(
            rules=SummaryRules.from_playbook(self.playbook), duration_s=end, words=self.words,
            two_party=conv.two_party, anyone_spoke=conv.anyone_spoke, talk_s=dict(conv.talk_s),
            interruptions=list(conv.interruptions), silences=list(conv.silences), silence_s=conv.silence_s,
            longest_gap_s=conv.longest_gap_s, longest_monologue_s=conv.longest_monologue_s,
            utterances=list(self.utterances), frustration=list(fr.history), frustration_peak=fr.peak,
            empathy_at=list(self.empathy_at), commitments=list(self.commitments),
            cues_shown=[c.id for c in self.board.shown], events=list(self.events))


def plain_why(text: str, voice: Sequence[str], words: int = 14) -> str:
    """Why the customer sounds frustrated, in plain words: what they said, quoted (cut at `words`), and how
    their voice differs from earlier in the call ("louder, higher and tenser")."""
    said = text.split()
    quote = " ".join(said[:words]) + ("\u2026" if len(said) > words else "")
    changes = list(dict.fromkeys(voice))
    how = (", ".join(changes[:-1]) + " and " + changes[-1]) if len(changes) > 1 else "".join(changes)
    if quote and how:
        return f'They said "{quote}", and they sound {how} than earlier in the call.'
    if quote:
        return f'They said "{quote}".'
    if how:
        return f"They sound {how} than earlier in the call."
    return "How they sound and what they said."


def _said(sig: TextSignals, hit) -> str:  # type: ignore[no-untyped-def]
    return " ".join(sig.tokens[hit.start:hit.end])


def _clauses(text: str, starts: list[int], tokens: list[str]) -> list[str]:
    """The promise clauses of an utterance: from each promise's first word to the next one or the sentence end.

    "I will file a request right now and I will call you back tomorrow" holds two promises, each with
    its own due time.
    """
    if not starts:
        return []
    words = text.split()
    # map token indexes to word indexes by walking both (tokens split "you?" into "you", "?")
    tok_words: list[int] = []
    for wi, w in enumerate(words):
        tok_words.extend([wi] * max(1, len(tokens_of(w))))
    begin = sorted({tok_words[min(i, len(tok_words) - 1)] for i in starts})
    out = []
    for n, b in enumerate(begin):
        stop = begin[n + 1] if n + 1 < len(begin) else len(words)
        clause = []
        for w in words[b:stop]:
            clause.append(w)
            if w.endswith((".", "!", "?")):
                break
        text_ = " ".join(clause).rstrip(",;")
        text_ = re.sub(r"\s+(and|but|so|then)$", "", text_)
        out.append(text_.rstrip(".,;!?"))
    return out
