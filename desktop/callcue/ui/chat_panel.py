"""The overlay's chat panel: the live chats' cues, the customer's frustration, and the reply check.

The local chat endpoint (callcue.chat.server.ChatServer) runs in its own threads; it hands each
chat's events to `ChatBridge.hook`, whose signal is queued into the UI thread. Nothing here reads
the engine's objects: the panel knows the chats only from their events (ui.chat_model, plain data),
and the reply check runs on the draft and that plain data (the chat's frustration), in this thread.

Why a window of its own, and not a part of the overlay: the overlay is a tool window with
WindowDoesNotAcceptFocus, so a click on a cue never takes the keyboard from the agent's phone or
chat tool, and the window system then never gives it key presses, so a text box in it could not be
typed into. Clearing that flag on the overlay while the agent types would re-create its window (Qt
hides and re-shows a window whose flags change) and make every click on the overlay a focus thief.
So the chat panel is a second small window that does accept focus, but is shown without activating
(WA_ShowWithoutActivating), never raises itself when a cue arrives, and all its buttons refuse
focus: only a click into the reply box gives it the keyboard, and the agent clicks back into their
chat tool to take it back. Nothing typed there is sent anywhere: the check only reads the draft.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRect, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QFontMetrics, QGuiApplication, QKeyEvent, QMouseEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from callcue.chat.replycheck import ReplyCheck
from callcue.engine.events import Event
from callcue.engine.playbook import Playbook
from callcue.settings import Settings
from callcue.ui import theme
from callcue.ui.chat_model import ChatPanelModel
from callcue.ui.qtcompat import emit
from callcue.ui.widgets import CueCard, Meter, Section, small_font, tool_button

TICK_MS = 1000  # the panel's clock: a cue's show_s is counted in whole seconds at most this late
DRAFT_LINES = 4
FOLLOW = "Follow cues"

# The overlay's look, scoped to this window, and the two kinds of control the overlay does not have.
CHAT_QSS = """
#chatPanel QPlainTextEdit {
    color: #eef1f5; background: #272c34; border: 1px solid #3a414c; border-radius: 4px; padding: 2px;
}
#chatPanel QPlainTextEdit:focus { border-color: #4fa3e0; }
#chatPanel QComboBox {
    color: #eef1f5; background: #2c323b; border: 1px solid #3a414c; border-radius: 4px; padding: 2px 6px;
}
#chatPanel QComboBox QAbstractItemView { color: #eef1f5; background: #2c323b; selection-background-color: #38404b; }
#chatPanel QToolButton#checkButton { background: #2f4f73; border-color: #4f7fb3; font-weight: bold; }
#chatPreview { color: #a4adbb; }
#checkResult { color: #dfe4ea; }
"""


def chat_window_flags(settings: Settings) -> Qt.WindowType:
    # A tool window like the overlay, but one that may take the keyboard: see the module's docstring.
    # Click-through is the overlay's alone: a panel that clicks go through could not be typed into.
    flags = Qt.Tool | Qt.FramelessWindowHint | Qt.NoDropShadowWindowHint
    if settings.always_on_top:
        flags |= Qt.WindowStaysOnTopHint
    return flags


class ChatBridge(QObject):
    """The endpoint's hook: called on the server's threads, it only emits (queued into the UI thread)."""

    events = Signal(str, object)  # chat id, list[Event]

    def hook(self, chat_id: str, events: list[Event]) -> None:
        emit(self.events, chat_id, list(events))


class DraftBox(QPlainTextEdit):
    """The reply box: Ctrl+Enter checks. It takes the keyboard only when the agent clicks into it."""

    submitted = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("draft")
        self.setFocusPolicy(Qt.ClickFocus)  # never by Tab from elsewhere, never when the panel appears
        self.setTabChangesFocus(True)
        self.setPlaceholderText("Paste or type your reply, then Check (Ctrl+Enter). Nothing is sent.")
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.setFixedHeight(QFontMetrics(self.font()).lineSpacing() * DRAFT_LINES + 12)

    def keyPressEvent(self, e: QKeyEvent) -> None:  # noqa: N802 - Qt's name
        if e.key() in (Qt.Key_Return, Qt.Key_Enter) and e.modifiers() & Qt.ControlModifier:
            emit(self.submitted)
            return
        super().keyPressEvent(e)

    def mousePressEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        # Some window managers do not activate a tool window on a click: ask, so typing reaches the box.
        self.window().activateWindow()
        self.setFocus(Qt.MouseFocusReason)
        super().mousePressEvent(e)


class ChatPanel(QWidget):
    """The chats' cues and the reply check. `start_server()` listens for chats on 127.0.0.1."""

    cueChanged = Signal(object)  # the Cue now shown, or None
    checked = Signal(object)  # the ReplyCheck of the draft

    def __init__(self, settings: Settings, playbook: Playbook | None = None,
                 clock: Callable[[], float] = time.monotonic, companion: QWidget | None = None) -> None:
        super().__init__(None, chat_window_flags(settings))
        self.setObjectName("chatPanel")
        self.setAttribute(Qt.WA_ShowWithoutActivating)
        self.setAttribute(Qt.WA_StyledBackground)
        self.setWindowTitle("Callcue chats")
        self.settings = settings
        if playbook is None:
            from callcue.engine.playbook import load_playbook

            playbook = load_playbook(settings.playbook, settings.profile)
        self.playbook = playbook
        self.clock = clock
        self.companion = companion  # the overlay: the chat panel docks clear of it
        self.model = ChatPanelModel(show_s=float(playbook.section("chat")["show_s"]))
        self.server: Any = None  # callcue.chat.server.ChatServer, once listening
        self.listen_error: str | None = None
        self.result: ReplyCheck | None = None
        self.bridge = ChatBridge(self)
        # Queued: the hook runs on the server's threads, the slot in this (the UI) thread.
        self.bridge.events.connect(self.on_events, Qt.QueuedConnection)
        self._build()
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self.on_tick)
        self._timer.start()
        self._refresh({"chats", "shown", "cue", "frustration"})

    # ---- building ------------------------------------------------------------------------------

    def _build(self) -> None:
        self.dot = QLabel("\u25cf")
        self.title = QLabel("Chats")
        self.title.setFont(small_font(self, +0.5, bold=True))
        self.chooser = QComboBox()
        self.chooser.setFocusPolicy(Qt.NoFocus)
        self.chooser.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.chooser.setMinimumContentsLength(8)
        self.chooser.setToolTip("Which chat the panel shows; \u201cFollow cues\u201d moves to the chat whose "
                                "cue is waiting")
        self.chooser.activated.connect(self._chosen)
        self.close_button = tool_button("\u2715", "Hide the chat panel (it comes back with the next new chat)",
                                        "closeButton")
        self.close_button.clicked.connect(self.hide)
        head = QHBoxLayout()
        head.setSpacing(6)
        head.addWidget(self.dot)
        head.addWidget(self.title)
        head.addWidget(self.chooser, 1)
        head.addWidget(self.close_button)

        self.status = QLabel()
        self.status.setObjectName("statusText")
        self.status.setWordWrap(True)
        self.status.setFont(small_font(self, -1))
        self.preview = QLabel()
        self.preview.setObjectName("chatPreview")
        self.preview.setWordWrap(True)
        self.preview.setFont(small_font(self, -0.5))
        self.card = CueCard()
        self.card.placeholder.setText("No cue for this chat now. Its cues appear here, one at a time.")
        self.card.dismissRequested.connect(self.dismiss)
        self.meter = Meter()
        self.meter.setToolTip("How frustrated the customer's messages read, smoothed over the chat. Only the "
                              "customer is measured.")

        self.draft = DraftBox()
        self.draft.submitted.connect(self.check_draft)
        self.draft.textChanged.connect(self._draft_changed)
        self.check_button = tool_button("Check", "Check the tone of the draft (Ctrl+Enter); nothing is sent",
                                        "checkButton")
        self.check_button.clicked.connect(self.check_draft)
        self.clear_button = tool_button("Clear", "Empty the reply box", "clearButton")
        self.clear_button.clicked.connect(self.draft.clear)
        buttons = QHBoxLayout()
        buttons.setSpacing(6)
        buttons.addWidget(self.check_button)
        buttons.addWidget(self.clear_button)
        buttons.addStretch(1)
        self.check_result = QLabel()
        self.check_result.setObjectName("checkResult")
        self.check_result.setWordWrap(True)
        self.check_result.setTextFormat(Qt.RichText)
        self.check_result.setTextInteractionFlags(Qt.NoTextInteraction)
        self.check_result.hide()

        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 8, 10, 10)
        lay.setSpacing(8)
        lay.addLayout(head)
        lay.addWidget(self.status)
        lay.addWidget(self.preview)
        lay.addWidget(self.card)
        lay.addWidget(self.meter)
        lay.addWidget(Section("Reply check"))
        lay.addWidget(self.draft)
        lay.addLayout(buttons)
        lay.addWidget(self.check_result)
        self.setStyleSheet(theme.style_sheet().replace("#overlay", "#chatPanel") + CHAT_QSS)

    # ---- the endpoint ----------------------------------------------------------------------------

    def start_server(self, port: int | None = None, token: str | None = None, tick_s: float | None = 1.0) -> Any:
        """Listen for chats on 127.0.0.1 (`port` None: the playbook's [chat] port; 0: any free one).

        Raises CallcueError when it cannot (the port is taken); the status line says so too."""
        from callcue.chat.server import ChatServer
        from callcue.errors import CallcueError

        self.stop_server()
        # A new endpoint starts with no chats: the old one's are gone with it.
        self.model = ChatPanelModel(show_s=self.model.show_s)
        self._refresh({"chats", "shown", "cue", "frustration"})
        try:
            self.server = ChatServer(self.playbook, port=port, token=token, on_events=self.bridge.hook,
                                     tick_s=tick_s).start()
            self.listen_error = None
        except CallcueError as err:
            self.listen_error = str(err)
            raise
        finally:
            self._refresh({"status"})
        return self.server

    def set_playbook(self, playbook: Playbook) -> None:
        """Another playbook or profile: the next endpoint's chats use it (start_server again)."""
        self.playbook = playbook
        self.model.show_s = float(playbook.section("chat")["show_s"])

    def stop_server(self) -> None:
        server, self.server = self.server, None
        if server is not None:
            server.on_events = None  # events still on their way are not wanted
            server.stop()
        self._refresh({"status"})

    def shutdown(self) -> None:
        self._timer.stop()
        self.stop_server()

    # ---- from the endpoint and the clock -------------------------------------------------------

    @Slot(str, object)
    def on_events(self, chat_id: str, events: list[Event]) -> None:
        new = chat_id not in self.model.chats
        changed = self.model.apply(chat_id, events, self.clock())
        self._refresh(changed)
        if new and chat_id in self.model.chats and not self.isVisible():
            self.show_quietly()

    @Slot()
    def on_tick(self) -> None:
        self._refresh(self.model.tick(self.clock()))

    # ---- the agent -------------------------------------------------------------------------------

    def _chosen(self, index: int) -> None:
        self._refresh(self.model.select(self.chooser.itemData(index)) | {"chats"})

    def select(self, chat_id: str | None) -> None:
        self._refresh(self.model.select(chat_id) | {"chats"})

    def dismiss(self) -> None:
        view = self.model.current
        if self.server is not None and view is not None and view.cue is not None:
            # the chat's engine hears it too (on this thread; its events come back through the bridge)
            self.server.act(view.chat_id, "dismiss")
        self._refresh(self.model.dismiss())

    def _draft_changed(self) -> None:
        self._refresh(self.model.set_drafting(bool(self.draft.toPlainText().strip())))
        if self.result is not None and self.draft.toPlainText() != self.result.draft:
            self.result = None  # the flags were for another text
            self.check_result.hide()
            self.fit_height()

    def check_draft(self) -> ReplyCheck | None:
        """The reply check of the draft in the shown chat's context. Reads the draft, sends nothing."""
        draft = self.draft.toPlainText()
        if not draft.strip():
            self.result = None
            self.check_result.setText(f"<span style='color:{theme.DIM}'>Write or paste a reply to check.</span>")
            self.check_result.show()
            self.fit_height()
            return None
        self.result = self.model.check(draft, self.playbook)
        self.check_result.setText(self._result_html(self.result))
        self.check_result.show()
        self.fit_height()
        emit(self.checked, self.result)
        return self.result

    def _result_html(self, result: ReplyCheck) -> str:
        view = self.model.current
        against = f"for {html.escape(view.chat_id)}" if view is not None else "with no chat as context"
        head = f"<span style='color:{theme.DIM}'>Checked {against}; nothing was sent.</span>"
        if result.ok:
            return f"{head}<br><b style='color:{theme.OK}'>\u2713 No flags: it reads warm and clear.</b>"
        parts = [head]
        for f in result.flags:
            block = f"<b style='color:{theme.SEVERITY['warn']}'>\u2691 {html.escape(f.message)}</b>"
            if f.found:
                found = ", ".join(f"\u201c{html.escape(x)}\u201d" for x in f.found[:4])
                block += f"<br><span style='color:{theme.DIM}'>Found: {found}</span>"
            if f.suggestion:
                block += f"<br>Try: {html.escape(f.suggestion)}"
            parts.append(block)
        return "<br><br>".join(parts) if len(parts) > 2 else "<br>".join(parts)

    # ---- the window ------------------------------------------------------------------------------

    def show_quietly(self) -> None:
        """Show without taking the keyboard or raising above what the agent is doing."""
        self.dock()
        self.show()

    def toggle(self) -> None:
        if self.isVisible():
            self.hide()
        else:
            self.show_quietly()

    def dock_rect(self) -> QRect:
        """The overlay's edge, at the bottom of the screen; beside the overlay if it would cover it."""
        screen = (self.companion.screen() if self.companion is not None else None) or \
            QGuiApplication.primaryScreen()
        area = screen.availableGeometry()
        width = min(self.settings.width, area.width())
        self.layout().activate()
        height = min(max(self.layout().totalHeightForWidth(width), self.minimumSizeHint().height()),
                     area.height())
        left = self.settings.edge == "left"
        x = area.left() if left else area.left() + area.width() - width
        rect = QRect(x, area.top() + area.height() - height, width, height)
        other = self.companion.geometry() if self.companion is not None and self.companion.isVisible() else None
        if other is not None and rect.intersects(other):
            x = other.right() + 1 if left else other.left() - width
            rect.moveLeft(max(area.left(), min(x, area.left() + area.width() - width)))
        return rect

    def dock(self) -> None:
        rect = self.dock_rect()
        self.setFixedWidth(rect.width())
        self.setGeometry(rect)

    def fit_height(self) -> None:
        if self.isVisible():
            self.dock()

    def apply_settings(self) -> None:
        """After the settings dialog: the window's flags, width and opacity (the endpoint: see run.py)."""
        visible = self.isVisible()
        self.setWindowFlags(chat_window_flags(self.settings))  # hides the window: Qt re-creates it
        self.setAttribute(Qt.WA_ShowWithoutActivating)
        self.setWindowOpacity(self.settings.opacity)
        if visible:
            self.show_quietly()

    # ---- drawing ---------------------------------------------------------------------------------

    def _refresh(self, changed: set[str]) -> None:
        model = self.model
        view = model.current
        if "status" in changed or "chats" in changed:
            self._status()
        if "chats" in changed or "shown" in changed:
            self._fill_chooser()
        if changed & {"shown", "frustration", "chats"}:
            self.meter.set_level(view.frustration if view else None, view.trend if view else "steady")
            preview = view.preview if view is not None else ""
            self.preview.setText(f"Customer: \u201c{preview}\u201d" if preview else "")
            self.preview.setVisible(bool(preview))
        if changed & {"cue", "shown"} and self.card.cue is not model.cue:
            self.card.set_cue(model.cue)
            emit(self.cueChanged, model.cue)
            self.fit_height()

    def _status(self) -> None:
        n = len(self.model.chats)
        if self.server is not None:
            colour = theme.OK
            text = (f"{n} live chat{'s' if n != 1 else ''} \u00b7 " if n else "No live chats yet \u00b7 ") + \
                f"listening on {self.server.url}"
        elif self.listen_error:
            colour, text = theme.BAD, f"Not listening for chats: {self.listen_error}"
        else:
            colour, text = theme.IDLE, "Not listening for chats (Settings \u203a Panel \u203a Chat assistance)"
        self.dot.setStyleSheet(f"color: {colour};")
        self.status.setText(text)

    def _fill_chooser(self) -> None:
        model = self.model
        self.chooser.blockSignals(True)
        self.chooser.clear()
        self.chooser.addItem(FOLLOW if model.shown is None else f"{FOLLOW} ({model.shown})", None)
        for view in model.chats.values():
            self.chooser.addItem(model.label(view), view.chat_id)
        index = self.chooser.findData(model.shown) if model.pinned else 0
        self.chooser.setCurrentIndex(max(0, index))
        self.chooser.setEnabled(bool(model.chats))
        self.chooser.blockSignals(False)
