"""Colours, skill badges and the panel's style sheet (resources/styles/overlay.qss)."""

from __future__ import annotations

from dataclasses import dataclass

from callcue import paths


@dataclass(frozen=True)
class SkillStyle:
    colour: str
    glyph: str  # drawn in the cue's badge; chosen from what DejaVu Sans and Segoe UI Symbol both have
    label: str


SKILLS: dict[str, SkillStyle] = {
    "empathy": SkillStyle("#e0729f", "\u2665", "Empathy"),
    "active-listening": SkillStyle("#4fa3e0", "\u21c4", "Active listening"),
    "clear-communication": SkillStyle("#4cc3c9", "\u270e", "Clear communication"),
    "conflict-management": SkillStyle("#ef5f56", "\u2691", "Conflict management"),
    "emotional-intelligence": SkillStyle("#c58af0", "\u263a", "Emotional intelligence"),
    "time-management": SkillStyle("#e8b949", "\u25d4", "Time management"),
    "accountability": SkillStyle("#8cc56d", "\u2713", "Accountability"),
    "negotiation": SkillStyle("#e0965a", "\u2696", "Negotiation"),
    "cultural-awareness": SkillStyle("#7fc4b0", "\u2295", "Cultural awareness"),
    "resilience": SkillStyle("#a9b4c6", "\u21bb", "Resilience"),
}
FALLBACK = SkillStyle("#a9b4c6", "\u25cf", "Cue")

SEVERITY = {"info": "#6f7a8a", "warn": "#e8b949", "alert": "#ef5f56"}
AGENT = "#4fa3e0"
CUSTOMER = "#e0965a"
OK = "#5cc27a"
BAD = "#ef5f56"
IDLE = "#8a93a3"
PANEL_BG = "#1d2127"
TEXT = "#eef1f5"
DIM = "#a4adbb"

TREND_ARROW = {"rising": "\u25b2", "falling": "\u25bc", "steady": "\u25b6"}
TREND_WORD = {"rising": "rising", "falling": "easing", "steady": "steady"}


def skill_style(skill: str) -> SkillStyle:
    return SKILLS.get(skill, FALLBACK)


def frustration_colour(level: float) -> str:
    if level >= 0.66:
        return "#ef5f56"
    if level >= 0.4:
        return "#e8b949"
    return "#5cc27a"


def style_sheet() -> str:
    path = paths.resources_dir() / "styles" / "overlay.qss"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""  # a missing style sheet leaves Qt's look: ugly, but every control still works
