#!/usr/bin/env python3
"""Renders the OCR test documents (docs/OCR_PARITY.md) and their truth file.

Documents like those businesses receive from customers, in Chinese and
English:

  id_card.png           PRC-resident-ID-card-like front, 1000x630
  invoice.png           VAT-invoice-like page (增值税电子普通发票), 1240x1754
  receipt.png           till receipt, 576 px wide, monospace
  chat_screenshot.png   phone chat screenshot, 720x1280
  licence_rotated.png   scanned letter of authorisation, content turned 90
                        degrees clockwise (a reader must turn it back)
  *_photo.jpg           phone photos of the ID card, invoice and receipt:
                        perspective, table background, uneven light, blur,
                        sensor noise, JPEG quality 85
  truth.json            per file: text lines in reading order, rotation,
                        kind, sha256; Pillow/numpy versions, font sha256s

Deterministic: fixed seeds, Pillow's BASIC text layout (no raqm), no
timestamps, OpenBLAS's generic kernel on every x86-64 CPU; the same Pillow,
numpy and font files give the same bytes.

Fonts (Debian): fonts-noto-cjk (Noto Sans/Serif CJK SC, Noto Sans Mono CJK
SC) and fonts-dejavu-core (DejaVu Sans, Sans Mono, Serif).

Usage: make_documents.py [--out DIR]   (default .imgtag/documents)
       make_documents.py --check [--out DIR]   exit 0 when DIR holds what this
         script renders (truth.json from this very script, every file's sha256
         as recorded), 1 otherwise
Runs in .imgtag/venv-ocr (Pillow 13.0.0, numpy 2.4.6); scripts/ocr_parity
calls it when the documents are missing.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import os
import subprocess
import sys
from pathlib import Path

# numpy's OpenBLAS picks its kernels by CPU, and the photographed documents'
# perspective comes from np.linalg.solve: with the AVX-512 kernels the
# coefficients differ in the last bits, and so do some warped pixels. Pin the
# generic x86-64 kernel (every x86-64 CPU has it; the AVX2 and Zen kernels
# give the same bytes) before numpy loads OpenBLAS.
os.environ["OPENBLAS_CORETYPE"] = "Prescott"
os.environ["OPENBLAS_NUM_THREADS"] = "1"

import numpy as np  # noqa: E402  (after the OpenBLAS settings)
import PIL
from PIL import Image, ImageDraw, ImageFilter, ImageFont

REPO = Path(__file__).resolve().parent.parent
FORMAT = 1

NOTO = Path("/usr/share/fonts/opentype/noto")
DEJAVU = Path("/usr/share/fonts/truetype/dejavu")

# (file, face index inside a .ttc): the SC (Simplified Chinese) faces.
FONT_FILES = {
    "sans": (NOTO / "NotoSansCJK-Regular.ttc", 2),  # Noto Sans CJK SC
    "sans_bold": (NOTO / "NotoSansCJK-Bold.ttc", 2),  # Noto Sans CJK SC Bold
    "serif": (NOTO / "NotoSerifCJK-Regular.ttc", 2),  # Noto Serif CJK SC
    "serif_bold": (NOTO / "NotoSerifCJK-Bold.ttc", 2),  # Noto Serif CJK SC Bold
    "mono": (NOTO / "NotoSansCJK-Regular.ttc", 7),  # Noto Sans Mono CJK SC
    "mono_bold": (NOTO / "NotoSansCJK-Bold.ttc", 7),  # Noto Sans Mono CJK SC Bold
    "latin": (DEJAVU / "DejaVuSans.ttf", 0),
    "latin_bold": (DEJAVU / "DejaVuSans-Bold.ttf", 0),
    "latin_mono": (DEJAVU / "DejaVuSansMono.ttf", 0),
    "latin_mono_bold": (DEJAVU / "DejaVuSansMono-Bold.ttf", 0),
    "latin_serif": (DEJAVU / "DejaVuSerif.ttf", 0),
    "latin_serif_bold": (DEJAVU / "DejaVuSerif-Bold.ttf", 0),
}
APT_HINT = "apt-get install fonts-noto-cjk fonts-dejavu-core (scripts/system-packages does it)"

_font_cache: dict[tuple[str, int], ImageFont.FreeTypeFont] = {}


def font(name: str, size: int) -> ImageFont.FreeTypeFont:
    key = (name, size)
    if key not in _font_cache:
        path, index = FONT_FILES[name]
        _font_cache[key] = ImageFont.truetype(
            str(path), size, index=index, layout_engine=ImageFont.Layout.BASIC
        )
    return _font_cache[key]


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------------------
# A page that remembers what text it drew, for the truth file.
# ---------------------------------------------------------------------------


class Page:
    def __init__(self, width: int, height: int, background=(255, 255, 255)) -> None:
        self.img = Image.new("RGB", (width, height), background)
        self.draw = ImageDraw.Draw(self.img)
        self.items: list[tuple[tuple[int, int, int, int], str]] = []

    def text(self, xy, s: str, f: ImageFont.FreeTypeFont, fill=(0, 0, 0), anchor="la",
             record: bool = True) -> tuple[int, int, int, int]:
        """Draws `s`; returns its ink box. Recorded text goes into the truth."""
        self.draw.text(xy, s, font=f, fill=fill, anchor=anchor)
        box = self.draw.textbbox(xy, s, font=f, anchor=anchor)
        if record and s.strip():
            self.items.append((box, s))
        return box

    def width_of(self, s: str, f: ImageFont.FreeTypeFont) -> float:
        return f.getlength(s)

    def lines(self) -> list[str]:
        return reading_order(self.items)


def reading_order(items) -> list[str]:
    """Top-to-bottom rows, then left-to-right within a row.

    An item joins the current row when its vertical centre lies inside the
    row's vertical extent (so a label and a taller value on the same baseline
    read as one row)."""
    rows: list[list] = []
    for box, s in sorted(items, key=lambda it: (it[0][1], it[0][0])):
        centre = (box[1] + box[3]) / 2
        if rows:
            top = min(b[1] for b, _ in rows[-1])
            bottom = max(b[3] for b, _ in rows[-1])
            if top <= centre <= bottom:
                rows[-1].append((box, s))
                continue
        rows.append([(box, s)])
    out = []
    for row in rows:
        out.extend(s for _, s in sorted(row, key=lambda it: it[0][0]))
    return out


def is_wide(ch: str) -> bool:
    o = ord(ch)
    return (0x2E80 <= o <= 0x9FFF) or (0xF900 <= o <= 0xFAFF) or (0xFF00 <= o <= 0xFFEF) or (
        0x3000 <= o <= 0x303F)


def wrap(s: str, f: ImageFont.FreeTypeFont, max_width: float) -> list[str]:
    """Greedy wrap: CJK characters break anywhere, Latin words stay whole."""
    tokens: list[str] = []
    word = ""
    for ch in s:
        if is_wide(ch):
            if word:
                tokens.append(word)
                word = ""
            tokens.append(ch)
        elif ch == " ":
            tokens.append(word + " ")
            word = ""
        else:
            word += ch
    if word:
        tokens.append(word)
    lines, cur = [], ""
    for tok in tokens:
        if cur and f.getlength((cur + tok).rstrip()) > max_width:
            lines.append(cur.rstrip())
            cur = tok.lstrip() if tok.strip() else ""
        else:
            cur += tok
    if cur.strip():
        lines.append(cur.rstrip())
    # Closing punctuation must not start a line (Chinese typesetting rule).
    for i in range(1, len(lines)):
        while lines[i] and lines[i][0] in "，。、；：！？）》”":
            lines[i - 1] += lines[i][0]
            lines[i] = lines[i][1:]
    return [ln for ln in lines if ln]


# ---------------------------------------------------------------------------
# Content helpers.
# ---------------------------------------------------------------------------

ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
ID_CHECK = "10X98765432"


def id_check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of a PRC resident ID number (GB 11643)."""
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS))
    return ID_CHECK[total % 11]


DIGITS_UPPER = "零壹贰叁肆伍陆柒捌玖"


def _four_upper(n: int) -> str:
    s, zero = "", False
    for d, unit in zip((n // 1000, n // 100 % 10, n // 10 % 10, n % 10), ("仟", "佰", "拾", "")):
        if d == 0:
            zero = bool(s)
        else:
            if zero:
                s += "零"
                zero = False
            s += DIGITS_UPPER[d] + unit
    return s


def cny_upper(fen: int) -> str:
    """An amount in fen as written in 价税合计（大写）, e.g. 壹万壹仟伍佰零壹元整."""
    yuan, rest = divmod(fen, 100)
    jiao, cent = divmod(rest, 10)
    hi, lo = divmod(yuan, 10000)
    s = ""
    if hi:
        s += _four_upper(hi) + "万"
    if lo:
        if hi and lo < 1000:
            s += "零"
        s += _four_upper(lo)
    if not s:
        s = "零"
    s += "圆"
    if jiao:
        s += DIGITS_UPPER[jiao] + "角"
    if cent:
        if not jiao:
            s += "零"
        s += DIGITS_UPPER[cent] + "分"
    else:
        s += "整"
    return s


def money(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def smooth_noise(rng: np.random.Generator, w: int, h: int, cells: int) -> np.ndarray:
    """Low-frequency noise in [0, 1], h x w, from a coarse grid upscaled bicubically."""
    gw, gh = max(2, w // cells), max(2, h // cells)
    coarse = (rng.random((gh, gw)) * 255).astype(np.uint8)
    big = Image.fromarray(coarse, "L").resize((w, h), Image.Resampling.BICUBIC)
    return np.asarray(big, dtype=np.float32) / 255.0


# ---------------------------------------------------------------------------
# The documents.
# ---------------------------------------------------------------------------


def render_id_card() -> Page:
    w, h = 1000, 630
    rng = np.random.default_rng(1101)
    # Background: pale blue-to-beige gradient, guilloche waves, a rosette.
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    t = xx / w * 0.6 + yy / h * 0.4
    base = np.stack([
        232 + 14 * t,
        238 + 6 * t,
        246 - 16 * t,
    ], axis=-1)
    base += (smooth_noise(rng, w, h, 40)[..., None] - 0.5) * 6
    page = Page(w, h)
    page.img = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8), "RGB")
    page.draw = ImageDraw.Draw(page.img)
    d = page.draw
    for k in range(26):
        amp = 9 + (k % 5) * 3
        period = 160 + (k % 7) * 23
        phase = k * 0.7
        y0 = 20 + k * 23
        colour = (200 - (k % 3) * 8, 214 - (k % 4) * 4, 232)
        pts = [(x, y0 + amp * math.sin(2 * math.pi * x / period + phase)) for x in range(0, w + 8, 8)]
        d.line(pts, fill=colour, width=1)
    cx, cy = 300, 330
    for k in range(36):
        a = k * math.pi / 18
        r = 150
        d.ellipse([cx + 60 * math.cos(a) - r, cy + 60 * math.sin(a) - r,
                   cx + 60 * math.cos(a) + r, cy + 60 * math.sin(a) + r],
                  outline=(222, 226, 238), width=1)
    # Rounded card edge.
    d.rounded_rectangle([3, 3, w - 4, h - 4], radius=28, outline=(170, 180, 196), width=2)
    # Portrait on the right: a plain backdrop, head and shoulders.
    px0, py0, px1, py1 = 690, 95, 930, 405
    d.rectangle([px0, py0, px1, py1], fill=(236, 240, 246))
    d.ellipse([px0 + 62, py0 + 40, px1 - 62, py0 + 205], fill=(92, 84, 80))
    d.ellipse([px0 + 70, py0 + 62, px1 - 70, py0 + 215], fill=(214, 182, 160))
    d.chord([px0 + 10, py0 + 220, px1 - 10, py1 + 120], 180, 360, fill=(48, 58, 78))
    d.polygon([(px0 + 100, py0 + 230), (px1 - 100, py0 + 230), ((px0 + px1) // 2, py0 + 290)],
              fill=(240, 240, 240))

    label = font("sans", 26)
    value = font("sans", 31)
    blue = (38, 96, 160)
    black = (16, 16, 16)
    first17 = "330106" + "19880623" + "123"
    number = first17 + id_check_char(first17)
    rows = [
        (92, [("姓名", 60, label, blue), ("李明华", 168, value, black)]),
        (168, [("性别", 60, label, blue), ("男", 168, value, black),
               ("民族", 300, label, blue), ("汉", 400, value, black)]),
        (244, [("出生", 60, label, blue), ("1988年6月23日", 168, value, black)]),
        (320, [("住址", 60, label, blue), ("浙江省杭州市西湖区文三路", 168, value, black)]),
        (372, [("398号东信大厦12楼1203室", 168, value, black)]),
    ]
    for baseline, cells in rows:
        for s, x, f, colour in cells:
            page.text((x, baseline), s, f, fill=colour, anchor="ls")
    page.text((60, 520), "公民身份号码", font("sans", 28), fill=blue, anchor="ls")
    page.text((300, 522), number, font("latin_mono_bold", 40), fill=black, anchor="ls")
    return page


INVOICE_ITEMS = [
    # name, model, unit, quantity, unit price in fen (tax excluded), tax rate %
    ("*信息技术服务*软件维护服务", "V2.1", "年", 1, 943396, 6),
    ("*纸制品*A4复印纸", "70g 500张/包", "箱", 5, 10619, 13),
    ("*计算机配套产品*无线鼠标", "M330", "个", 10, 7965, 13),
    ("*办公设备*激光打印机", "M233dw", "台", 1, 168142, 13),
    ("*现代服务*技术培训费", "", "次", 2, 150000, 6),
    ("*运输服务*国内货物运输", "", "次", 1, 9174, 9),
]


def invoice_amounts() -> tuple[list[tuple[int, int]], int, int]:
    """(amount, tax) per item in fen, total amount, total tax (tax rounded half up)."""
    rows = []
    for _, _, _, qty, price, rate in INVOICE_ITEMS:
        amount = qty * price
        rows.append((amount, (amount * rate + 50) // 100))
    return rows, sum(a for a, _ in rows), sum(t for _, t in rows)


INVOICE_TOTAL = invoice_amounts()[1] + invoice_amounts()[2]  # 价税合计, in fen


def render_invoice() -> Page:
    w, h = 1240, 1754
    page = Page(w, h, (255, 255, 255))
    d = page.draw
    brown = (150, 72, 48)
    black = (20, 20, 20)
    navy = (24, 40, 96)
    lab = font("sans", 25)
    val = font("sans", 25)
    small = font("sans", 22)
    row_font = font("sans", 24)

    # QR-code-like block, title with a double rule, the code/number block.
    rng = np.random.default_rng(2202)
    qr = rng.random((25, 25)) > 0.5
    for (r, c), on in np.ndenumerate(qr):
        if on:
            d.rectangle([60 + c * 6, 60 + r * 6, 65 + c * 6, 65 + r * 6], fill=(0, 0, 0))
    for ox, oy in ((60, 60), (168, 60), (60, 168)):
        d.rectangle([ox, oy, ox + 41, oy + 41], fill=(255, 255, 255), outline=(0, 0, 0), width=6)
        d.rectangle([ox + 13, oy + 13, ox + 28, oy + 28], fill=(0, 0, 0))
    page.text((60, 270), "机器编号：499098765432", small, fill=brown, anchor="ls")
    page.text((520, 150), "浙江增值税电子普通发票", font("serif_bold", 42), fill=brown, anchor="ms")
    d.line([(300, 170), (740, 170)], fill=brown, width=2)
    d.line([(300, 177), (740, 177)], fill=brown, width=2)
    right = [
        ("发票代码：", "033002300111"),
        ("发票号码：", "12345678"),
        ("开票日期：", "2024年03月15日"),
        ("校验码：", "18274 05511 63920 47713"),
    ]
    for i, (k, v) in enumerate(right):
        y = 90 + i * 46
        page.text((790, y), k, lab, fill=brown, anchor="ls")
        page.text((790 + lab.getlength(k), y), v, val, fill=black, anchor="ls")
    page.text((790, 272), "Invoice No. 12345678  Date: 2024-03-15", font("latin", 19), fill=navy,
              anchor="ls")

    x0, x1 = 60, 1180
    lc, cl, cr = x0 + 60, 790, 836  # label column, cipher/remarks label column

    def side_label(text: str, top: int, height: int, f) -> None:
        step = height // (len(text) + 1)
        for i, ch in enumerate(text):
            page.text(((x0 + lc) // 2 if f is lab else (cl + cr) // 2, top + step * (i + 1) + 10), ch, f,
                      fill=brown, anchor="ms")

    # Buyer block, cipher area on the right.
    top = 300
    block = 236
    d.line([(lc, top), (lc, top + block)], fill=brown, width=2)
    d.line([(cl, top), (cl, top + block)], fill=brown, width=2)
    d.line([(cr, top), (cr, top + block)], fill=brown, width=2)
    side_label("购买方", top, block, lab)
    side_label("密码区", top, block, small)
    buyer = [
        ("名称：", "上海星辰信息技术有限公司"),
        ("纳税人识别号：", "91310115MA1K4QXR7N"),
        ("地址、电话：", "上海市浦东新区张江路665号 021-50801234"),
        ("开户行及账号：", "招商银行上海张江支行 121908765432101"),
    ]
    for i, (k, v) in enumerate(buyer):
        y = top + 48 + i * 54
        page.text((lc + 16, y), k, lab, fill=brown, anchor="ls")
        page.text((lc + 16 + lab.getlength(k), y), v, val, fill=black, anchor="ls")
    cipher = [
        "03*5<1+/>8-4*72+9<<1*3/0>658",
        "+1-*46>9/23<5*0+17>-8*4<93/2",
        "7>*0/-51+<8942*>13-6/0+*57<9",
        "<2+86*-/0>37*1<45+9-/82>*603",
    ]
    mono = font("latin_mono", 18)
    for i, s in enumerate(cipher):
        page.text((cr + 12, top + 48 + i * 54), s, mono, fill=black, anchor="ls")

    # Items table.
    cols = [x0, 430, 590, 650, 720, 850, 990, 1060, x1]
    heads = ["货物或应税劳务、服务名称", "规格型号", "单位", "数量", "单价", "金额", "税率", "税额"]
    ty = top + block
    table_h = 470
    d.line([(x0, ty), (x1, ty)], fill=brown, width=2)
    d.line([(x0, ty + 50), (x1, ty + 50)], fill=brown, width=1)
    for i, head in enumerate(heads):
        page.text(((cols[i] + cols[i + 1]) // 2, ty + 35), head, small, fill=brown, anchor="ms")
    for c in cols[1:-1]:
        d.line([(c, ty), (c, ty + table_h)], fill=brown, width=1)
    amounts, total_amount, total_tax = invoice_amounts()
    for r, ((name, model, unit, qty, price, rate), (amount, tax)) in enumerate(zip(INVOICE_ITEMS, amounts)):
        y = ty + 94 + r * 48
        page.text((cols[0] + 10, y), name, row_font, fill=black, anchor="ls")
        page.text((cols[1] + 8, y), model, row_font, fill=black, anchor="ls")
        page.text(((cols[2] + cols[3]) // 2, y), unit, row_font, fill=black, anchor="ms")
        page.text((cols[4] - 10, y), str(qty), row_font, fill=black, anchor="rs")
        page.text((cols[5] - 10, y), money(price), row_font, fill=black, anchor="rs")
        page.text((cols[6] - 10, y), money(amount), row_font, fill=black, anchor="rs")
        page.text(((cols[6] + cols[7]) // 2, y), f"{rate}%", row_font, fill=black, anchor="ms")
        page.text((cols[8] - 10, y), money(tax), row_font, fill=black, anchor="rs")
    sy = ty + table_h
    d.line([(x0, sy - 56), (x1, sy - 56)], fill=brown, width=1)
    page.text(((cols[0] + cols[1]) // 2, sy - 18), "合计", lab, fill=brown, anchor="ms")
    page.text((cols[6] - 10, sy - 18), "¥" + money(total_amount), row_font, fill=black, anchor="rs")
    page.text((cols[8] - 10, sy - 18), "¥" + money(total_tax), row_font, fill=black, anchor="rs")
    d.line([(x0, sy), (x1, sy)], fill=brown, width=2)
    grand = total_amount + total_tax
    page.text((x0 + 20, sy + 48), "价税合计（大写）", lab, fill=brown, anchor="ls")
    page.text((x0 + 250, sy + 48), "⊗" + cny_upper(grand), font("sans", 26), fill=black, anchor="ls")
    page.text((790, sy + 48), "（小写）", lab, fill=brown, anchor="ls")
    page.text((890, sy + 48), "¥" + money(grand), font("sans_bold", 27), fill=black, anchor="ls")
    d.line([(x0, sy + 74), (x1, sy + 74)], fill=brown, width=2)

    # Seller block, remarks on the right.
    stop = sy + 74
    d.line([(lc, stop), (lc, stop + block)], fill=brown, width=2)
    d.line([(cl, stop), (cl, stop + block)], fill=brown, width=2)
    d.line([(cr, stop), (cr, stop + block)], fill=brown, width=2)
    side_label("销售方", stop, block, lab)
    side_label("备注", stop, block, small)
    seller = [
        ("名称：", "杭州云栖数据服务有限公司"),
        ("纳税人识别号：", "91330106MA2H7L4Q8C"),
        ("地址、电话：", "杭州市西湖区文三路398号 0571-88214567"),
        ("开户行及账号：", "工行杭州文三路支行 1202021209900123456"),
    ]
    for i, (k, v) in enumerate(seller):
        y = stop + 48 + i * 54
        page.text((lc + 16, y), k, lab, fill=brown, anchor="ls")
        page.text((lc + 16 + lab.getlength(k), y), v, font("sans", 24), fill=black, anchor="ls")
    notes = ["PO No. SH-2024-0315", f"Total: CNY {grand // 100:,}.{grand % 100:02d}", "合同号：HT2024-0088"]
    for i, s in enumerate(notes):
        f = font("latin", 21) if s.isascii() else font("sans", 23)
        page.text((cr + 14, stop + 48 + i * 54), s, f, fill=black, anchor="ls")
    bottom = stop + block
    d.rectangle([x0, top, x1, bottom], outline=brown, width=2)

    # Remarks under the table (printed by the issuing system), footer, seal.
    page.text((x0, bottom + 52), "本发票为电子发票，与纸质发票具有同等法律效力。", small, fill=brown, anchor="ls")
    page.text((x0, bottom + 88), "This e-invoice has the same legal effect as a paper invoice.", font("latin", 19),
              fill=navy, anchor="ls")
    fy = bottom + 150
    foot = [("收款人：", "王芳", 80), ("复核：", "陈静", 360), ("开票人：", "刘洋", 620)]
    for k, v, x in foot:
        page.text((x, fy), k, lab, fill=brown, anchor="ls")
        page.text((x + lab.getlength(k), fy), v, val, fill=black, anchor="ls")
    page.text((880, fy), "销售方：（章）", lab, fill=brown, anchor="ls")
    seal = Image.new("L", (w, h), 0)
    sd = ImageDraw.Draw(seal)
    sx, sy0 = 1000, fy + 92
    seal_texts = [((sx, sy0 + 4), "91330106MA2H7L4Q8C", font("latin_bold", 19)),
                  ((sx, sy0 + 50), "发票专用章", font("sans_bold", 28))]
    sd.ellipse([sx - 135, sy0 - 90, sx + 135, sy0 + 90], outline=255, width=5)
    sd.regular_polygon((sx, sy0 - 42, 20), 5, rotation=0, fill=255)
    for xy, s, f in seal_texts:
        sd.text(xy, s, font=f, fill=255, anchor="ms")
        page.items.append((page.draw.textbbox(xy, s, font=f, anchor="ms"), s))
    red = Image.new("RGB", (w, h), (218, 40, 40))
    page.img = Image.composite(red, page.img, seal.point(lambda v: v * 200 // 255))
    page.draw = ImageDraw.Draw(page.img)
    return page


def render_receipt() -> Page:
    f = font("mono", 24)
    fb = font("mono_bold", 30)
    lh = 36
    lines: list[tuple[str, str]] = [
        ("c", "全家便利店 FamilyMart"),
        ("c", "上海南京西路店 Store #1024"),
        ("c", "上海市静安区南京西路1266号"),
        ("c", "TEL: 021-6288 1024"),
        ("-", ""),
        ("l", "日期 Date: 2024-03-15 18:42:07"),
        ("l", "收银员 Cashier: 0317  POS: 02"),
        ("l", "单号 No.: 102402150318427"),
        ("-", ""),
        ("t", "商品 Item|数量|金额"),
        ("t", "农夫山泉 550ml|2|5.00"),
        ("t", "饭团 金枪鱼|1|7.50"),
        ("t", "Coca-Cola 330ml|1|3.50"),
        ("t", "关东煮 Oden x3|1|12.00"),
        ("t", "三明治 Sandwich|1|14.90"),
        ("-", ""),
        ("t", "合计 TOTAL|6|42.90"),
        ("t", "优惠 Discount||-2.00"),
        ("T", "应付 Amount Due||40.90"),
        ("t", "银联卡 UnionPay||40.90"),
        ("-", ""),
        ("l", "卡号 Card: 6222 **** **** 8867"),
        ("l", "参考号 Ref: 240315184207"),
        ("l", "授权码 Auth: 083512"),
        ("l", "持卡人签名 Signature:"),
        ("s", ""),
        ("c", "谢谢惠顾 Thank you!"),
        ("c", "请保留小票 Please keep receipt"),
    ]
    w = 576
    h = 80 + lh * len(lines) + 150
    page = Page(w, h, (246, 245, 240))
    ink = (52, 50, 54)
    y = 60
    margin = 28
    for kind, s in lines:
        base = y + 26
        if kind == "c":
            page.text((w // 2, base), s, fb if s.startswith("全家") else f, fill=ink, anchor="ms")
        elif kind == "l":
            page.text((margin, base), s, f, fill=ink, anchor="ls")
        elif kind in "tT":
            name, qty, amount = s.split("|")
            ff = fb if kind == "T" else f
            page.text((margin, base), name, ff, fill=ink, anchor="ls")
            if qty:
                page.text((400, base), qty, ff, fill=ink, anchor="rs")
            page.text((w - margin, base), amount, ff, fill=ink, anchor="rs")
        elif kind == "-":
            for x in range(margin, w - margin, 14):
                page.draw.line([(x, base - 9), (x + 7, base - 9)], fill=ink, width=2)
        elif kind == "s":
            page.draw.line([(margin + 20, base - 4), (w - margin - 20, base - 4)], fill=ink, width=2)
        y += lh
    # Barcode of the receipt number.
    rng = np.random.default_rng(3303)
    x = 88
    while x < w - 88:
        bw = int(rng.integers(1, 4)) * 2
        page.draw.rectangle([x, y + 20, x + bw - 1, y + 100], fill=ink)
        x += bw + int(rng.integers(1, 4)) * 2
    # Thermal print: slightly uneven darkness.
    arr = np.asarray(page.img, dtype=np.float32)
    fade = 0.85 + 0.15 * smooth_noise(rng, w, h, 90)
    ink_level = 255 - arr
    arr = 255 - ink_level * fade[..., None]
    page.img = Image.fromarray(np.clip(arr + 0.5, 0, 255).astype(np.uint8), "RGB")
    page.draw = ImageDraw.Draw(page.img)
    return page


CHAT = [
    ("time", "3月15日 下午3:12"),
    ("L", "您好，请问订单 SO-20240315 的发票开好了吗？"),
    ("R", "开好了，我现在发给您。"),
    ("R", f"Invoice No. 12345678, total ¥{INVOICE_TOTAL // 100:,}.{INVOICE_TOTAL % 100:02d}"),
    ("L", "Great, thanks! 能顺便寄一份纸质版吗？"),
    ("L", "地址：上海市浦东新区张江路665号3楼前台"),
    ("R", "OK，今天下午用顺丰寄出，单号 SF1234567890123"),
    ("L", "收到，谢谢！Have a nice weekend."),
]


def render_chat() -> Page:
    w, h = 720, 1280
    page = Page(w, h, (237, 237, 237))
    d = page.draw
    black = (25, 25, 25)
    # Status bar.
    page.text((44, 38), "9:41", font("latin_bold", 24), fill=black, anchor="ls")
    for i in range(4):
        d.rectangle([520 + i * 9, 34 - 6 - i * 4, 525 + i * 9, 34], fill=black)
    page.text((566, 36), "5G", font("latin_bold", 19), fill=black, anchor="ls")
    page.text((646, 36), "87%", font("latin", 19), fill=black, anchor="rs")
    d.rounded_rectangle([652, 18, 694, 38], radius=5, outline=black, width=2)
    d.rectangle([655, 21, 655 + int(36 * 0.87), 35], fill=black)
    d.rectangle([696, 24, 699, 32], fill=black)
    # Title bar.
    d.line([(40, 90), (26, 104), (40, 118)], fill=black, width=4)
    page.text((w // 2, 116), "王经理 (Acme Trading)", font("sans", 30), fill=black, anchor="ms")
    for i in range(3):
        d.ellipse([650 + i * 14, 100, 658 + i * 14, 108], fill=black)
    d.line([(0, 140), (w, 140)], fill=(214, 214, 214), width=1)

    text_font = font("sans", 28)
    line_h = 42
    max_text = 420
    y = 170
    avatars = {"L": ((70, 130, 180), "王"), "R": ((232, 150, 60), "L")}
    for kind, s in CHAT:
        if kind == "time":
            page.text((w // 2, y + 24), s, font("sans", 21), fill=(150, 150, 150), anchor="ms")
            y += 60
            continue
        lines = wrap(s, text_font, max_text)
        tw = max(text_font.getlength(ln) for ln in lines)
        bw, bh = int(tw) + 44, line_h * len(lines) + 30
        colour, initial = avatars[kind]
        if kind == "L":
            ax = 24
            bx = 112
            fill = (255, 255, 255)
        else:
            ax = w - 24 - 72
            bx = w - 112 - bw
            fill = (149, 236, 105)
        d.rounded_rectangle([ax, y, ax + 72, y + 72], radius=8, fill=colour)
        page.text((ax + 36, y + 50), initial, font("sans_bold", 34), fill=(255, 255, 255), anchor="ms")
        d.rounded_rectangle([bx, y, bx + bw, y + bh], radius=10, fill=fill)
        tip_x = bx if kind == "L" else bx + bw
        sign = -1 if kind == "L" else 1
        d.polygon([(tip_x, y + 26), (tip_x + sign * 10, y + 34), (tip_x, y + 42)], fill=fill)
        for i, ln in enumerate(lines):
            page.text((bx + 22, y + 15 + 31 + i * line_h), ln, text_font, fill=black, anchor="ls")
        y += max(bh, 72) + 24
    if y > h - 118:
        raise SystemExit(f"make_documents: chat messages overflow the screen ({y} > {h - 118})")
    # Input bar.
    d.rectangle([0, h - 118, w, h], fill=(246, 246, 246))
    d.line([(0, h - 118), (w, h - 118)], fill=(214, 214, 214), width=1)
    d.ellipse([20, h - 98, 70, h - 48], outline=black, width=3)
    d.rounded_rectangle([88, h - 104, 552, h - 42], radius=8, fill=(255, 255, 255))
    d.ellipse([570, h - 98, 620, h - 48], outline=black, width=3)
    d.arc([582, h - 86, 608, h - 60], 20, 160, fill=black, width=3)
    d.ellipse([640, h - 98, 690, h - 48], outline=black, width=3)
    d.line([(652, h - 73), (678, h - 73)], fill=black, width=3)
    d.line([(665, h - 86), (665, h - 60)], fill=black, width=3)
    d.rounded_rectangle([w // 2 - 70, h - 16, w // 2 + 70, h - 10], radius=3, fill=black)
    return page


# The agent's resident ID number, with a correct check character.
AGENT_ID = "33010219920517451" + id_check_char("33010219920517451")

LETTER = [
    ("title", "授权委托书"),
    ("title_en", "LETTER OF AUTHORIZATION"),
    ("gap", ""),
    ("zh", "致：上海星辰信息技术有限公司"),
    ("en", "To: Shanghai Xingchen Information Technology Co., Ltd."),
    ("gap", ""),
    ("zh", "兹授权我公司员工刘洋（身份证号码：" + AGENT_ID + "）作为我方合法代理人，全权办理"
           "2024年度软件维护服务合同的签署、发票领取及货款结算等相关事宜。"),
    ("en", "We hereby authorize Mr. Liu Yang (ID No. " + AGENT_ID + ") to act on our behalf in "
           "signing the 2024 software maintenance contract, collecting invoices and settling payments."),
    ("gap", ""),
    ("zh", "授权期限：2024年3月1日至2024年12月31日。代理人在授权范围内签署的文件，我公司均予以承认。"),
    ("en", "This authorization is valid from 1 March 2024 to 31 December 2024. Documents signed by the "
           "agent within this scope are binding on our company."),
    ("gap", ""),
    ("sign", "被授权人签字：|联系电话：138 1234 5678"),
    ("gap", ""),
    ("zh", "授权单位（盖章）：杭州云栖数据服务有限公司"),
    ("zh", "法定代表人：陈建国"),
    ("zh", "日期：2024年3月1日      Date: 1 March 2024"),
]


def render_letter() -> Page:
    w, h = 1100, 1556
    page = Page(w, h, (255, 255, 255))
    margin = 110
    y = 150
    for kind, s in LETTER:
        if kind == "gap":
            y += 22
            continue
        if kind == "title":
            page.text((w // 2, y), s, font("serif_bold", 46), fill=(0, 0, 0), anchor="ms")
            y += 56
            continue
        if kind == "title_en":
            page.text((w // 2, y), s, font("latin_serif_bold", 24), fill=(0, 0, 0), anchor="ms")
            y += 58
            continue
        if kind == "sign":
            f = font("serif", 27)
            left, right = s.split("|")
            box = page.text((margin, y), left, f, fill=(12, 12, 12), anchor="ls")
            page.text((margin + 520, y), right, f, fill=(12, 12, 12), anchor="ls")
            page.draw.line([(box[2] + 12, y + 6), (margin + 490, y + 6)], fill=(0, 0, 0), width=2)
            pts = [(box[2] + 40 + i * 6, y - 14 + 11 * math.sin(i / 2.3)) for i in range(30)]
            page.draw.line(pts, fill=(20, 40, 120), width=3)
            y += 46
            continue
        f = font("serif", 27) if kind == "zh" else font("latin_serif", 23)
        lh = 46 if kind == "zh" else 38
        indent = 54 if kind == "zh" and len(s) > 40 else 0
        first = True
        for ln in wrap(s, f, w - 2 * margin - (indent if first else 0)):
            x = margin + (indent if first else 0)
            page.text((x, y), ln, f, fill=(12, 12, 12), anchor="ls")
            first = False
            y += lh
    return page


# ---------------------------------------------------------------------------
# Scans and photos.
# ---------------------------------------------------------------------------


def scan(img: Image.Image, seed: int) -> Image.Image:
    """A flatbed scan: 0.4 degree skew, lid shadow at one edge, noise, blur."""
    rng = np.random.default_rng(seed)
    skewed = img.rotate(-0.4, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=(255, 255, 255))
    arr = np.asarray(skewed, dtype=np.float32)
    h, w = arr.shape[:2]
    xx = np.arange(w, dtype=np.float32)[None, :]
    shade = 1.0 - 0.10 * np.exp(-xx / 40.0) - 0.03 * smooth_noise(rng, w, h, 200)
    arr = arr * shade[..., None] * np.array([0.985, 0.98, 0.96], dtype=np.float32)
    arr += rng.normal(0.0, 3.0, arr.shape[:2])[..., None]
    out = Image.fromarray(np.clip(arr + 0.5, 0, 255).astype(np.uint8), "RGB")
    return out.filter(ImageFilter.GaussianBlur(0.6))


def perspective_coeffs(dst: list[tuple[float, float]], src: list[tuple[float, float]]) -> list[float]:
    """Coefficients for Image.transform(PERSPECTIVE): output (dst) -> input (src)."""
    a, b = [], []
    for (x, y), (u, v) in zip(dst, src):
        a.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        a.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        b.extend([u, v])
    return [float(c) for c in np.linalg.solve(np.array(a, dtype=np.float64), np.array(b, dtype=np.float64))]


def photograph(doc: Image.Image, canvas: tuple[int, int], quad: list[tuple[float, float]],
               seed: int) -> Image.Image:
    """A phone photo of `doc` lying on a table: `quad` is where its corners
    (top-left, top-right, bottom-right, bottom-left) land on the canvas."""
    rng = np.random.default_rng(seed)
    cw, ch = canvas
    # Table: dark wood, grain along x, low-frequency blotches.
    grain = smooth_noise(rng, cw, 40, 4)
    grain = np.asarray(Image.fromarray((grain * 255).astype(np.uint8), "L").resize((cw, ch)),
                       dtype=np.float32) / 255.0
    blotch = smooth_noise(rng, cw, ch, 160)
    table = np.stack([
        78 + 26 * grain + 14 * blotch,
        60 + 20 * grain + 10 * blotch,
        48 + 14 * grain + 8 * blotch,
    ], axis=-1)
    # Soft shadow under the paper.
    shadow = Image.new("L", canvas, 0)
    ImageDraw.Draw(shadow).polygon([(x + 14, y + 18) for x, y in quad], fill=255)
    shadow_arr = np.asarray(shadow.filter(ImageFilter.GaussianBlur(22)), dtype=np.float32) / 255.0
    table *= (1.0 - 0.45 * shadow_arr)[..., None]
    base = Image.fromarray(np.clip(table, 0, 255).astype(np.uint8), "RGB")
    # The paper, warped.
    dw, dh = doc.size
    coeffs = perspective_coeffs(quad, [(0, 0), (dw, 0), (dw, dh), (0, dh)])
    warped = doc.transform(canvas, Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BICUBIC)
    mask = Image.new("L", doc.size, 255).transform(canvas, Image.Transform.PERSPECTIVE, coeffs,
                                                   Image.Resampling.BILINEAR)
    photo = Image.composite(warped, base, mask)
    # Light: brighter towards the top left, a soft shadow (the phone) at the bottom right.
    arr = np.asarray(photo, dtype=np.float32)
    yy, xx = np.mgrid[0:ch, 0:cw].astype(np.float32)
    light = 1.06 - 0.30 * (xx / cw * 0.4 + yy / ch * 0.6)
    blob = np.exp(-(((xx - 0.78 * cw) / (0.30 * cw)) ** 2 + ((yy - 0.86 * ch) / (0.22 * ch)) ** 2))
    light *= 1.0 - 0.35 * blob
    warm = np.array([1.0, 0.97, 0.90], dtype=np.float32)
    arr = arr * light[..., None] * warm
    out = Image.fromarray(np.clip(arr + 0.5, 0, 255).astype(np.uint8), "RGB")
    out = out.filter(ImageFilter.GaussianBlur(0.9))
    arr = np.asarray(out, dtype=np.float32)
    arr += rng.normal(0.0, 4.0, arr.shape)  # sensor noise, per channel
    arr += rng.normal(0.0, 2.0, arr.shape[:2])[..., None]
    return Image.fromarray(np.clip(arr + 0.5, 0, 255).astype(np.uint8), "RGB")


def save_png(img: Image.Image, path: Path) -> None:
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False, compress_level=6)
    path.write_bytes(buf.getvalue())


def save_jpeg(img: Image.Image, path: Path) -> None:
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=85, subsampling="4:2:0", optimize=False, progressive=False)
    path.write_bytes(buf.getvalue())


def debian_version(package: str) -> str | None:
    try:
        result = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True,
                                text=True, check=False)
    except OSError:
        return None
    return result.stdout.strip() or None


def up_to_date(out: Path) -> bool:
    """True when `out` holds the documents this script (same bytes) rendered."""
    try:
        truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if truth.get("generator_sha256") != sha256_file(Path(__file__).resolve()):
        return False
    for name, entry in truth.get("documents", {}).items():
        path = out / name
        if not path.is_file() or sha256_file(path) != entry.get("sha256"):
            return False
    return bool(truth.get("documents"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / ".imgtag" / "documents")
    parser.add_argument("--check", action="store_true",
                        help="only check that --out is up to date (exit 0) or not (exit 1)")
    args = parser.parse_args()
    if args.check:
        return 0 if up_to_date(args.out) else 1

    missing = [str(p) for p, _ in FONT_FILES.values() if not p.is_file()]
    if missing:
        print(f"make_documents: error: fonts missing: {', '.join(sorted(set(missing)))}; {APT_HINT}",
              file=sys.stderr)
        return 2
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)

    docs: dict[str, dict] = {}

    def record(name: str, img: Image.Image, lines: list[str], kind: str, rotation: int,
               source: str | None, writer) -> None:
        path = out / name
        writer(img, path)
        entry = {
            "kind": kind,
            "rotation": rotation,
            "width": img.width,
            "height": img.height,
            "lines": lines,
            "sha256": sha256_file(path),
        }
        if source:
            entry["source"] = source
        docs[name] = entry
        print(f"make_documents: {path.relative_to(REPO) if path.is_relative_to(REPO) else path} "
              f"{img.width}x{img.height}, {len(lines)} lines", file=sys.stderr)

    id_card = render_id_card()
    record("id_card.png", id_card.img, id_card.lines(), "id_card", 0, None, save_png)
    invoice = render_invoice()
    record("invoice.png", invoice.img, invoice.lines(), "invoice", 0, None, save_png)
    receipt = render_receipt()
    record("receipt.png", receipt.img, receipt.lines(), "receipt", 0, None, save_png)
    chat = render_chat()
    record("chat_screenshot.png", chat.img, chat.lines(), "chat_screenshot", 0, None, save_png)
    letter = render_letter()
    # Content turned 90 degrees clockwise: PIL's ROTATE_270 turns the image
    # 270 degrees counter-clockwise, i.e. 90 clockwise.
    rotated = scan(letter.img, 5505).transpose(Image.Transpose.ROTATE_270)
    record("licence_rotated.png", rotated, letter.lines(), "letter", 90, None, save_png)

    photo_id = photograph(id_card.img, (1600, 1200),
                          [(262, 248), (1342, 196), (1392, 912), (200, 960)], 6606)
    record("id_card_photo.jpg", photo_id, id_card.lines(), "id_card", 0, "id_card.png", save_jpeg)
    photo_inv = photograph(invoice.img, (1536, 2048),
                           [(214, 182), (1318, 146), (1428, 1904), (108, 1936)], 7707)
    record("invoice_photo.jpg", photo_inv, invoice.lines(), "invoice", 0, "invoice.png", save_jpeg)
    rw, rh = receipt.img.size
    scale = 1500 / rh
    photo_rec = photograph(receipt.img, (1200, 1600),
                           [(318, 62), (318 + rw * scale * 0.98, 80), (318 + rw * scale * 1.04 + 10, 1552),
                            (300, 1540)], 8808)
    record("receipt_photo.jpg", photo_rec, receipt.lines(), "receipt", 0, "receipt.png", save_jpeg)

    truth = {
        "format": FORMAT,
        "generator": "scripts/make_documents.py",
        "generator_sha256": sha256_file(Path(__file__).resolve()),
        "pillow": PIL.__version__,
        "numpy": np.__version__,
        "fonts": {name: {"file": str(path), "index": index, "sha256": sha256_file(path)}
                  for name, (path, index) in sorted(FONT_FILES.items())},
        "font_packages": {p: debian_version(p) for p in ("fonts-noto-cjk", "fonts-dejavu-core")},
        "rotation_meaning": "degrees the content was turned clockwise; undo with "
                            "Image.transpose(ROTATE_90) for 90 (PIL ROTATE_90 is counter-clockwise)",
        "reading_order": "rows top to bottom (an item joins a row when its vertical centre lies in the "
                         "row's extent), left to right within a row",
        "documents": docs,
    }
    (out / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                                    encoding="utf-8")
    print(f"make_documents: wrote {len(docs)} documents and truth.json to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
