"""The demo's report: an HTML page and a PNG of the same table, queries beside what they found.

The PNG is composed with Pillow, and every piece of text in it is drawn by `engine.render` —
the same renderer the model reads with — so Thai, Arabic or Bengali need no browser and no
system fonts. A green frame marks a picture that fits the query, a red one a picture that does not.
"""

from __future__ import annotations

import html
from pathlib import Path

from PIL import Image, ImageDraw

from engine.atomic import atomic_path, write_atomic
from engine.render import RenderConfig, render
from engine.scenes import LANGUAGES, Scene, draw_scene, satisfies

THUMB_PX = 128  # thumbnails in the HTML page
HIT, MISS = (40, 160, 60), (200, 40, 40)
PNG_THUMB, PNG_ROW, QUERY_W, LABEL_W, SCORE_W = 56, 66, 330, 120, 70


def write_html(
    path: Path, asked, found, shown: dict[str, int], scenes: list[Scene], pictures: list[Path], top_k: int, read: dict | None = None, texts: list | None = None
) -> None:
    """report.html beside a thumbs/ folder; written aside and renamed into place. `read` and `texts`
    (the text search's results and its collection as (language, text) per scene) add its table."""
    thumbs = path.parent / "thumbs"
    thumbs.mkdir(exist_ok=True)
    labels = list(found)
    rows = []
    for lang, query in shown.items():
        spec, text = asked[lang][query]
        cells = [
            f"<td>{html.escape(LANGUAGES[lang].NAME)}<br><small>{LANGUAGES[lang].SCRIPT}</small></td>",
            f'<td class="q" lang="{lang}" dir="auto">{html.escape(text)}</td>',
        ]
        for label in labels:
            pics = []
            for i in found[label][lang].top:
                name = pictures[i].name
                if not (thumbs / name).exists():
                    draw_scene(scenes[i], THUMB_PX).save(thumbs / name)
                colour = "#%02x%02x%02x" % (HIT if satisfies(scenes[i], spec) else MISS)
                pics.append(f'<img src="thumbs/{name}" style="border-color:{colour}" title="#{i}">')
            cells.append(f'<td>{"".join(pics)}</td><td class="r">{found[label][lang].r1:.2f}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    head = "".join(f"<th>{html.escape(label)}: top {top_k}</th><th>R@1</th>" for label in labels)
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>engine demo</title><style>
body {{ font-family: sans-serif; margin: 2em; }} td, th {{ padding: 4px 8px; border-bottom: 1px solid #ddd; }}
td.q {{ max-width: 22em; font-size: 1.1em; }} td.r {{ font-weight: bold; text-align: right; }}
img {{ width: 72px; height: 72px; border: 4px solid; margin: 2px; }}
</style></head><body>
<h1>One picture collection, queries in {len(shown)} languages</h1>
<p>{len(scenes)} freshly drawn pictures. Each row: one query, the first pictures each model found
(green frame: the picture fits the query), and text&rarr;image R@1 over all {len(scenes)} queries of that
language. CLIPPO reads the query as pixels; the baseline tokenizes it with an English vocabulary.</p>
<table><tr><th>language</th><th>query</th>{head}</tr>
{chr(10).join(rows)}
</table>
{_text_table(asked, read, shown, scenes, texts, top_k) if read else ""}
</body></html>
"""
    write_atomic(path, page)


def _text_table(asked, read, shown: dict[str, int], scenes: list[Scene], texts: list[tuple[str, str]], top_k: int) -> str:
    """The text search: the same queries against the collection's descriptions, in every language."""
    labels = list(read)
    rows = []
    for lang, query in shown.items():
        spec, text = asked[lang][query]
        cells = [f"<td>{html.escape(LANGUAGES[lang].NAME)}</td>", f'<td class="q" lang="{lang}" dir="auto">{html.escape(text)}</td>']
        for label in labels:
            found = []
            for i in read[label][lang].top:
                colour = "#%02x%02x%02x" % (HIT if satisfies(scenes[i], spec) else MISS)
                found.append(f'<li lang="{texts[i][0]}" dir="auto" style="color:{colour}">[{texts[i][0]}] {html.escape(texts[i][1])}</li>')
            cells.append(f'<td><ol>{"".join(found)}</ol></td><td class="r">{read[label][lang].r1:.2f}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    head = "".join(f"<th>{html.escape(label)}: top {top_k}</th><th>R@1</th>" for label in labels)
    return f"""<h1>One text collection in {len({lang for lang, _ in texts})} languages, the same queries</h1>
<p>Each picture described once, the languages in turn. Each row: the query, the first texts each model
found (green: the text describes a picture the query fits, in whatever language), and text&rarr;text R@1
over all queries of that language. CLIPPO text is the shipped multilingual text model.</p>
<table><tr><th>language</th><th>query</th>{head}</tr>
{chr(10).join(rows)}
</table>"""


def write_png(path: Path, asked, found, shown: dict[str, int], scenes: list[Scene]) -> None:
    """report.png: the same table as the HTML page, as one picture."""
    labels = list(found)
    column = max(len(f.top) for per_lang in found.values() for f in per_lang.values()) * (PNG_THUMB + 6) + SCORE_W
    width = LABEL_W + QUERY_W + len(labels) * column + 20
    sheet = Image.new("RGB", (width, PNG_ROW * (len(shown) + 1) + 10), "white")
    x = LABEL_W + QUERY_W
    for label in labels:
        sheet.paste(_text(f"{label} (R@1)", column, PNG_ROW, 14, "en"), (x, 0))
        x += column
    for row, (lang, query) in enumerate(shown.items(), start=1):
        spec, text = asked[lang][query]
        y = row * PNG_ROW
        sheet.paste(_text(f"{LANGUAGES[lang].NAME} ({lang})", LABEL_W, PNG_ROW, 13, "en"), (0, y))
        sheet.paste(_text(text, QUERY_W, PNG_ROW, 14, lang), (LABEL_W, y))
        x = LABEL_W + QUERY_W
        for label in labels:
            for i in found[label][lang].top:
                framed = Image.new("RGB", (PNG_THUMB + 6, PNG_THUMB + 6), HIT if satisfies(scenes[i], spec) else MISS)
                framed.paste(draw_scene(scenes[i], PNG_THUMB), (3, 3))
                sheet.paste(framed, (x, y + (PNG_ROW - PNG_THUMB - 6) // 2))
                x += PNG_THUMB + 6
            sheet.paste(_text(f"{found[label][lang].r1:.2f}", SCORE_W, PNG_ROW, 16, "en"), (x + 4, y))
            x += SCORE_W
        ImageDraw.Draw(sheet).line([(0, y), (width, y)], fill=(220, 220, 220))
    with atomic_path(path) as tmp:
        sheet.save(tmp)


def _text(text: str, width: int, height: int, size: int, lang: str) -> Image.Image:
    """Text drawn by the engine's own renderer (wrapped, shaped, right-to-left where needed)."""
    pixels = render(text, RenderConfig(width=width, height=height, font_size=size, margin=6, lang=lang)).pixels
    return Image.fromarray(pixels).convert("RGB")
