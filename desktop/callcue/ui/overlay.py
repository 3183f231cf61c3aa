"""The live overlay: a slim panel docked to a screen edge that never takes the keyboard focus.

It shows one cue at a time and the call's vital signs, and it only ever hears about the call through
signals from a worker (ui.workers.CallWorker, or a test's stand-in with the same signals):

    events(list[Event])  the engine's events          tick(Tick)  the audio clock
    phase(Phase)         loading, listening, ended    done()      the worker's thread is over

and talks back through `worker.act(action)`, which the worker does between chunks of audio.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QRect, Qt, Signal, Slot
from PySide6.QtGui import QCloseEvent, QGuiApplication, QScreen, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from callcue.engine.cues import NEVER_MUTED
from callcue.engine.events import Event
from callcue.engine.playbook import load_playbook
from callcue.engine.summary import SummaryRules
from callcue.errors import CallcueError
from callcue.settings import HOTKEY_LABELS, Settings, SettingsStore
from callcue.ui import strut, theme
from callcue.ui.hotkeys import key_help
from callcue.ui.panel import RECENT_CUES, PanelState, Phase, Tick
from callcue.ui.qtcompat import emit
from callcue.ui.widgets import (
    CAPTION_LINES,
    Captions,
    CueCard,
    Meter,
    Promises,
    RecentCues,
    Section,
    SnoozeChip,
    StatusLine,
    TalkBar,
    TimerLabel,
    WrapUpCard,
    small_font,
    tool_button,
)
from callcue.ui.wrapup import wrap_up

WorkerFactory = Callable[[], Any]
ALL_PARTS = {"cue", "frustration", "silence", "talk", "captions", "commitments", "status", "controls",
             "recent"}


def is_wayland() -> bool:
    return QGuiApplication.platformName().startswith("wayland")


def window_flags(settings: Settings) -> Qt.WindowType:
    # Tool: no taskbar entry. WindowDoesNotAcceptFocus: clicks on the panel leave the keyboard where it was.
    flags = Qt.Tool | Qt.FramelessWindowHint | Qt.WindowDoesNotAcceptFocus | Qt.NoDropShadowWindowHint
    if settings.always_on_top:
        flags |= Qt.WindowStaysOnTopHint
    if settings.click_through:
        flags |= Qt.WindowTransparentForInput
    return flags


class Overlay(QWidget):
    cueChanged = Signal(object)  # the Cue now on screen, or None
    stateChanged = Signal()  # something the tray shows changed (phase, problems, hold, cue)
    settingsRequested = Signal(str)  # a page of the settings dialog to open ("", "devices", "model")
    quitRequested = Signal()

    def __init__(self, settings: Settings, store: SettingsStore | None = None,
                 worker_factory: WorkerFactory | None = None, notice: str | None = None,
                 idle_message: str | None = None) -> None:
        super().__init__(None, window_flags(settings))
        self.setObjectName("overlay")
        self.setAttribute(Qt.WA_ShowWithoutActivating)
        # The panel is never the active window, and Qt shows tooltips only on the active one unless told:
        # without this no tooltip and no why-on-hover would ever appear.
        self.setAttribute(Qt.WA_AlwaysShowToolTips)
        self.setAttribute(Qt.WA_StyledBackground)
        self.setFocusPolicy(Qt.NoFocus)
        self.setWindowTitle("Callcue")
        self.settings = settings
        self.store = store
        self.worker_factory = worker_factory
        self.worker: Any = None
        self.state = PanelState()
        self._reserved = 0  # logical pixels of our edge the window manager keeps free for the panel (X11)
        self._strut: tuple[int, list[int]] | None = None  # (window, values) last set
        self.state.set_phase(Phase("idle", idle_message or self._idle_text()))
        self._build(notice)
        self.setWindowOpacity(settings.opacity)
        self.apply_mode()
        self._refresh(ALL_PARTS)

    # ---- building ------------------------------------------------------------------------------

    def _idle_text(self) -> str:
        key = self.settings.hotkeys.get("call", "")
        return f"Not listening. Press Start{f' ({key})' if key else ''} when the call begins."

    def _build(self, notice: str | None) -> None:
        self.title = QLabel("Callcue")
        self.title.setObjectName("title")
        self.title.setFont(small_font(self, +0.5, bold=True))
        self.dot = QLabel("\u25cf")
        self.dot.setObjectName("dot")
        self.mode_button = tool_button("", "", "modeButton")
        self.mode_button.clicked.connect(self.toggle_mode)
        self.settings_button = tool_button("\u2699", "Settings: devices, model, playbook, panel, hotkeys",
                                           "settingsButton")
        self.settings_button.clicked.connect(lambda: emit(self.settingsRequested, ""))
        self.close_button = tool_button("\u2715", "Quit Callcue (stops the call)", "closeButton")
        self.close_button.clicked.connect(self.quitRequested)
        self.recent_button = tool_button("Recent", "The last cues of this call: when, what and why", "recentButton")
        self.recent_button.setCheckable(True)
        self.recent_button.toggled.connect(self._show_recent)
        head = QHBoxLayout()
        head.setSpacing(4)
        head.addWidget(self.dot)
        head.addWidget(self.title)
        head.addStretch(1)
        self.click_through_label = QLabel("click-through")
        self.click_through_label.setObjectName("flag")
        self.click_through_label.setFont(small_font(self, -1.5))
        head.addWidget(self.click_through_label)
        head.addWidget(self.recent_button)
        head.addWidget(self.mode_button)
        head.addWidget(self.settings_button)
        head.addWidget(self.close_button)
        self.head = head
        self.chat_panel: Any = None  # ui.chat_panel.ChatPanel, when chat assistance is on (attach_chat)
        self.chat_button: Any = None

        self.call_button = tool_button("", "", "callButton")
        self.call_button.clicked.connect(self.toggle_call)
        self.hold_button = tool_button("Hold", "", "holdButton")
        self.hold_button.setCheckable(True)
        self.hold_button.clicked.connect(self.toggle_hold)
        self.snooze_button = tool_button("Snooze 5 min", "", "snoozeButton")
        self.snooze_button.clicked.connect(self.toggle_snooze)
        controls = QHBoxLayout()
        controls.setSpacing(6)
        controls.addWidget(self.call_button)
        controls.addWidget(self.hold_button)
        controls.addWidget(self.snooze_button)
        controls.addStretch(1)

        self.notice = QLabel()
        self.notice.setObjectName("notice")
        self.notice.setWordWrap(True)
        self.notice_close = tool_button("\u2715", "Hide this message", "noticeClose")
        self.notice_box = QFrame()
        self.notice_box.setObjectName("noticeBox")
        nl = QHBoxLayout(self.notice_box)
        nl.setContentsMargins(8, 6, 4, 6)
        nl.addWidget(self.notice, 1)
        nl.addWidget(self.notice_close, 0, Qt.AlignTop)
        self.notice_close.clicked.connect(self.close_notice)
        self.show_notice(notice)

        self.card = CueCard()
        self.card.dismissRequested.connect(self.dismiss)
        self.wrapup = WrapUpCard()
        self.wrapup.dismissRequested.connect(self.close_wrap_up)
        self.meter = Meter()
        self.mini_meter = Meter(compact=True)
        self.timer = TimerLabel()
        self.snooze_chip = SnoozeChip()
        self.snooze_chip.clicked.connect(self.unsnooze)
        self.recent = RecentCues()
        self.recent.hide()
        self.talk = TalkBar()
        self.captions = Captions()
        self.captions_section = Section("Captions")
        self.promises = Promises()
        self.promises_section = Section("Promises")
        self.status = StatusLine()
        self.status.fixRequested.connect(self.settingsRequested)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 8, 10, 10)
        lay.setSpacing(8)
        lay.addLayout(head)
        lay.addWidget(self.notice_box)
        lay.addLayout(controls)
        lay.addWidget(self.wrapup)
        lay.addWidget(self.card)
        lay.addWidget(self.recent)
        lay.addWidget(self.timer)
        lay.addWidget(self.snooze_chip)
        lay.addWidget(self.mini_meter)
        lay.addWidget(self.meter)
        lay.addWidget(self.talk)
        lay.addWidget(self.captions_section)
        lay.addWidget(self.captions)
        lay.addWidget(self.promises_section)
        lay.addWidget(self.promises)
        lay.addWidget(self.status)
        self._expanded_only = [self.meter, self.talk, self.captions_section, self.captions,
                               self.promises_section, self.promises]
        self.setStyleSheet(theme.style_sheet())

    def attach_chat(self, panel: Any) -> None:
        """Chat assistance: a button in the header shows or hides the chat panel (its own window)."""
        self.chat_panel = panel
        panel.companion = self
        if self.chat_button is None:
            self.chat_button = tool_button("Chats", "Show or hide the chat panel: live chats' cues and the "
                                           "reply check", "chatButton")
            self.chat_button.clicked.connect(lambda: self.chat_panel.toggle() if self.chat_panel else None)
            self.head.insertWidget(self.head.indexOf(self.mode_button), self.chat_button)
            self.chat_button.show()  # a widget added to a shown window would appear only later

    def show_notice(self, text: str | None) -> None:
        self.notice.setText(text or "")
        self.notice_box.setVisible(bool(text))
        if self.layout() is not None:
            self.fit_height()

    def close_notice(self) -> None:
        self.show_notice(None)

    # ---- the window: flags, docking, mode ----------------------------------------------------

    def target_screen(self) -> QScreen:
        screens = QGuiApplication.screens()
        for s in screens:
            if self.settings.screen and s.name() == self.settings.screen:
                return s
        return QGuiApplication.primaryScreen() or screens[0]

    def dock_rect(self) -> QRect:
        """Where the panel goes: the chosen edge of the chosen screen's free area (no taskbars)."""
        screen = self.target_screen()
        area = screen.availableGeometry()
        if self._reserved:  # the free area leaves out our own strip: the panel goes in it, not beside it
            full = screen.geometry()
            if self.settings.edge == "left":
                area.setLeft(max(full.left(), area.left() - self._reserved))
            else:
                area.setRight(min(full.right(), area.right() + self._reserved))
        width = min(self.settings.width, area.width())
        # As tall as its content, no taller: every pixel the panel takes is the agent's workspace.
        height = self._fit(width, area.height())
        x = area.left() if self.settings.edge == "left" else area.left() + area.width() - width
        return QRect(x, area.top(), width, height)

    def _needed(self, width: int) -> int:
        # The parts' own layouts first (a status line's new text, a card's new cue): their size hints
        # are stale until their pending layout requests run.
        QApplication.sendPostedEvents(None, QEvent.LayoutRequest)
        lay = self.layout()
        lay.invalidate()
        lay.activate()
        return max(lay.totalHeightForWidth(width), self.minimumSizeHint().height())

    def _fit(self, width: int, room: int) -> int:
        """The panel's height for `room` pixels of screen: when everything does not fit, the least
        needed parts give way one by one (fewer caption lines, then no captions, fewer recent cues, ...)
        rather than the layout squeezing its parts over each other."""
        self._visibility()
        self.captions.set_lines(CAPTION_LINES)
        self.recent.set_limit(RECENT_CUES)
        steps = [lambda: self.captions.set_lines(6), lambda: self.captions.set_lines(3),
                 lambda: (self.captions.hide(), self.captions_section.hide()),
                 lambda: self.recent.set_limit(3), lambda: self.recent.set_limit(1),
                 lambda: (self.promises.hide(), self.promises_section.hide()),
                 self.talk.hide,
                 lambda: (self.meter.hide(), self.mini_meter.show()),
                 self.notice_box.hide]
        for step in steps:
            if self._needed(width) <= room:
                break
            step()
        return min(self._needed(width), room)

    def dock(self) -> None:
        rect = self.dock_rect()
        self.setFixedWidth(rect.width())
        self.setGeometry(rect)
        self.update_strut()

    def update_strut(self) -> None:
        """Docked, the panel is a strip the window manager keeps free (maximised windows end beside it);
        click-through, it floats over the other windows and reserves nothing."""
        if not self.isVisible() or not strut.available():
            return
        window = int(self.winId())
        if self.settings.click_through:
            if self._strut is not None:
                strut.release(window)
            self._strut, self._reserved = None, 0
            return
        screen = self.target_screen()
        dpr = screen.devicePixelRatio()
        g, full, virtual = self.geometry(), screen.geometry(), screen.virtualGeometry()
        values = strut.strut_values(self.settings.edge, round(g.x() * dpr), round(g.width() * dpr),
                                    round(full.top() * dpr), round((full.bottom() + 1) * dpr) - 1,
                                    round((virtual.right() + 1) * dpr))
        if self._strut != (window, values) and strut.reserve(window, values):
            self._strut, self._reserved = (window, values), g.width()

    def showEvent(self, e: QShowEvent) -> None:  # noqa: N802
        super().showEvent(e)
        self.update_strut()  # a window Qt re-created (new flags) is a new X window: tell the WM again

    def fit_height(self) -> None:
        self.dock()

    @property
    def expanded(self) -> bool:
        return self.settings.mode == "expanded"

    @property
    def idle(self) -> bool:
        return self.state.phase.name == "idle"

    def _visibility(self) -> None:
        """What the mode, the settings and the call show (before _fit makes room). Before a call the
        panel is compact whatever the mode: Start, the status, and nothing that waits for a call."""
        idle = self.idle
        for w in self._expanded_only:
            w.setVisible(self.expanded and not idle)
        self.mini_meter.setVisible(not self.expanded and not idle)
        self._show_captions()
        self.notice_box.setVisible(bool(self.notice.text()))
        self.card.setVisible(not idle and self.wrapup.isHidden())
        self.recent.setVisible(not idle and self.recent_button.isChecked())
        for w in (self.hold_button, self.snooze_button, self.recent_button):
            w.setVisible(not idle)

    def apply_mode(self) -> None:
        self._visibility()
        self.mode_button.setText("\u2921" if self.expanded else "\u2922")
        key = self.settings.hotkeys.get("expand", "")
        self.mode_button.setToolTip(("Compact panel" if self.expanded else "Expanded panel") +
                                    (f" ({key})" if key else ""))
        self.dock()

    def _show_captions(self) -> None:
        on = self.expanded and self.settings.captions and not self.idle
        self.captions.setVisible(on)
        self.captions_section.setVisible(on)

    def toggle_mode(self) -> None:
        self._change("mode", "compact" if self.expanded else "expanded")
        self.apply_mode()

    def set_click_through(self, on: bool) -> None:
        self._change("click_through", on)
        self.apply_flags()

    def toggle_click_through(self) -> None:
        self.set_click_through(not self.settings.click_through)

    def apply_flags(self) -> None:
        visible = self.isVisible()
        self.setWindowFlags(window_flags(self.settings))  # hides the window: Qt re-creates it
        self.setAttribute(Qt.WA_ShowWithoutActivating)
        self.click_through_label.setVisible(self.settings.click_through)
        self.dock()
        if visible:
            self.show()
        emit(self.stateChanged)

    def apply_settings(self) -> None:
        """After the settings dialog: everything that may have changed, at once."""
        self.setWindowOpacity(self.settings.opacity)
        self.apply_flags()
        self.apply_mode()
        if self.state.phase.name == "idle":
            self.state.set_phase(Phase("idle", self._idle_text()))
        self._refresh({"controls", "status", "captions"})

    def _change(self, key: str, value: Any) -> None:
        if self.settings.set(key, value) and self.store is not None:
            try:
                self.store.save(self.settings)
            except OSError as err:
                self.show_notice(f"Could not save the settings to {self.store.path}: {err.strerror}. "
                                 "They apply until Callcue quits.")

    # ---- the call ------------------------------------------------------------------------------

    @property
    def in_call(self) -> bool:
        return self.worker is not None and self.state.phase.name in ("loading", "listening")

    def attach(self, worker: Any) -> None:
        """Listen to a worker's signals (it need not have started)."""
        self.worker = worker
        worker.events.connect(self.on_events)
        worker.tick.connect(self.on_tick)
        worker.phase.connect(self.on_phase)
        if hasattr(worker, "done"):
            worker.done.connect(self._worker_done)

    def start_call(self) -> None:
        if self.in_call or self.worker_factory is None:
            return
        if self.wrapup.isVisible():
            self.close_wrap_up()  # the last call's wrap-up goes with the next call
        self._stop_worker()
        self.state.reset()
        self.state.set_phase(Phase("loading", "Starting\u2026"))
        self.attach(self.worker_factory())
        self._refresh(ALL_PARTS)
        self.worker.start()

    def stop_call(self) -> None:
        if self.worker is not None:
            self.worker.request_stop()  # returns at once; the worker's `done` follows

    def toggle_call(self) -> None:
        if self.in_call:
            self.stop_call()
        else:
            self.start_call()

    @Slot()
    def _worker_done(self) -> None:
        if self.state.phase.name in ("loading", "listening"):
            self.on_phase(Phase("ended", "The call ended."))

    def _stop_worker(self) -> None:
        if self.worker is not None and hasattr(self.worker, "stop"):
            self.worker.stop()
        self.worker = None

    def shutdown(self) -> None:
        self._stop_worker()

    def closeEvent(self, e: QCloseEvent) -> None:  # noqa: N802
        self.shutdown()
        super().closeEvent(e)

    # ---- controls ------------------------------------------------------------------------------

    def _act(self, action: str) -> bool:
        if self.worker is None or not self.in_call:
            return False
        self.worker.act(action)
        return True

    def _rules(self) -> SummaryRules:
        """The score bands of the playbook the call ran with."""
        try:
            return SummaryRules.from_playbook(load_playbook(self.settings.playbook, self.settings.profile))
        except CallcueError:
            return SummaryRules.from_playbook(load_playbook())

    def close_wrap_up(self) -> None:
        """One click: the wrap-up goes, and nothing of it is kept."""
        self.wrapup.hide()
        self.card.show()
        self.fit_height()

    def dismiss(self) -> None:
        cue = self.state.cue
        if cue is None:
            if self.wrapup.isVisible():
                self.close_wrap_up()  # the dismiss key closes the wrap-up too
            return
        # Say which cue: if the engine has moved on to another by the time it hears, nothing is dismissed.
        self._act(f"dismiss:{cue.id}")
        self.state.cue = None
        self._refresh({"cue"})

    def snooze(self) -> None:
        if self._act("snooze"):
            if self.state.cue is not None and self.state.cue.severity != NEVER_MUTED:
                self.state.cue = None  # an alert stays: a snooze never mutes it
            self._refresh({"cue"})

    def unsnooze(self) -> None:
        """Cancel the snooze: the engine confirms with its CueAction, and the countdown goes."""
        if self.state.snoozed_for > 0:
            self._act("unsnooze")

    def toggle_snooze(self) -> None:
        if self.state.snoozed_for > 0:
            self.unsnooze()
        else:
            self.snooze()

    def _show_recent(self, on: bool) -> None:
        self.recent.setVisible(on)
        self.recent_button.setText("Recent \u25be" if on else "Recent")
        self.fit_height()

    def toggle_hold(self) -> None:
        hold = not self.state.on_hold
        if self._act("hold" if hold else "resume"):
            self.hold_button.setChecked(hold)  # the engine confirms with its CueAction
        else:
            self.hold_button.setChecked(self.state.on_hold)

    # ---- from the worker -----------------------------------------------------------------------

    # Slots, so a worker's signals from its own thread are queued into this (the UI) thread.
    @Slot(object)
    def on_events(self, events: list[Event]) -> None:
        changed: set[str] = set()
        for ev in events:
            changed |= self.state.apply(ev)
        self._refresh(changed)

    @Slot(object)
    def on_tick(self, tick: Tick) -> None:
        self._refresh(self.state.tick(tick))

    @Slot(object)
    def on_phase(self, phase: Phase) -> None:
        self._refresh(self.state.set_phase(phase))

    # ---- drawing -------------------------------------------------------------------------------

    def _refresh(self, changed: set[str]) -> None:
        st = self.state
        if "cue" in changed and self.card.cue is not st.cue:
            self.card.set_cue(st.cue)
            emit(self.cueChanged, st.cue)
            self.fit_height()
        if "frustration" in changed:
            self.meter.set_level(st.frustration, st.trend)
            self.mini_meter.set_level(st.frustration, st.trend)
        if changed & {"silence", "controls"}:
            was = (self.timer.isVisible(), self.snooze_chip.isVisible(), self.timer.text())
            self.timer.set_state(st)
            self.snooze_chip.set_state(st, self.settings.hotkeys.get("snooze", ""))
            if was != (self.timer.isVisible(), self.snooze_chip.isVisible(), self.timer.text()):
                self.fit_height()
        if "wrapup" in changed and st.summary is not None:
            self.wrapup.set_wrap_up(wrap_up(st.summary, self._rules()))
            self.wrapup.show()
            self.card.hide()  # "no cue now" says nothing after the call
            self.fit_height()
        if "recent" in changed:
            self.recent.set_items(list(st.recent))
            if self.recent.isVisible():
                self.fit_height()
        if "talk" in changed:
            self.talk.set_talk(st.talk_s.get("agent", 0.0), st.talk_s.get("customer", 0.0))
        if "captions" in changed:
            self.captions.set_captions(st)
        if "commitments" in changed:
            self.promises.set_items(st.commitments)
        if "status" in changed:
            self.status.set_state(st)
            self.fit_height()
        if changed & {"status", "controls"}:
            self._controls()
        if changed & {"status", "controls", "cue"}:
            emit(self.stateChanged)

    def _controls(self) -> None:
        st, keys = self.state, self.settings.hotkeys
        live = self.in_call

        def tip(text: str, action: str) -> str:
            return f"{text} ({keys[action]})" if keys.get(action) else text

        self.call_button.setText("\u25a0 Stop call" if live else "\u25b6 Start call")
        self.call_button.setToolTip(tip(HOTKEY_LABELS["call"], "call"))
        self.call_button.setEnabled(live or self.worker_factory is not None)
        self.call_button.setProperty("live", live)
        self.call_button.style().unpolish(self.call_button)
        self.call_button.style().polish(self.call_button)
        self.hold_button.setEnabled(live)
        self.hold_button.setChecked(st.on_hold)
        self.hold_button.setText("Resume" if st.on_hold else "Hold")
        self.hold_button.setToolTip(tip("Customer on hold: mutes coaching cues until you resume, or both "
                                        "of you speak again (urgent ones still show)", "hold"))
        snoozed = st.snoozed_for > 0
        self.snooze_button.setEnabled(live)
        self.snooze_button.setText("End snooze" if snoozed else "Snooze 5 min")
        self.snooze_button.setToolTip(tip("Cues are snoozed: click to have them again" if snoozed else
                                          "No coaching cues for 5 minutes (urgent ones still show)", "snooze"))
        self.card.dismiss_button.setToolTip(tip("Dismiss this cue", "dismiss"))
        colour = {"listening": theme.OK, "loading": theme.SEVERITY["warn"], "error": theme.BAD}.get(
            st.phase.name, theme.IDLE)
        if st.problems:
            colour = theme.BAD
        self.dot.setStyleSheet(f"color: {colour};")
        self.click_through_label.setVisible(self.settings.click_through)
        help_text = key_help(keys)
        self.settings_button.setToolTip("Settings: devices, model, playbook, panel, hotkeys" +
                                        (f"\n\nHotkeys (from any window):\n{help_text}" if help_text else ""))


def run_hotkey(overlay: Overlay, action: str) -> None:
    """What each global hotkey does."""
    {
        "call": overlay.toggle_call,
        "dismiss": overlay.dismiss,
        "snooze": overlay.toggle_snooze,  # pressed again, it cancels the snooze
        "hold": overlay.toggle_hold,
        "click_through": overlay.toggle_click_through,
        "expand": overlay.toggle_mode,
    }.get(action, lambda: None)()


def app_instance() -> QApplication:
    app = QApplication.instance()
    return app if isinstance(app, QApplication) else QApplication([])
