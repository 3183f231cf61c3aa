"""`callcue` (or `callcue run`): the live overlay beside the agent's tools."""

from __future__ import annotations

import argparse
import os
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="open the live overlay (what `callcue` alone does)",
                       description="Open the overlay: a slim panel docked to a screen edge that shows one "
                                   "short cue at a time during calls. Start the call from the panel, its tray "
                                   "icon or the hotkey (Ctrl+Alt+K by default).")
    p.add_argument("--start", action="store_true", help="start listening at once")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    return open_overlay(start=getattr(args, "start", False))


def check_display() -> None:
    from callcue.errors import CallcueError

    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise CallcueError("no display to show the overlay on (neither DISPLAY nor WAYLAND_DISPLAY is set); "
                           "run it in a desktop session, or try `callcue demo --headless` to see what it "
                           "would show")


def preflight(settings) -> tuple[str, str | None]:  # type: ignore[no-untyped-def]
    """Before listening: what is missing (microphone, model) and what the status line offers to fix."""
    from callcue.errors import CallcueError
    from callcue.ui.settings_dialog import input_devices

    problems: list[str] = []
    fix = None
    names, why = input_devices()
    if why:
        problems.append(f"No microphone: {why}.")
        fix = "devices"
    else:
        for label, chosen in (("Microphone", settings.agent_device), ("Customer audio", settings.customer_device)):
            if chosen and chosen not in names:
                problems.append(f"{label} \u201c{chosen}\u201d is not connected; choose another device.")
                fix = "devices"
    try:
        from callcue.speech.models import choose_model  # the one rule every command goes by

        ref = choose_model(settings.model)
        if ref is None:
            problems.append("No speech model: cues from the voice only (talk-over, silences, pace). "
                            "Install one for words-based cues.")
            fix = fix or "model"
    except CallcueError as err:
        problems.append(f"Speech model: {err}")
        fix = fix or "model"
    return " ".join(problems), fix


def load_settings(store=None):  # type: ignore[no-untyped-def]
    """The user's settings with IT's managed layer and CALLCUE_* variables on top, and what to tell."""
    from callcue import managed
    from callcue.settings import SettingsStore

    store = store or SettingsStore()
    settings = store.load()
    notes = [store.notice] if store.notice else []
    notes += managed.apply(settings, managed.current())
    return settings, " ".join(notes) or None


class ChatAssist:
    """The overlay's chat panel and its endpoint, as the settings say (chat_enabled, chat_port)."""

    def __init__(self, settings, overlay) -> None:  # type: ignore[no-untyped-def]
        self.settings = settings
        self.overlay = overlay
        self.panel = None  # built when chat assistance is first on: a startup without it pays nothing
        self._applied: tuple | None = None
        self._book: tuple | None = None

    def sync(self) -> None:
        """Start, restart or stop listening after a change; a problem goes to the overlay's notice."""
        from callcue.errors import CallcueError

        s = self.settings
        if self.panel is not None:
            self.panel.apply_settings()
            self.overlay.chat_button.setVisible(s.chat_enabled)
        want = (s.chat_enabled, s.chat_port, s.playbook, s.profile)
        if want == self._applied:
            return
        self._applied = want
        self.stop()
        if not s.chat_enabled:
            if self.panel is not None:
                self.panel.hide()
            return
        try:
            book = (s.playbook, s.profile)
            if self.panel is None or book != self._book:
                from callcue.engine.playbook import load_playbook

                playbook = load_playbook(*book)
                if self.panel is None:
                    from callcue.ui.chat_panel import ChatPanel

                    self.panel = ChatPanel(s, playbook, companion=self.overlay)
                    self.overlay.attach_chat(self.panel)
                else:
                    self.panel.set_playbook(playbook)
                self._book = book
            self.panel.start_server(port=s.chat_port)
        except CallcueError as err:
            self.overlay.show_notice(f"Chat assistance is off: {err}")

    def stop(self) -> None:
        if self.panel is not None:
            self.panel.stop_server()


def open_overlay(demo: bool = False, speed: float = 1.0, use_model: bool = True, start: bool = False,
                 save: bool | None = None) -> int:
    check_display()
    from PySide6.QtCore import QTimer

    from callcue.settings import SettingsStore
    from callcue.ui import qtcompat
    from callcue.ui.hotkeys import GlobalHotkeys
    from callcue.ui.overlay import Overlay, app_instance, run_hotkey
    from callcue.ui.panel import Phase
    from callcue.ui.settings_dialog import SettingsDialog
    from callcue.ui.tray import Tray
    from callcue.ui.workers import CallWorker

    qtcompat.check()
    app = app_instance()
    app.setApplicationName("Callcue")
    app.setQuitOnLastWindowClosed(False)  # the settings dialog closing must not end the app
    store = SettingsStore()
    settings, notice = load_settings(store)

    def factory():  # type: ignore[no-untyped-def]
        return CallWorker(settings, "demo" if demo else "live", speed=speed, use_model=use_model, save=save)

    overlay = Overlay(settings, store, factory, notice=notice)
    chat = ChatAssist(settings, overlay)
    chat.sync()
    tray = Tray(overlay)
    hotkeys = GlobalHotkeys(overlay)
    hotkeys.triggered.connect(lambda action: run_hotkey(overlay, action))
    hotkeys.set_keys(settings.hotkeys)

    def hotkey_note() -> str | None:
        if hotkeys.reason:
            return hotkeys.reason
        if hotkeys.failed:
            return "Some keys could not be set: " + "; ".join(hotkeys.failed.values())
        return None

    def open_settings(page: str = "") -> None:
        dialog = SettingsDialog(settings, store, hotkey_note=hotkey_note())
        dialog.open_page(page)
        dialog.applied.connect(overlay.apply_settings)
        dialog.applied.connect(lambda: hotkeys.set_keys(settings.hotkeys))
        dialog.applied.connect(lambda: None if demo or overlay.in_call else check())
        dialog.applied.connect(chat.sync)
        dialog.exec()

    def check() -> None:
        problem, fix = preflight(settings)
        if problem and overlay.state.phase.name == "idle":
            overlay.on_phase(Phase("idle", f"Not listening. {problem}", fix=fix))
        elif overlay.state.phase.name == "idle":
            overlay.on_phase(Phase("idle", overlay._idle_text()))

    from callcue.calls.recipe import preload

    preload()
    # Ctrl-C in the terminal, or SIGTERM, ends the app properly (the call's summary is still made):
    # Python only runs its signal handlers between bytecodes, so a timer lets it in now and then.
    import signal

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: app.quit())
    wake = QTimer(overlay)
    wake.timeout.connect(lambda: None)
    wake.start(250)
    overlay.settingsRequested.connect(open_settings)
    overlay.quitRequested.connect(app.quit)
    overlay.show()
    tray.show()
    if demo or start:
        QTimer.singleShot(0, overlay.start_call)
    else:
        QTimer.singleShot(0, check)
    try:
        return app.exec()
    finally:
        hotkeys.stop()
        overlay.shutdown()
        chat.stop()
