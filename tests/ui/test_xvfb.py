"""On a real X server with a window manager: the overlay beside the agent's application.

Xvfb and openbox play the desktop, a plain Qt window plays the agent's CRM. The overlay appears,
is clicked and its hotkey pressed, and through all of it the CRM keeps the keyboard focus; a
screenshot shows the panel where it should be. Skipped only when the programs are not installed
(`./setup.sh --test` installs them; CI does).
"""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from callcue.ui.theme import PANEL_BG, skill_style

HERE = Path(__file__).parent
TOOLS = ("Xvfb", "openbox", "xdotool", "import", "xprop")
W, H = 1280, 800
missing = [t for t in TOOLS if shutil.which(t) is None]
pytestmark = pytest.mark.skipif(bool(missing), reason=f"not installed: {', '.join(missing)} (./setup.sh --test)")


class Proc:
    """A subprocess whose output lines the test can wait for."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.p = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.log: list[str] = []
        self.taken: set[int] = set()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.p.stdout:  # type: ignore[union-attr]
            self.log.append(line)
            self.lines.put(line.strip())

    def expect(self, prefix: str, timeout: float = 10.0) -> list[str]:
        """The next line starting with `prefix` that no earlier expect() returned, in output order."""
        deadline = time.monotonic() + timeout
        while True:
            for i, line in enumerate(self.log):
                words = line.split()
                if i not in self.taken and words and words[0] == prefix:
                    self.taken.add(i)
                    return words[1:]
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {prefix!r} line within {timeout} s; output:\n{''.join(self.log)}")
            try:
                self.lines.get(timeout=left)
            except queue.Empty:
                pass

    def stop(self) -> None:
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


def _free_display() -> int:
    for n in range(90, 200):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            return n
    raise RuntimeError("no free X display number")


def _until(check, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)  # polling a condition with a deadline, not waiting for time to pass


@pytest.fixture
def desktop(tmp_path):
    """Xvfb and openbox, with Xvfb's -noreset: by default the X server
    resets when its last client leaves (here the xprop that checks it is up), and an openbox that
    connects during the reset cannot open the display and exits (one start in four or so)."""
    n = _free_display()
    env = {**os.environ, "DISPLAY": f":{n}", "QT_QPA_PLATFORM": "xcb", "HOME": str(tmp_path),
           "CALLCUE_CONFIG_DIR": str(tmp_path / "config"), "CALLCUE_MANAGED_CONFIG": ""}
    procs: list[subprocess.Popen] = []

    def root_prop(name: str) -> str:
        return subprocess.run(["xprop", "-root", name], env=env, capture_output=True, text=True).stdout

    try:
        procs.append(subprocess.Popen(["Xvfb", f":{n}", "-screen", "0", f"{W}x{H}x24", "-nolisten", "tcp",
                                       "-noreset"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        _until(lambda: Path(f"/tmp/.X11-unix/X{n}").exists() and _accepts(env), 10, "Xvfb to accept clients")
        procs.append(subprocess.Popen(["openbox", "--sm-disable"], env=env, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL))
        _until(lambda: "window id" in root_prop("_NET_SUPPORTING_WM_CHECK"), 10, "openbox")
        yield env
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()


def _accepts(env: dict[str, str]) -> bool:
    """The X server answers a client (xprop exits 0 once it can open the display)."""
    return subprocess.run(["xprop", "-root", "-len", "0"], env=env, capture_output=True).returncode == 0


def xdo(env: dict[str, str], *args: str) -> str:
    return subprocess.run(["xdotool", *args], env=env, capture_output=True, text=True, check=True).stdout.strip()


def near(rgb: tuple[int, int, int], hex_colour: str, tol: int = 12) -> bool:
    want = tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return all(abs(a - b) <= tol for a, b in zip(rgb, want, strict=True))


def test_overlay_beside_another_window_keeps_its_focus_and_is_drawn_at_the_edge(desktop, tmp_path):
    from PySide6.QtGui import QImage

    env = desktop
    crm = Proc([sys.executable, str(HERE / "xvfb_app.py"), "holder"], env)
    overlay = None
    try:
        crm_id = int(crm.expect("READY")[0])
        xdo(env, "windowactivate", "--sync", str(crm_id))
        _until(lambda: xdo(env, "getactivewindow") == str(crm_id), 5, "the CRM window to be active")

        overlay = Proc([sys.executable, str(HERE / "xvfb_app.py"), "overlay"], env)
        x, y, w, h, cx, cy, cw, ch, why_x, why_y = map(int, overlay.expect("READY"))
        assert (x + w, y, w) == (W, 0, 340)  # docked to the right edge, at the top
        assert overlay.expect("HOTKEYS") == ["{}"]  # every global hotkey was grabbed
        assert overlay.expect("CUE") == ["check-in-silence"]
        assert xdo(env, "getactivewindow") == str(crm_id)
        assert xdo(env, "getwindowfocus") == str(crm_id)

        # Clicking the panel works (the why pane opens) and leaves the keyboard with the CRM.
        xdo(env, "mousemove", str(why_x), str(why_y), "click", "1")
        overlay.expect("WHY")
        assert xdo(env, "getactivewindow") == str(crm_id)
        xdo(env, "type", "--delay", "5", "refund")
        assert crm.expect("TEXT") == ["r"]
        _until(lambda: crm.log[-1].strip() == "TEXT refund", 5, "the typing to reach the CRM")

        shot = tmp_path / "screen.png"
        subprocess.run(["import", "-window", "root", str(shot)], env=env, check=True)
        img = QImage(str(shot))
        assert (img.width(), img.height()) == (W, H)

        def rgb(px: int, py: int) -> tuple[int, int, int]:
            c = img.pixelColor(px, py)
            return c.red(), c.green(), c.blue()

        # The panel's background fills its rectangle at the right edge ...
        for px, py in ((x + 3, y + h // 2), (x + w - 4, y + h - 4), (x + w // 2, y + 3)):
            assert near(rgb(px, py), PANEL_BG), (px, py, rgb(px, py))
        # ... the cue card's stripe has the skill's colour ...
        assert near(rgb(cx + 2, cy + ch // 2), skill_style("time-management").colour, 24), rgb(cx + 2, cy + ch // 2)
        # ... and left of it is the CRM and the desktop, not the panel.
        assert not near(rgb(x - 10, y + 100), PANEL_BG)
        assert near(rgb(300, 400), "#f4f4f4")

        # The global hotkey dismisses the cue while the CRM keeps the focus and gets no keystroke.
        xdo(env, "key", "ctrl+alt+d")
        assert overlay.expect("CUE") == ["None"]
        assert xdo(env, "getwindowfocus") == str(crm_id)
        assert crm.log[-1].strip() == "TEXT refund"
    finally:
        if overlay is not None:
            overlay.stop()
        crm.stop()


def test_hovering_the_cue_shows_its_why_while_the_panel_stays_inactive(desktop, tmp_path):
    """The panel never takes the focus, and Qt shows no tooltip on an inactive window unless told to."""
    from PySide6.QtGui import QImage

    env = desktop
    crm = Proc([sys.executable, str(HERE / "xvfb_app.py"), "holder"], env)
    overlay = None
    try:
        crm_id = int(crm.expect("READY")[0])
        xdo(env, "windowactivate", "--sync", str(crm_id))
        _until(lambda: xdo(env, "getactivewindow") == str(crm_id), 5, "the CRM window to be active")
        overlay = Proc([sys.executable, str(HERE / "xvfb_app.py"), "overlay"], env)
        overlay.expect("READY")
        text_x, text_y, settings_x, settings_y = map(int, overlay.expect("TARGETS"))

        xdo(env, "mousemove", str(text_x - 5), str(text_y))  # onto the cue's words, and a little move
        xdo(env, "mousemove", str(text_x), str(text_y))
        x, y, w, h, *words = overlay.expect("TIP")
        assert " ".join(words).startswith("Silent for 7s.")  # the cue's why
        assert xdo(env, "getactivewindow") == str(crm_id)  # hovering took nothing from the CRM
        shot = tmp_path / "tip.png"
        subprocess.run(["import", "-window", "root", str(shot)], env=env, check=True)
        c = QImage(str(shot)).pixelColor(int(x) + 3, int(y) + int(h) // 2)
        assert near((c.red(), c.green(), c.blue()), "#2a3038"), (c.red(), c.green(), c.blue())  # drawn, on top

        xdo(env, "mousemove", str(settings_x - 3), str(settings_y))  # the settings button lists the hotkeys
        xdo(env, "mousemove", str(settings_x), str(settings_y))
        tip = " ".join(overlay.expect("TIP")[4:])
        assert "Hotkeys (from any window):" in tip and "Ctrl+Alt+Z Snooze cues 5 min / end the snooze" in tip
        assert xdo(env, "getactivewindow") == str(crm_id)
        assert xdo(env, "getwindowfocus") == str(crm_id)
    finally:
        if overlay is not None:
            overlay.stop()
        crm.stop()


def test_the_docked_panel_is_a_strip_a_maximised_window_ends_beside(desktop):
    """_NET_WM_STRUT_PARTIAL on the panel: openbox keeps its column free, and a maximised CRM ends at it."""
    env = desktop
    overlay = Proc([sys.executable, str(HERE / "xvfb_app.py"), "overlay"], env)
    crm = None
    try:
        x, y, w, h = map(int, overlay.expect("READY")[:4])
        assert (x + w, w) == (W, 340)  # docked at the right edge, where it was before the strut
        (wid,) = overlay.expect("WID")
        prop = subprocess.run(["xprop", "-id", wid, "_NET_WM_STRUT_PARTIAL"], env=env, capture_output=True,
                              text=True).stdout
        values = [int(v) for v in prop.split("=", 1)[1].split(",")]
        assert values[:4] == [0, 340, 0, 0] and values[6:8] == [0, H - 1], prop  # the right column, all of it
        _until(lambda: "940" in subprocess.run(["xprop", "-root", "_NET_WORKAREA"], env=env,
                                               capture_output=True, text=True).stdout, 5, "the work area")
        crm = Proc([sys.executable, str(HERE / "xvfb_app.py"), "maximised"], env)
        deadline = time.monotonic() + 10
        while True:  # the window manager may maximise in steps: the last geometry counts
            gx, gy, gw, gh = map(int, crm.expect("GEOM", timeout=max(0.1, deadline - time.monotonic())))
            if gx + gw <= x or time.monotonic() > deadline:
                break
        assert gx == 0 and gx + gw == x, (gx, gw, x)  # it ends where the panel begins, and uses the rest
        assert gh > H // 2
    finally:
        if crm is not None:
            crm.stop()
        overlay.stop()
