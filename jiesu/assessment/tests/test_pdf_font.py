"""℃ and the other symbols of Chinese official texts render in the CJK font, in the PDFs (WeasyPrint) and with the
pages' font stack: the document embeds the CJK font alone (no fallback font for the symbols), and its glyph map
holds each symbol on a real glyph (not .notdef, the empty box)."""

import re
import shutil
from pathlib import Path

import pytest
from django.utils.html import escape

from jiesu.assessment.report import FONT

SYMBOLS = "℃①②③×—…“”·°±㎡№→√"
CJK = re.compile(rb"^[A-Z]{6}\+(WenQuanYi|Noto|SourceHan|WQY)")

pytestmark = pytest.mark.skipif(shutil.which("fc-list") is None, reason="no fontconfig: scripts/bootstrap installs it")


def _fonts_and_glyphs(pdf: bytes) -> tuple[set[bytes], dict[int, int]]:
    """The embedded fonts' names, and code point → glyph id from their ToUnicode maps."""
    fonts = set(re.findall(rb"/BaseFont\s*/([^\s/>\]\[]+)", pdf))
    glyphs: dict[int, int] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", pdf, re.S):
        for glyph, text in re.findall(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]{4})>", block):
            glyphs[int(text, 16)] = int(glyph, 16)
    return fonts, glyphs


def _pdf(font_family: str) -> bytes:
    import weasyprint

    html = (
        f'<html lang="zh-hans"><head><style>body {{ font-family: {font_family}; }}</style></head>'
        f"<body><h1>通报 ① 气温 −5℃</h1><p>供暖室温不低于18℃；面积 120㎡ × 3 — 见附件②，No. 5 {SYMBOLS}</p>"
        # charts as the 通报's trend chart draws them: the font on the <svg> element (WeasyPrint does not apply the
        # page's stylesheet to inline SVG text, which would fall back to DejaVu for Latin and symbols)
        f'<svg width="200" height="40" font-family="{escape(font_family)}" font-size="11">'
        '<text x="0" y="20">18℃ ③ × 85.0%</text></svg></body></html>'
    )
    return bytes(weasyprint.HTML(string=html).write_pdf(uncompressed_pdf=True))


@pytest.mark.parametrize("stack", ["documents", "pages"])
def test_symbols_render_in_the_cjk_font(stack: str) -> None:
    if stack == "documents":  # the assessment 通报 PDF and the cadres' evaluation PDF use this stack
        family = FONT
    else:  # the pages' stack, from app.css (a server-side browser or a Linux desktop falls through to WenQuanYi)
        css = (Path(__file__).parents[2] / "static" / "jiesu" / "app.css").read_text(encoding="utf-8")
        found = re.search(r"body\{font-family:([^;]+);", css)
        assert found, "app.css sets the body's font stack"
        family = found.group(1)
    fonts, glyphs = _fonts_and_glyphs(_pdf(family))
    assert fonts and all(CJK.match(f) for f in fonts), fonts  # no fallback font for any character
    for symbol in SYMBOLS + "18":
        assert glyphs.get(ord(symbol), 0) != 0, f"{symbol} (U+{ord(symbol):04X}) has no glyph"


def test_the_cadre_evaluation_document_uses_the_cjk_font_too() -> None:
    """The 评议 PDF (`jiesu.cadres.export`) takes the same stack; it was once autoescaped into the stylesheet
    (&#x27;), which made the whole declaration invalid and the text fall back to DejaVu Serif."""
    import weasyprint
    from django.template.loader import render_to_string

    html = render_to_string("cadres/evaluation_document.html", {"ev": None, "rows": [], "font": FONT})
    assert "&#x27;" not in html.split("</style>")[0]
    html = html.replace("</body>", "<p>评议 2026 ℃ ① × — No. 5</p></body>")
    fonts, glyphs = _fonts_and_glyphs(bytes(weasyprint.HTML(string=html).write_pdf(uncompressed_pdf=True)))
    assert fonts and all(CJK.match(f) for f in fonts), fonts
    assert glyphs.get(ord("℃"), 0) != 0
