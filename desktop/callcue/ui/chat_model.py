"""What the overlay's chat panel shows, as plain data: no Qt, no threads, no clock of its own.

The local chat endpoint (callcue.chat.server) hands every live chat's events to the panel; the
panel's widget passes them here with the panel's clock (`now`, seconds, any origin), and draws what
this model says:

- which chat is shown: the agent's pick, or else the chats' cues decide. One cue on screen at a
  time, across chats too: the shown chat keeps the screen while its cue is up, and when it has none
  a chat whose cue is waiting takes over (the most urgent, then the one waiting longest). While the
  agent writes a draft in the reply box the panel stays on that draft's chat.
- the shown chat's cue, until it has been up for the playbook's [chat] show_s (on the panel's clock)
  or the chat's own clock has passed its `until` (a later event of that chat says so);
- each chat's customer frustration (the smoothed level and trend), and the frustration of the
  customer's latest message, which the reply check reads as its context.

A test that feeds the same events with the same `now` sees the same panel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from callcue.chat.replycheck import ReplyCheck, check_reply
from callcue.engine.cues import RANK
from callcue.engine.events import Cue, CueAction, Event, Frustration, Summary, Utterance
from callcue.engine.playbook import Playbook

MAX_CHATS = 50  # chats kept on the panel; the one idle longest goes first (the server keeps 200)
PREVIEW_CHARS = 90


@dataclass
class ChatView:
    """One live chat as the panel knows it."""

    chat_id: str
    frustration: float | None = None  # the customer's smoothed level (None: they have not written)
    trend: str = "steady"
    last_customer: float | None = None  # the frustration of the customer's latest message
    last_message: str = ""  # the customer's latest message, to tell chats apart
    messages: int = 0
    cue: Cue | None = None
    cue_since: float | None = None  # the panel's clock when the cue arrived
    chat_now: float = 0.0  # the chat's own clock, as far as its events tell
    seen: float = 0.0  # the panel's clock at the chat's latest event

    @property
    def preview(self) -> str:
        text = " ".join(self.last_message.split())
        return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS - 1].rstrip() + "\u2026"


def _event_time(ev: Event) -> float | None:
    for name in ("at", "end", "start"):
        value = getattr(ev, name, None)
        if isinstance(value, (int, float)):
            return float(value)
    return None


class ChatPanelModel:
    """The chats and the one cue on the panel. `apply` and `tick` return the parts that changed:
    "chats" (the list), "shown" (another chat is shown), "cue", "frustration"."""

    def __init__(self, show_s: float, max_chats: int = MAX_CHATS) -> None:
        self.show_s = float(show_s)
        self.max_chats = max_chats
        self.chats: dict[str, ChatView] = {}
        self.shown: str | None = None
        self.pinned = False  # the agent chose the chat: cues elsewhere do not move the panel
        self.drafting = False  # a draft is in the reply box: stay on its chat
        self.now = 0.0

    # ---- reading ---------------------------------------------------------------------------

    @property
    def current(self) -> ChatView | None:
        return self.chats.get(self.shown) if self.shown is not None else None

    @property
    def cue(self) -> Cue | None:
        view = self.current
        return view.cue if view is not None else None

    def waiting(self) -> list[ChatView]:
        """Other chats with a cue up, most urgent first: they get the screen when it is free."""
        others = [v for v in self.chats.values() if v.cue is not None and v.chat_id != self.shown]
        return sorted(others, key=lambda v: (-RANK[v.cue.severity], v.cue_since or 0.0))  # type: ignore[union-attr]

    def label(self, view: ChatView) -> str:
        """A chat's line in the panel's chooser: its id, the customer's frustration, a cue waiting."""
        parts = [view.chat_id]
        if view.frustration is not None:
            parts.append(f"frustration {view.frustration:.2f}")
        if view.cue is not None:
            parts.append("\u25cf cue")
        return " \u00b7 ".join(parts)

    def context(self) -> dict[str, Any]:
        """What the reply check of a draft for the shown chat needs to know about the customer."""
        view = self.current
        if view is None:
            return {"frustration": None, "last_customer": None}
        return {"frustration": view.frustration, "last_customer": view.last_customer}

    def check(self, draft: str, playbook: Playbook | None = None) -> ReplyCheck:
        """The reply check of a draft, in the shown chat's context (how frustrated the customer is)."""
        return check_reply(draft, playbook, **self.context())

    # ---- changing --------------------------------------------------------------------------

    def apply(self, chat_id: str, events: list[Event], now: float) -> set[str]:
        """One batch of a chat's events, as the endpoint published them."""
        self.now = max(self.now, now)
        changed: set[str] = set()
        view = self.chats.get(chat_id)
        if view is None:
            if any(isinstance(ev, Summary) for ev in events):
                return changed  # a chat that ends before the panel saw it: nothing to show
            view = self.chats[chat_id] = ChatView(chat_id, seen=self.now)
            changed.add("chats")
            self._trim()
        view.seen = self.now
        for ev in events:
            t = _event_time(ev)
            if t is not None:
                view.chat_now = max(view.chat_now, t)
            if isinstance(ev, Cue):
                view.cue, view.cue_since = ev, self.now
                changed |= {"cue", "chats"}
            elif isinstance(ev, CueAction) and ev.action in ("dismiss", "snooze", "hold") and view.cue is not None:
                view.cue = view.cue_since = None
                changed |= {"cue", "chats"}
            elif isinstance(ev, Frustration):
                view.frustration, view.trend = ev.level, ev.trend
                changed |= {"frustration", "chats"}
            elif isinstance(ev, Utterance):
                view.messages += 1
                if ev.who == "customer":
                    view.last_customer = ev.frustration
                    view.last_message = ev.text
                    changed.add("frustration")
            elif isinstance(ev, Summary):
                return changed | self._end(chat_id)
        changed |= self._expire(view)
        return changed | self._choose()

    def tick(self, now: float) -> set[str]:
        """The panel's clock moved on: cues that have been up for show_s leave."""
        self.now = max(self.now, now)
        changed: set[str] = set()
        for view in self.chats.values():
            changed |= self._expire(view)
        return changed | self._choose()

    def select(self, chat_id: str | None) -> set[str]:
        """The agent picks a chat (it stays until they pick another), or None: follow the cues again."""
        if chat_id is None:
            self.pinned = False
            return self._choose()
        if chat_id not in self.chats:
            return set()
        self.pinned = True
        return self._show(chat_id)

    def set_drafting(self, on: bool) -> set[str]:
        self.drafting = on
        return set() if on else self._choose()

    def dismiss(self) -> set[str]:
        """The agent dismissed the shown cue (the panel tells the chat's engine too: ChatServer.act)."""
        view = self.current
        if view is None or view.cue is None:
            return set()
        view.cue = view.cue_since = None
        return {"cue", "chats"} | self._choose()

    # ---- inside --------------------------------------------------------------------------------

    def _expire(self, view: ChatView) -> set[str]:
        cue = view.cue
        if cue is None:
            return set()
        over_here = view.cue_since is not None and self.now - view.cue_since >= self.show_s
        over_there = cue.until is not None and view.chat_now >= cue.until
        if over_here or over_there:
            view.cue = view.cue_since = None
            return {"cue", "chats"}
        return set()

    def _show(self, chat_id: str | None) -> set[str]:
        if chat_id == self.shown:
            return set()
        self.shown = chat_id
        return {"shown", "cue", "frustration"}

    def _choose(self) -> set[str]:
        current = self.current
        if current is None:
            self.pinned = False
            waiting = self.waiting()
            if waiting:
                return self._show(waiting[0].chat_id)
            latest = max(self.chats.values(), key=lambda v: v.seen, default=None)
            return self._show(latest.chat_id if latest else None)
        if self.pinned or self.drafting or current.cue is not None:
            return set()
        waiting = self.waiting()
        return self._show(waiting[0].chat_id) if waiting else set()

    def _end(self, chat_id: str) -> set[str]:
        """The chat is over (its summary came): it leaves the panel."""
        self.chats.pop(chat_id, None)
        changed = {"chats"}
        if chat_id == self.shown:
            self.shown = None
            self.drafting = False  # the draft's chat is gone; the draft itself stays in the box
            changed |= {"shown", "cue", "frustration"}
        return changed | self._choose()

    def _trim(self) -> None:
        while len(self.chats) > self.max_chats:
            idle = [v for v in self.chats.values() if v.chat_id != self.shown]
            oldest = min(idle, key=lambda v: v.seen)
            del self.chats[oldest.chat_id]
