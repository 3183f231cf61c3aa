"""The tray icon: the call's state at a glance, and every control in its menu.

The menu matters most where the panel cannot be clicked (click-through) or hotkeys do not work
(Wayland): from here everything can still be reached.
"""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import QObject, QRectF, Qt
from PySide6.QtGui import QAction, QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from callcue.ui import theme
from callcue.ui.hotkeys import key_list, unavailable_reason
from callcue.ui.overlay import Overlay, run_hotkey
from callcue.ui.panel import countdown
from callcue.ui.qtcompat import emit


def state_colour(overlay: Overlay) -> tuple[str, str]:
    """The icon's colour and its tooltip, from the panel's state."""
    st = overlay.state
    if st.problems or st.phase.name == "error":
        return theme.BAD, "Callcue: needs attention"
    if st.phase.name != "listening":
        return theme.IDLE, "Callcue: not listening"
    if st.on_hold:
        return "#7fb0e0", "Callcue: on hold (cues muted)"
    if st.cue is not None:
        return theme.skill_style(st.cue.skill).colour, f"Callcue: {st.cue.text}"
    if st.snoozed_for > 0:
        return theme.DIM, "Callcue: cues snoozed"
    return theme.OK, "Callcue: listening"


def make_icon(colour: str, ring: bool = False, size: int = 64) -> QIcon:
    pix = QPixmap(size, size)
    pix.fill(Qt.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.Antialiasing)
    p.setPen(Qt.NoPen)
    p.setBrush(QColor("#1d2127"))
    p.drawRoundedRect(QRectF(2, 2, size - 4, size - 4), size * 0.22, size * 0.22)
    p.setBrush(QColor(colour))
    r = size * 0.26
    p.drawEllipse(QRectF(size / 2 - r, size / 2 - r, 2 * r, 2 * r))
    if ring:
        p.setBrush(Qt.NoBrush)
        pen = p.pen()
        pen.setColor(QColor(colour))
        pen.setWidthF(size * 0.06)
        p.setPen(pen)
        p.drawEllipse(QRectF(size * 0.14, size * 0.14, size * 0.72, size * 0.72))
    p.end()
    return QIcon(pix)


class Tray(QObject):
    def __init__(self, overlay: Overlay) -> None:
        super().__init__(overlay)
        self.overlay = overlay
        self.icon = QSystemTrayIcon(overlay)
        self.menu = QMenu()
        self.actions: dict[str, QAction] = {}
        for name, text, slot in (
            ("call", "Start call", overlay.toggle_call),
            ("hold", "Hold", overlay.toggle_hold),
            ("snooze", "Snooze cues 5 min", overlay.toggle_snooze),
            ("dismiss", "Dismiss cue", overlay.dismiss),
            (None, None, None),
            ("show", "Show panel", self._toggle_panel),
            ("expand", "Expanded panel", overlay.toggle_mode),
            ("click_through", "Click-through", overlay.toggle_click_through),
            ("settings", "Settings\u2026", lambda: emit(overlay.settingsRequested, "")),
            (None, None, None),
            ("quit", "Quit Callcue", partial(emit, overlay.quitRequested)),
        ):
            if name is None:
                self.menu.addSeparator()
                continue
            act = self.menu.addAction(text)
            act.triggered.connect(slot)
            self.actions[name] = act
        for name in ("show", "expand", "click_through"):
            self.actions[name].setCheckable(True)
        # Every hotkey in one place an agent finds: each entry also does what its key does.
        self.keys_menu = QMenu("Hotkeys")
        self.menu.insertMenu(self.actions["settings"], self.keys_menu)
        self.keys_menu.aboutToShow.connect(self.fill_keys)
        self.fill_keys()
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)
        overlay.stateChanged.connect(self.update)
        self.update()

    def fill_keys(self) -> None:
        self.keys_menu.clear()
        reason = unavailable_reason()
        if reason:
            note = self.keys_menu.addAction(f"Hotkeys are off here: {reason}")
            note.setEnabled(False)
        for action, label, key in key_list(self.overlay.settings.hotkeys):
            act = self.keys_menu.addAction(f"{label}\t{key}")
            act.triggered.connect(partial(run_hotkey, self.overlay, action))
        self.keys_menu.addSeparator()
        change = self.keys_menu.addAction("Change the keys\u2026")
        change.triggered.connect(lambda: emit(self.overlay.settingsRequested, "hotkeys"))

    def show(self) -> bool:
        if not QSystemTrayIcon.isSystemTrayAvailable():
            return False  # the panel has every control itself
        self.icon.show()
        return True

    def _toggle_panel(self) -> None:
        self.overlay.setVisible(not self.overlay.isVisible())

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.Trigger:
            self._toggle_panel()

    def update(self) -> None:
        o, st = self.overlay, self.overlay.state
        colour, tip = state_colour(o)
        self.tooltip = tip
        self.colour = colour
        self.icon.setIcon(make_icon(colour, ring=o.in_call))
        self.icon.setToolTip(tip)
        keys = o.settings.hotkeys

        def label(text: str, action: str) -> str:
            return f"{text}\t{keys[action]}" if keys.get(action) else text

        self.actions["call"].setText(label("Stop call" if o.in_call else "Start call", "call"))
        self.actions["call"].setEnabled(o.in_call or o.worker_factory is not None)
        self.actions["hold"].setText(label("Resume (end hold)" if st.on_hold else "Hold", "hold"))
        for name in ("hold", "snooze"):
            self.actions[name].setEnabled(o.in_call)
        self.actions["snooze"].setText(label(f"End snooze ({countdown(st.snoozed_for)} left)" if st.snoozed_for > 0
                                             else "Snooze cues 5 min", "snooze"))
        self.actions["dismiss"].setText(label("Dismiss cue", "dismiss"))
        self.actions["dismiss"].setEnabled(st.cue is not None)
        self.actions["show"].setChecked(o.isVisible())
        self.actions["expand"].setChecked(o.expanded)
        self.actions["expand"].setText(label("Expanded panel", "expand"))
        self.actions["click_through"].setChecked(o.settings.click_through)
        self.actions["click_through"].setText(label("Click-through", "click_through"))
