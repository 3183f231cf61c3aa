"""WCAG contrast, measured on the pixels Qt drew.

Text is drawn without anti-aliasing for the measurement (`crisp_fonts`), so every pixel of a glyph
has the text's own colour: a label's background is its most common colour, and each other colour
that covers more than a few pixels is a colour of its text.
"""

from __future__ import annotations

from collections import Counter

from PySide6.QtCore import QRect
from PySide6.QtGui import QColor, QFont, QImage

AA = 4.5  # WCAG 2.x level AA for normal text


def luminance(c: QColor) -> float:
    def channel(v: int) -> float:
        s = v / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(c.red()) + 0.7152 * channel(c.green()) + 0.0722 * channel(c.blue())


def ratio(a: QColor, b: QColor) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def crisp_fonts(font: QFont) -> QFont:
    f = QFont(font)
    f.setStyleStrategy(QFont.StyleStrategy.NoAntialias)
    f.setHintingPreference(QFont.HintingPreference.PreferFullHinting)
    return f


def colours(img: QImage, rect: QRect, inset: int = 3) -> tuple[QColor, list[tuple[QColor, int]]]:
    """The background of `rect` in `img` and its other colours with their pixel counts, most first."""
    r = rect.adjusted(inset, inset, -inset, -inset).intersected(img.rect())
    counts: Counter[int] = Counter()
    for y in range(r.top(), r.bottom() + 1):
        for x in range(r.left(), r.right() + 1):
            counts[img.pixel(x, y) & 0xFFFFFF] += 1
    (bg, _), *rest = counts.most_common()
    return QColor(bg), [(QColor(c), n) for c, n in rest]


def text_contrasts(img: QImage, rect: QRect, min_pixels: int = 6) -> tuple[QColor, list[tuple[QColor, float]]]:
    """Each text colour (at least `min_pixels` pixels) of `rect` and its contrast with the background."""
    bg, others = colours(img, rect)
    return bg, [(c, ratio(c, bg)) for c, n in others if n >= min_pixels]
