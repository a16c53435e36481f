#!/usr/bin/env python3
"""Renders the identity and business test documents for the document-type and
key-field reader, with their known truth.

  id_front_valid.png        PRC-resident-ID-card-like front, 1000x630, valid
                            number (MOD 11-2 check character)
  id_front_invalid.png      the same card with a wrong check character
  id_back.png               the card's back, valid 2015.03.01-2035.03.01
  id_back_permanent.png     a back valid 2010.05.20-长期 (permanent)
  passport.png              passport data page, 1250x880 (TD3, 125x88 mm at
                            10 px/mm), with ICAO 9303's specimen MRZ
  passport_future.png       the same page expiring 2026-12-27 (20 days after
                            REFERENCE_DATE, 2026-12-07), MRZ check digits
                            recomputed
  passport_later.png        expiring 2027-02-15 (70 days after REFERENCE_DATE)
  business_licence.png      营业执照 (副本), 1240x1754, valid GB 32100 credit code
  vat_invoice.png           北京增值税电子普通发票, 1240x1754, ¥1130.00
  till_receipt.png          till receipt, 576 px wide, TOTAL 86.50, cash
  chat_screenshot.png       phone chat screenshot, 720x1280, no EXIF
  *_photo.jpg               phone photos (make_documents.photograph: perspective,
                            table, uneven light, blur, noise, JPEG 85) of
                            id_front_valid, passport, business_licence, vat_invoice
  *_rot90.png               id_back and vat_invoice turned 90 degrees clockwise
  *_skew5.png               id_back and vat_invoice turned 5 degrees clockwise
                            (white fill, canvas grown to hold the corners)
  truth.json                per file: type, side, fields (name, value, valid,
                            unit for amounts), expires_on, variant_of,
                            rotation, text lines in reading order, sha256

Field names and normalised values in truth.json: id_number (upper case),
birth_date / issue_date (ISO), expiry_date (ISO or "permanent"), sex (M/F),
name (as printed; a passport's is "SURNAME GIVEN NAMES"), nationality (ICAO
code from the MRZ), document_number, credit_code, company_name,
invoice_code, invoice_number, total_amount (plain decimal, unit "CNY"),
seller, buyer, mrz (lines joined by "\\n"). `valid` is whether the value
passes the document's own checks (check character, check digits, a real
date); whether a document has expired is left to `expires_on` against
`reference_date`.

Reuses scripts/make_documents.py (fonts, Page, wrap, photograph, savers),
so the same determinism holds: fixed seeds, Pillow's BASIC layout, the
generic OpenBLAS kernel; the same Pillow, numpy and font files give the same
bytes.

Usage: make_id_documents.py [--out DIR]   (default .imgtag/id_documents)
       make_id_documents.py --check [--out DIR]   exit 0 when DIR holds what
         this script (and make_documents.py) render, 1 otherwise
Runs in the tools venv (.imgtag/venv: Pillow 13.0.0, numpy 2.4.6);
scripts/setup (scripts/provision.py) calls it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import sys
from pathlib import Path

# Before numpy loads OpenBLAS (see make_documents.py): the perspective
# coefficients must not depend on the CPU.
os.environ["OPENBLAS_CORETYPE"] = "Prescott"
os.environ["OPENBLAS_NUM_THREADS"] = "1"

sys.path.insert(0, str(Path(__file__).resolve().parent))

import make_documents as md  # noqa: E402
import numpy as np  # noqa: E402
import PIL  # noqa: E402
from make_documents import Page, font, wrap  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
FORMAT = 1
REFERENCE_DATE = dt.date(2026, 12, 7)
TYPES = ("id_card", "passport", "driving_licence", "business_licence", "invoice", "receipt",
         "bank_slip", "form", "letter", "screenshot", "other_document", "none")


# ---------------------------------------------------------------------------
# Check characters.
# ---------------------------------------------------------------------------


def mrz_value(ch: str) -> int:
    if ch.isdigit():
        return int(ch)
    if "A" <= ch <= "Z":
        return ord(ch) - ord("A") + 10
    if ch == "<":
        return 0
    raise ValueError(f"not an MRZ character: {ch!r}")


def mrz_check(s: str) -> str:
    """ICAO 9303 check digit: weights 7, 3, 1 repeating, sum mod 10."""
    return str(sum(mrz_value(c) * (7, 3, 1)[i % 3] for i, c in enumerate(s)) % 10)


def td3_line2(number: str, nationality: str, birth: str, sex: str, expiry: str, personal: str) -> str:
    """The second line of a TD3 (passport) MRZ; dates as YYMMDD."""
    number = number.ljust(9, "<")
    personal = personal.ljust(14, "<")
    parts = [number + mrz_check(number), nationality,
             birth + mrz_check(birth), sex, expiry + mrz_check(expiry),
             personal + mrz_check(personal)]
    composite = parts[0] + parts[2] + parts[4] + parts[5]
    line = "".join(parts) + mrz_check(composite)
    assert len(line) == 44, line
    return line


def td3_line1(doc_type: str, state: str, surname: str, given: str) -> str:
    name = surname.replace(" ", "<") + "<<" + given.replace(" ", "<")
    return (doc_type.ljust(2, "<") + state + name).ljust(44, "<")[:44]


CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def credit_check_char(first17: str) -> str:
    """GB 32100-2015 check character of a unified social credit code."""
    total = sum(CREDIT_CHARS.index(c) * w for c, w in zip(first17, CREDIT_WEIGHTS))
    return CREDIT_CHARS[(31 - total % 31) % 31]


ID_FIRST17 = "11010519491231002"  # 110105 北京市朝阳区, 1949-12-31, sequence 002 (even: female)
ID_VALID = ID_FIRST17 + md.id_check_char(ID_FIRST17)
ID_INVALID = ID_FIRST17 + "1"
assert ID_VALID == "11010519491231002X" and md.id_check_char(ID_FIRST17) != "1"

CREDIT_CODE = "91350100M000100Y43"
assert credit_check_char(CREDIT_CODE[:17]) == CREDIT_CODE[17]

SPECIMEN_MRZ = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
                "L898902C36UTO7408122F1204159ZE184226B<<<<<10")
assert td3_line1("P", "UTO", "ERIKSSON", "ANNA MARIA") == SPECIMEN_MRZ[0]
assert td3_line2("L898902C3", "UTO", "740812", "F", "120415", "ZE184226B") == SPECIMEN_MRZ[1]

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


def visual_date(d: dt.date) -> str:
    return f"{d.day:02d} {MONTHS[d.month - 1]} {d.year}"


def yymmdd(d: dt.date) -> str:
    return d.strftime("%y%m%d")


def field(name: str, value: str, valid: bool = True, unit: str | None = None) -> dict:
    out = {"name": name, "value": value, "valid": valid}
    if unit:
        out["unit"] = unit
    return out


# ---------------------------------------------------------------------------
# Shared drawing.
# ---------------------------------------------------------------------------


def card_background(w: int, h: int, seed: int, tint=(232, 238, 246), rosette=(300, 330)) -> Page:
    """ID-card security print: gradient, guilloche waves, a rosette, rounded edge."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    t = xx / w * 0.6 + yy / h * 0.4
    base = np.stack([tint[0] + 14 * t, tint[1] + 6 * t, tint[2] - 16 * t], axis=-1)
    base += (md.smooth_noise(rng, w, h, 40)[..., None] - 0.5) * 6
    page = Page(w, h)
    page.img = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8), "RGB")
    page.draw = ImageDraw.Draw(page.img)
    d = page.draw
    for k in range(h // 24 + 1):
        amp = 9 + (k % 5) * 3
        period = 160 + (k % 7) * 23
        phase = k * 0.9
        y0 = 20 + k * 23
        colour = (200 - (k % 3) * 8, 214 - (k % 4) * 4, 232)
        pts = [(x, y0 + amp * math.sin(2 * math.pi * x / period + phase)) for x in range(0, w + 8, 8)]
        d.line(pts, fill=colour, width=1)
    cx, cy = rosette
    for k in range(36):
        a = k * math.pi / 18
        r = 150
        d.ellipse([cx + 60 * math.cos(a) - r, cy + 60 * math.sin(a) - r,
                   cx + 60 * math.cos(a) + r, cy + 60 * math.sin(a) + r],
                  outline=(222, 226, 238), width=1)
    d.rounded_rectangle([3, 3, w - 4, h - 4], radius=28, outline=(170, 180, 196), width=2)
    return page


def portrait(d: ImageDraw.ImageDraw, box, female: bool) -> None:
    """A head-and-shoulders silhouette on a plain backdrop (no facial features)."""
    px0, py0, px1, py1 = box
    pw = px1 - px0
    d.rectangle(box, fill=(236, 240, 246))
    hair = (70, 62, 60)
    if female:
        d.rounded_rectangle([px0 + pw * 0.22, py0 + 36, px1 - pw * 0.22, py0 + 250], radius=60, fill=hair)
    else:
        d.ellipse([px0 + pw * 0.26, py0 + 40, px1 - pw * 0.26, py0 + 205], fill=hair)
    d.ellipse([px0 + pw * 0.29, py0 + 62, px1 - pw * 0.29, py0 + 215], fill=(214, 182, 160))
    d.chord([px0 + 10, py0 + 220, px1 - 10, py1 + 120], 180, 360, fill=(48, 58, 78))
    d.polygon([(px0 + pw * 0.42, py0 + 230), (px1 - pw * 0.42, py0 + 230), ((px0 + px1) // 2, py0 + 290)],
              fill=(240, 240, 240))


def star(d: ImageDraw.ImageDraw, cx: float, cy: float, r: float, fill, tilt: float = 0.0) -> None:
    """A five-pointed star, one point up (turned by `tilt` degrees)."""
    pts = []
    for k in range(10):
        a = math.radians(-90 + tilt + k * 36)
        rr = r if k % 2 == 0 else r * 0.382
        pts.append((cx + rr * math.cos(a), cy + rr * math.sin(a)))
    d.polygon(pts, fill=fill)


def emblem(d: ImageDraw.ImageDraw, cx: int, cy: int, r: int) -> None:
    """A stylised red-and-gold roundel (not any real emblem): ring, big star, four small ones."""
    gold, red = (232, 186, 52), (206, 32, 36)
    d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=gold)
    d.ellipse([cx - r * 0.86, cy - r * 0.86, cx + r * 0.86, cy + r * 0.86], fill=red)
    star(d, cx - r * 0.28, cy - r * 0.12, r * 0.34, gold)
    for k in range(4):
        a = math.radians(-60 + k * 30)
        star(d, cx - r * 0.28 + r * 0.62 * math.cos(a), cy - r * 0.12 + r * 0.62 * math.sin(a), r * 0.11,
             gold, tilt=k * 30 - 75)
    for k in range(7):
        d.rectangle([cx - r * 0.5 + k * r * 0.15, cy + r * 0.42, cx - r * 0.44 + k * r * 0.15, cy + r * 0.6],
                    fill=gold)


def qr_block(d: ImageDraw.ImageDraw, x: int, y: int, module: int, seed: int) -> int:
    """A QR-code-like block (random modules, three finder patterns); returns its size."""
    n = 25
    rng = np.random.default_rng(seed)
    grid = rng.random((n, n)) > 0.5
    for (r, c), on in np.ndenumerate(grid):
        if on:
            d.rectangle([x + c * module, y + r * module, x + c * module + module - 1, y + r * module + module - 1],
                        fill=(0, 0, 0))
    f = 7 * module
    for ox, oy in ((x, y), (x + (n - 7) * module, y), (x, y + (n - 7) * module)):
        d.rectangle([ox, oy, ox + f - 1, oy + f - 1], fill=(255, 255, 255))
        d.rectangle([ox, oy, ox + f - 1, oy + f - 1], outline=(0, 0, 0), width=module)
        d.rectangle([ox + 2 * module, oy + 2 * module, ox + 5 * module - 1, oy + 5 * module - 1], fill=(0, 0, 0))
    return n * module


def seal(page: Page, cx: int, cy: int, r: int, ring_text: str, centre_text: str | None,
         colour=(218, 40, 40), alpha: int = 200) -> None:
    """A round red seal: ring, star, text along the upper arc (not recorded in the
    truth: an arc of rotated characters is not a line of text), an optional
    horizontal line under the star (recorded)."""
    w, h = page.img.size
    mask = Image.new("L", (w, h), 0)
    sd = ImageDraw.Draw(mask)
    sd.ellipse([cx - r, cy - r, cx + r, cy + r], outline=255, width=max(4, r // 28))
    star(sd, cx, cy, r * 0.26, 255)
    size = int(r * 0.26)
    f = font("sans_bold", size)
    n = len(ring_text)
    span = min(250.0, n * 24.0)
    for i, ch in enumerate(ring_text):
        ang = -90 - span / 2 + span * (i + 0.5) / n  # degrees, 0 = +x axis, clockwise (y down)
        glyph = Image.new("L", (size * 2, size * 2), 0)
        ImageDraw.Draw(glyph).text((size, size), ch, font=f, fill=255, anchor="mm")
        glyph = glyph.rotate(-(ang + 90), resample=Image.Resampling.BICUBIC)
        rr = r * 0.74
        gx = cx + rr * math.cos(math.radians(ang))
        gy = cy + rr * math.sin(math.radians(ang))
        mask.paste(255, (int(gx - size), int(gy - size)), glyph)
    if centre_text:
        cf = font("sans_bold", int(r * 0.17))
        xy = (cx, cy + r * 0.62)
        sd.text(xy, centre_text, font=cf, fill=255, anchor="ms")
        page.items.append((page.draw.textbbox(xy, centre_text, font=cf, anchor="ms"), centre_text))
    red = Image.new("RGB", (w, h), colour)
    page.img = Image.composite(red, page.img, mask.point(lambda v: v * alpha // 255))
    page.draw = ImageDraw.Draw(page.img)


# ---------------------------------------------------------------------------
# ID card front and back.
# ---------------------------------------------------------------------------

ID_HOLDER = {
    "name": "王秀英",
    "sex": "女",
    "ethnicity": "汉",
    "birth": "1949年12月31日",
    "address": ("北京市朝阳区建国路88号", "院3号楼1单元502室"),
}


def render_id_front(number: str, seed: int) -> Page:
    w, h = 1000, 630
    page = card_background(w, h, seed)
    portrait(page.draw, (690, 95, 930, 405), female=True)
    label = font("sans", 26)
    value = font("sans", 31)
    blue = (38, 96, 160)
    black = (16, 16, 16)
    p = ID_HOLDER
    rows = [
        (92, [("姓名", 60, label, blue), (p["name"], 168, value, black)]),
        (168, [("性别", 60, label, blue), (p["sex"], 168, value, black),
               ("民族", 300, label, blue), (p["ethnicity"], 400, value, black)]),
        (244, [("出生", 60, label, blue), (p["birth"], 168, value, black)]),
        (320, [("住址", 60, label, blue), (p["address"][0], 168, value, black)]),
        (372, [(p["address"][1], 168, value, black)]),
    ]
    for baseline, cells in rows:
        for s, x, f, colour in cells:
            page.text((x, baseline), s, f, fill=colour, anchor="ls")
    page.text((60, 520), "公民身份号码", font("sans", 28), fill=blue, anchor="ls")
    page.text((300, 522), number, font("latin_mono_bold", 40), fill=black, anchor="ls")
    return page


def render_id_back(validity: str, seed: int) -> Page:
    w, h = 1000, 630
    page = card_background(w, h, seed, tint=(236, 238, 240), rosette=(640, 250))
    d = page.draw
    emblem(d, 150, 150, 92)
    # Great-wall-like band along the bottom edge of the title area.
    for k in range(16):
        x = 300 + k * 40
        d.rectangle([x, 282, x + 22, 296], fill=(214, 200, 180))
    d.line([(300, 296), (940, 296)], fill=(214, 200, 180), width=3)
    black = (16, 16, 16)
    red = (190, 40, 40)
    page.text((612, 128), "中华人民共和国", font("serif_bold", 50), fill=red, anchor="ms")
    page.text((612, 236), "居民身份证", font("serif_bold", 82), fill=black, anchor="ms")
    label = font("sans", 27)
    value = font("sans", 30)
    page.text((200, 470), "签发机关", label, fill=(38, 96, 160), anchor="ls")
    page.text((340, 470), "北京市公安局朝阳分局", value, fill=black, anchor="ls")
    page.text((200, 546), "有效期限", label, fill=(38, 96, 160), anchor="ls")
    page.text((340, 546), validity, value, fill=black, anchor="ls")
    return page


# ---------------------------------------------------------------------------
# Passport data page.
# ---------------------------------------------------------------------------

PASSPORT = {
    "number": "L898902C3",
    "state": "UTO",
    "surname": "ERIKSSON",
    "given": "ANNA MARIA",
    "nationality": "UTOPIAN",
    "birth": dt.date(1974, 8, 12),
    "sex": "F",
    "place": "ZENITH",
    "authority": "PASSPORT OFFICE",
    "personal": "ZE184226B",
}


def passport_mrz(issue: dt.date, expiry: dt.date) -> tuple[str, str]:
    p = PASSPORT
    return (td3_line1("P", p["state"], p["surname"], p["given"]),
            td3_line2(p["number"], p["state"], yymmdd(p["birth"]), p["sex"], yymmdd(expiry), p["personal"]))


def render_passport(issue: dt.date, expiry: dt.date, seed: int) -> Page:
    w, h = 1250, 880
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    t = xx / w * 0.5 + yy / h * 0.5
    base = np.stack([238 - 10 * t, 236 - 2 * t, 226 + 10 * t], axis=-1)
    base += (md.smooth_noise(rng, w, h, 50)[..., None] - 0.5) * 8
    page = Page(w, h)
    page.img = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8), "RGB")
    page.draw = d = ImageDraw.Draw(page.img)
    # Guilloche: concentric waves around a point right of the photo.
    for k in range(30):
        r0 = 60 + k * 22
        pts = []
        for a in range(0, 361, 3):
            rr = r0 + 6 * math.sin(math.radians(a) * 12 + k)
            pts.append((760 + rr * math.cos(math.radians(a)), 330 + rr * 0.7 * math.sin(math.radians(a))))
        d.line(pts, fill=(206, 214, 200), width=1)
    mrz_top = 700
    d.rectangle([0, mrz_top, w, h], fill=(246, 245, 238))  # the MRZ's clear zone

    green = (40, 92, 84)
    black = (16, 16, 16)
    lab = font("sans", 17)
    lab_en = font("latin", 15)
    val = font("latin_bold", 25)
    page.text((60, 64), "乌托邦共和国", font("serif_bold", 30), fill=green, anchor="ls")
    page.text((60, 96), "REPUBLIC OF UTOPIA", font("latin_serif_bold", 22), fill=green, anchor="ls")
    page.text((1190, 64), "护照", font("serif_bold", 34), fill=green, anchor="rs")
    page.text((1190, 96), "PASSPORT", font("latin_serif_bold", 26), fill=green, anchor="rs")
    d.line([(60, 114), (1190, 114)], fill=green, width=2)

    portrait(d, (60, 150, 340, 520), female=True)
    # A faint ghost image of the portrait, bottom right.
    ghost = page.img.crop((60, 150, 340, 520)).resize((112, 148)).convert("L").point(lambda v: 150 + v * 100 // 255)
    page.img.paste(Image.merge("RGB", (ghost, ghost, ghost)), (700, 540))
    page.draw = d = ImageDraw.Draw(page.img)
    page.text((200, 560), "Anna Eriksson", font("latin_serif", 26), fill=(30, 40, 110), anchor="ms",
              record=False)  # signature
    d.line([(90, 570), (310, 570)], fill=(120, 120, 120), width=1)
    page.text((200, 596), "持照人签名 / Signature", font("sans", 15), fill=green, anchor="ms")

    p = PASSPORT

    def cell(x: int, y: int, zh: str, en: str, value: str) -> None:
        label_box = page.text((x, y), zh, lab, fill=green, anchor="ls")
        page.text((label_box[2] + 8, y), "/ " + en, lab_en, fill=green, anchor="ls")
        page.text((x, y + 34), value, val, fill=black, anchor="ls")

    x1, x2, x3 = 390, 620, 880
    cell(x1, 170, "类型", "Type", "P")
    cell(x2, 170, "国家码", "Country code", p["state"])
    cell(x3, 170, "护照号", "Passport No.", p["number"])
    cell(x1, 250, "姓", "Surname", p["surname"])
    cell(x1, 330, "名", "Given names", p["given"])
    cell(x1, 410, "国籍", "Nationality", p["nationality"])
    cell(x3, 410, "个人身份号码", "Personal No.", "ZE 184226 B")
    cell(x1, 490, "出生日期", "Date of birth", visual_date(p["birth"]))
    cell(x2 + 60, 490, "性别", "Sex", p["sex"])
    cell(x3, 490, "出生地点", "Place of birth", p["place"])
    cell(x1, 570, "签发日期", "Date of issue", visual_date(issue))
    cell(x3, 570, "签发机关", "Authority", p["authority"])
    cell(x1, 650, "有效期至", "Date of expiry", visual_date(expiry))

    mrz = passport_mrz(issue, expiry)
    mono = font("latin_mono", 42)  # advance 25.3 px: 10 characters per inch at 10 px/mm
    page.text((66, 776), mrz[0], mono, fill=black, anchor="ls")
    page.text((66, 840), mrz[1], mono, fill=black, anchor="ls")
    d.rounded_rectangle([2, 2, w - 3, h - 3], radius=20, outline=(170, 176, 160), width=2)
    return page


# ---------------------------------------------------------------------------
# Business licence.
# ---------------------------------------------------------------------------

COMPANY = "福州星河云图科技有限公司"
LICENCE_SCOPE = ("一般项目：软件开发；信息系统集成服务；信息技术咨询服务；数据处理和存储支持服务；"
                 "计算机软硬件及辅助设备零售；技术服务、技术开发、技术咨询、技术交流、技术转让、"
                 "技术推广。（除依法须经批准的项目外，凭营业执照依法自主开展经营活动）")


def render_business_licence() -> Page:
    w, h = 1240, 1754
    page = Page(w, h, (252, 250, 244))
    d = page.draw
    frame = (176, 92, 60)
    black = (20, 20, 20)
    # Frame: double rule and a band of small diamonds between them.
    d.rectangle([40, 40, w - 41, h - 41], outline=frame, width=4)
    d.rectangle([70, 70, w - 71, h - 71], outline=frame, width=2)
    for x in range(70, w - 70, 30):
        d.regular_polygon((x + 15, 55, 8), 4, fill=(214, 160, 120))
        d.regular_polygon((x + 15, h - 56, 8), 4, fill=(214, 160, 120))
    for y in range(70, h - 70, 30):
        d.regular_polygon((55, y + 15, 8), 4, fill=(214, 160, 120))
        d.regular_polygon((w - 56, y + 15, 8), 4, fill=(214, 160, 120))

    emblem(d, w // 2, 200, 70)
    page.text((w // 2, 440), "营 业 执 照", font("serif_bold", 104), fill=black, anchor="ms")
    page.text((w // 2, 510), "（副　本）", font("serif", 36), fill=black, anchor="ms")
    page.text((w - 130, 560), "副本编号：1-1", font("sans", 22), fill=black, anchor="rs")

    page.text((130, 190), "统一社会信用代码", font("sans", 26), fill=black, anchor="ls")
    page.text((130, 236), CREDIT_CODE, font("latin_bold", 30), fill=black, anchor="ls")
    size = qr_block(d, 930, 140, 7, 4404)
    small = font("sans", 15)
    for i, s in enumerate(("扫描二维码登录“国家企业", "信用信息公示系统”了解更多", "登记、备案、许可、监管信息")):
        page.text((930 + size // 2, 140 + size + 26 + i * 22), s, small, fill=black, anchor="ms")

    lab = font("sans", 27)
    val = font("sans", 27)
    left_x, left_v = 130, 300
    right_x, right_v = 660, 800
    col_w = 340

    def labelled(x: int, y: int, label: str, v: str | tuple[str, ...], vx: int, width: int) -> int:
        page.text((x, y), label, lab, fill=black, anchor="ls")
        lines = list(v) if isinstance(v, tuple) else wrap(v, val, width)
        for i, ln in enumerate(lines):
            page.text((vx, y + i * 44), ln, val, fill=black, anchor="ls")
        return y + 44 * len(lines) + 40

    y_left = 660
    y_left = labelled(left_x, y_left, "名　　　称", COMPANY, left_v, col_w)
    y_left = labelled(left_x, y_left, "类　　　型", "有限责任公司（自然人投资或控股）", left_v, col_w)
    y_left = labelled(left_x, y_left, "法定代表人", "林志远", left_v, col_w)
    y_left = labelled(left_x, y_left, "经 营 范 围", LICENCE_SCOPE, left_v, col_w)
    y_right = 660
    y_right = labelled(right_x, y_right, "注册资本", "壹仟万圆整", right_v, 320)
    y_right = labelled(right_x, y_right, "成立日期", "2015年03月01日", right_v, 320)
    y_right = labelled(right_x, y_right, "营业期限", ("2015年03月01日至", "2035年02月28日"), right_v, 320)
    y_right = labelled(right_x, y_right, "住　　所", "福建省福州市鼓楼区软件大道89号福州软件园A区12号楼", right_v, 320)

    by = max(y_left, y_right, 1380) + 20
    page.text((720, by), "登 记 机 关", font("sans", 30), fill=black, anchor="ls")
    page.text((880, by + 100), "2015年03月01日", font("sans", 30), fill=black, anchor="ls")
    foot = font("sans", 18)
    page.text((130, h - 190), "国家企业信用信息公示系统网址：http://www.gsxt.gov.cn", foot, fill=black, anchor="ls")
    page.text((130, h - 160), "市场主体应当于每年1月1日至6月30日通过国家企业信用信息公示系统报送公示年度报告。",
              foot, fill=black, anchor="ls")
    page.text((w // 2, h - 104), "国家市场监督管理总局监制", font("sans", 20), fill=black, anchor="ms")
    seal(page, 960, by + 40, 120, "福州市市场监督管理局", None)
    return page


# ---------------------------------------------------------------------------
# VAT invoice.
# ---------------------------------------------------------------------------

BUYER = "北京青禾餐饮管理有限公司"
SELLER = "北京博远办公设备有限公司"
VAT_ITEMS = [
    # name, model, unit, quantity, unit price in fen (tax excluded), tax rate %
    ("*计算机配套产品*机械键盘", "K87", "个", 2, 30000, 13),
    ("*计算机配套产品*显示器支架", "DS-2", "个", 1, 25000, 13),
    ("*纸制品*A4复印纸", "70g 500张/包", "箱", 5, 3000, 13),
]


def vat_amounts() -> tuple[list[tuple[int, int]], int, int]:
    rows = []
    for _, _, _, qty, price, rate in VAT_ITEMS:
        amount = qty * price
        rows.append((amount, (amount * rate + 50) // 100))
    return rows, sum(a for a, _ in rows), sum(t for _, t in rows)


VAT_TOTAL = vat_amounts()[1] + vat_amounts()[2]
assert VAT_TOTAL == 113000


def render_vat_invoice() -> Page:
    w, h = 1240, 1754
    page = Page(w, h, (255, 255, 255))
    d = page.draw
    brown = (150, 72, 48)
    black = (20, 20, 20)
    lab = font("sans", 25)
    val = font("sans", 25)
    small = font("sans", 22)
    row_font = font("sans", 24)

    qr_block(d, 60, 60, 6, 5505)
    page.text((60, 270), "机器编号：661234567890", small, fill=brown, anchor="ls")
    page.text((520, 150), "北京增值税电子普通发票", font("serif_bold", 42), fill=brown, anchor="ms")
    d.line([(300, 170), (740, 170)], fill=brown, width=2)
    d.line([(300, 177), (740, 177)], fill=brown, width=2)
    emblem(d, 520, 236, 40)
    right = [("发票代码：", "011001900111"), ("发票号码：", "12345678"),
             ("开票日期：", "2026年11月20日"), ("校验码：", "60215 88734 12096 53347")]
    for i, (k, v) in enumerate(right):
        y = 90 + i * 46
        page.text((790, y), k, lab, fill=brown, anchor="ls")
        page.text((790 + lab.getlength(k), y), v, val, fill=black, anchor="ls")

    x0, x1 = 60, 1180
    lc, cl, cr = x0 + 60, 790, 836

    def side_label(text: str, top: int, height: int, f) -> None:
        step = height // (len(text) + 1)
        for i, ch in enumerate(text):
            page.text(((x0 + lc) // 2 if f is lab else (cl + cr) // 2, top + step * (i + 1) + 10), ch, f,
                      fill=brown, anchor="ms")

    def party(top: int, title: str, rows: list[tuple[str, str]], right_title: str) -> None:
        d.line([(lc, top), (lc, top + block)], fill=brown, width=2)
        d.line([(cl, top), (cl, top + block)], fill=brown, width=2)
        d.line([(cr, top), (cr, top + block)], fill=brown, width=2)
        side_label(title, top, block, lab)
        side_label(right_title, top, block, small)
        for i, (k, v) in enumerate(rows):
            y = top + 48 + i * 54
            page.text((lc + 16, y), k, lab, fill=brown, anchor="ls")
            page.text((lc + 16 + lab.getlength(k), y), v, font("sans", 24), fill=black, anchor="ls")

    top, block = 300, 236
    party(top, "购买方", [("名称：", BUYER), ("纳税人识别号：", "91110105MA01R8XK3P"),
                         ("地址、电话：", "北京市朝阳区三里屯路19号 010-65871234"),
                         ("开户行及账号：", "中国银行北京三里屯支行 3451 6890 2217")], "密码区")
    cipher = ["2*>71+0/<5-39*84+1</6>-27*0", "<-4/9*1+68>3<05-*27/+91>4*", "9+<3*60/-2>71*45<8+/0-*63>",
              "*05>/12-+8<7*39/6<4+-0>1*9"]
    for i, s in enumerate(cipher):
        page.text((cr + 12, top + 48 + i * 54), s, font("latin_mono", 18), fill=black, anchor="ls")

    cols = [x0, 430, 590, 650, 720, 850, 990, 1060, x1]
    heads = ["货物或应税劳务、服务名称", "规格型号", "单位", "数量", "单价", "金额", "税率", "税额"]
    ty = top + block
    table_h = 420
    d.line([(x0, ty), (x1, ty)], fill=brown, width=2)
    d.line([(x0, ty + 50), (x1, ty + 50)], fill=brown, width=1)
    for i, head in enumerate(heads):
        page.text(((cols[i] + cols[i + 1]) // 2, ty + 35), head, small, fill=brown, anchor="ms")
    for c in cols[1:-1]:
        d.line([(c, ty), (c, ty + table_h)], fill=brown, width=1)
    amounts, total_amount, total_tax = vat_amounts()
    for r, ((name, model, unit, qty, price, rate), (amount, tax)) in enumerate(zip(VAT_ITEMS, amounts)):
        y = ty + 94 + r * 48
        page.text((cols[0] + 10, y), name, row_font, fill=black, anchor="ls")
        page.text((cols[1] + 8, y), model, row_font, fill=black, anchor="ls")
        page.text(((cols[2] + cols[3]) // 2, y), unit, row_font, fill=black, anchor="ms")
        page.text((cols[4] - 10, y), str(qty), row_font, fill=black, anchor="rs")
        page.text((cols[5] - 10, y), md.money(price), row_font, fill=black, anchor="rs")
        page.text((cols[6] - 10, y), md.money(amount), row_font, fill=black, anchor="rs")
        page.text(((cols[6] + cols[7]) // 2, y), f"{rate}%", row_font, fill=black, anchor="ms")
        page.text((cols[8] - 10, y), md.money(tax), row_font, fill=black, anchor="rs")
    sy = ty + table_h
    d.line([(x0, sy - 56), (x1, sy - 56)], fill=brown, width=1)
    page.text(((cols[0] + cols[1]) // 2, sy - 18), "合计", lab, fill=brown, anchor="ms")
    page.text((cols[6] - 10, sy - 18), "¥" + md.money(total_amount), row_font, fill=black, anchor="rs")
    page.text((cols[8] - 10, sy - 18), "¥" + md.money(total_tax), row_font, fill=black, anchor="rs")
    d.line([(x0, sy), (x1, sy)], fill=brown, width=2)
    # 元 rather than make_documents' 圆: invoices print either.
    upper = md.cny_upper(VAT_TOTAL).replace("圆", "元")
    assert upper == "壹仟壹佰叁拾元整", upper
    page.text((x0 + 20, sy + 48), "价税合计（大写）", lab, fill=brown, anchor="ls")
    page.text((x0 + 250, sy + 48), "⊗" + upper, font("sans", 26), fill=black, anchor="ls")
    page.text((790, sy + 48), "（小写）", lab, fill=brown, anchor="ls")
    page.text((890, sy + 48), "¥" + md.money(VAT_TOTAL), font("sans_bold", 27), fill=black, anchor="ls")
    d.line([(x0, sy + 74), (x1, sy + 74)], fill=brown, width=2)

    stop = sy + 74
    party(stop, "销售方", [("名称：", SELLER), ("纳税人识别号：", "91110108MA04C2WN6Y"),
                          ("地址、电话：", "北京市海淀区中关村大街27号 010-82651234"),
                          ("开户行及账号：", "工行北京中关村支行 0200004509200123456")], "备注")
    page.text((cr + 14, stop + 48), "订单号：BY-20261120-017", font("sans", 22), fill=black, anchor="ls")
    bottom = stop + block
    d.rectangle([x0, top, x1, bottom], outline=brown, width=2)

    fy = bottom + 90
    for k, v, x in (("收款人：", "赵敏", 80), ("复核：", "孙浩", 360), ("开票人：", "周婷", 620)):
        page.text((x, fy), k, lab, fill=brown, anchor="ls")
        page.text((x + lab.getlength(k), fy), v, val, fill=black, anchor="ls")
    page.text((880, fy), "销售方：（章）", lab, fill=brown, anchor="ls")
    seal(page, 1010, fy + 110, 110, SELLER, "发票专用章")
    return page


# ---------------------------------------------------------------------------
# Till receipt and chat screenshot.
# ---------------------------------------------------------------------------

RECEIPT_ITEMS = [("鲜牛奶 Fresh Milk 1L", 2, 1290), ("全麦面包 Bread", 1, 1550),
                 ("苹果 Apples 1.4kg", 1, 2230), ("鸡蛋 Eggs x10", 1, 1690),
                 ("矿泉水 Water 550ml", 4, 150)]
RECEIPT_TOTAL = sum(q * p for _, q, p in RECEIPT_ITEMS)
assert RECEIPT_TOTAL == 8650
RECEIPT_CASH = 10000


def render_till_receipt() -> Page:
    f = md.font("mono", 24)
    fb = md.font("mono_bold", 30)
    lh = 36
    lines: list[tuple[str, str]] = [
        ("C", "收银小票"),
        ("c", "百佳鲜超市 BESTFRESH MART"),
        ("c", "北京朝阳门店 Store 0217"),
        ("c", "TEL: 010-8562 0217"),
        ("-", ""),
        ("l", "日期 Date: 2026-11-28 10:26:53"),
        ("l", "收银员 Cashier: 105  POS: 03"),
        ("l", "流水号 No.: 0217031128000412"),
        ("-", ""),
        ("t", "商品 Item|数量|金额"),
    ]
    for name, qty, price in RECEIPT_ITEMS:
        lines.append(("t", f"{name}|{qty}|{md.money(qty * price)}"))
    lines += [
        ("-", ""),
        ("T", f"合计 TOTAL|{sum(q for _, q, _ in RECEIPT_ITEMS)}|{md.money(RECEIPT_TOTAL)}"),
        ("t", f"现金 Cash||{md.money(RECEIPT_CASH)}"),
        ("t", f"找零 Change||{md.money(RECEIPT_CASH - RECEIPT_TOTAL)}"),
        ("-", ""),
        ("l", "会员卡 Member: 6688 **** 3021"),
        ("l", "本次积分 Points: +86"),
        ("s", ""),
        ("c", "谢谢惠顾 Thank you!"),
        ("c", "退换货请保留小票 Keep for returns"),
    ]
    w = 576
    h = 80 + lh * len(lines) + 150
    page = Page(w, h, (246, 245, 240))
    ink = (52, 50, 54)
    y, margin = 60, 28
    for kind, s in lines:
        base = y + 26
        if kind in "cC":
            page.text((w // 2, base), s, fb if kind == "C" else f, fill=ink, anchor="ms")
        elif kind == "l":
            page.text((margin, base), s, f, fill=ink, anchor="ls")
        elif kind in "tT":
            name, qty, amount = s.split("|")
            ff = fb if kind == "T" else f
            page.text((margin, base), name, ff, fill=ink, anchor="ls")
            if qty:
                page.text((410, base), qty, ff, fill=ink, anchor="rs")
            page.text((w - margin, base), amount, ff, fill=ink, anchor="rs")
        elif kind == "-":
            for x in range(margin, w - margin, 14):
                page.draw.line([(x, base - 9), (x + 7, base - 9)], fill=ink, width=2)
        y += lh
    rng = np.random.default_rng(9909)
    x = 88
    while x < w - 88:
        bw = int(rng.integers(1, 4)) * 2
        page.draw.rectangle([x, y + 20, x + bw - 1, y + 100], fill=ink)
        x += bw + int(rng.integers(1, 4)) * 2
    arr = np.asarray(page.img, dtype=np.float32)
    fade = 0.82 + 0.18 * md.smooth_noise(rng, w, h, 90)
    arr = 255 - (255 - arr) * fade[..., None]
    page.img = Image.fromarray(np.clip(arr + 0.5, 0, 255).astype(np.uint8), "RGB")
    page.draw = ImageDraw.Draw(page.img)
    return page


CHAT = [
    ("time", "昨天 下午4:05"),
    ("L", "赵会计您好，贵司的营业执照副本和法人身份证复印件已收到。"),
    ("L", "身份证反面也麻烦拍一张发我。"),
    ("R", "好的，稍等。"),
    ("time", "9:36"),
    ("R", "发票抬头：北京青禾餐饮管理有限公司"),
    ("L", "好的，金额¥1,130.00，今天开出。"),
    ("R", "收到，辛苦了！"),
]


def render_chat() -> Page:
    w, h = 720, 1280
    page = Page(w, h, (237, 237, 237))
    d = page.draw
    black = (25, 25, 25)
    page.text((44, 38), "9:41", font("latin_bold", 24), fill=black, anchor="ls")
    for i in range(4):
        d.rectangle([500 + i * 9, 34 - 6 - i * 4, 505 + i * 9, 34], fill=black)
    for k, r in enumerate((18, 12, 6)):  # Wi-Fi
        d.arc([560 - r, 34 - r, 560 + r, 34 + r], 225, 315, fill=black, width=3 if k < 2 else 4)
    page.text((646, 36), "76%", font("latin", 19), fill=black, anchor="rs")
    d.rounded_rectangle([652, 18, 694, 38], radius=5, outline=black, width=2)
    d.rectangle([655, 21, 655 + int(36 * 0.76), 35], fill=black)
    d.rectangle([696, 24, 699, 32], fill=black)
    d.line([(40, 90), (26, 104), (40, 118)], fill=black, width=4)
    page.text((w // 2, 116), "林总 (博远办公)", font("sans", 30), fill=black, anchor="ms")
    for i in range(3):
        d.ellipse([650 + i * 14, 100, 658 + i * 14, 108], fill=black)
    d.line([(0, 140), (w, 140)], fill=(214, 214, 214), width=1)

    text_font = font("sans", 28)
    line_h, max_text, y = 42, 420, 170
    avatars = {"L": ((60, 150, 120), "林"), "R": ((120, 96, 200), "赵")}
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
            ax, bx, fill = 24, 112, (255, 255, 255)
        else:
            ax, bx, fill = w - 24 - 72, w - 112 - bw, (149, 236, 105)
        d.rounded_rectangle([ax, y, ax + 72, y + 72], radius=8, fill=colour)
        page.text((ax + 36, y + 50), initial, font("sans_bold", 34), fill=(255, 255, 255), anchor="ms")
        d.rounded_rectangle([bx, y, bx + bw, y + bh], radius=10, fill=fill)
        tip_x = bx if kind == "L" else bx + bw
        sign = -1 if kind == "L" else 1
        d.polygon([(tip_x, y + 26), (tip_x + sign * 10, y + 34), (tip_x, y + 42)], fill=fill)
        for i, ln in enumerate(lines):
            page.text((bx + 22, y + 46 + i * line_h), ln, text_font, fill=black, anchor="ls")
        y += max(bh, 72) + 24
    if y > h - 118:
        raise SystemExit(f"make_id_documents: chat messages overflow the screen ({y} > {h - 118})")
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


# ---------------------------------------------------------------------------
# Variants, truth, main.
# ---------------------------------------------------------------------------


def rot90(img: Image.Image) -> Image.Image:
    """Content turned 90 degrees clockwise (PIL's ROTATE_270 is counter-clockwise 270)."""
    return img.transpose(Image.Transpose.ROTATE_270)


def skew(img: Image.Image, degrees: float, margin: int = 24) -> Image.Image:
    """Content turned `degrees` clockwise on a white scanner bed, canvas grown."""
    bed = Image.new("RGB", (img.width + 2 * margin, img.height + 2 * margin), (255, 255, 255))
    bed.paste(img, (margin, margin))
    return bed.rotate(-degrees, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(255, 255, 255))


def generators() -> list[Path]:
    return [Path(__file__).resolve(), Path(md.__file__).resolve()]


def up_to_date(out: Path) -> bool:
    try:
        truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if truth.get("generator_sha256") != {p.name: md.sha256_file(p) for p in generators()}:
        return False
    for name, entry in truth.get("documents", {}).items():
        path = out / name
        if not path.is_file() or md.sha256_file(path) != entry.get("sha256"):
            return False
    return bool(truth.get("documents"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / ".imgtag" / "id_documents")
    parser.add_argument("--check", action="store_true",
                        help="only check that --out is up to date (exit 0) or not (exit 1)")
    args = parser.parse_args()
    if args.check:
        return 0 if up_to_date(args.out) else 1

    missing = [str(p) for p, _ in md.FONT_FILES.values() if not p.is_file()]
    if missing:
        print(f"make_id_documents: error: fonts missing: {', '.join(sorted(set(missing)))}; {md.APT_HINT}",
              file=sys.stderr)
        return 2
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    docs: dict[str, dict] = {}

    def record(name: str, img: Image.Image, page: Page, kind: str, fields: list[dict], *,
               side: str | None = None, expires_on: str | None = None, variant_of: str | None = None,
               rotation: float = 0, writer=md.save_png) -> None:
        assert kind in TYPES, kind
        path = out / name
        writer(img, path)
        docs[name] = {
            "type": kind,
            "side": side,
            "fields": fields,
            "expires_on": expires_on,
            "variant_of": variant_of,
            "rotation": rotation,
            "width": img.width,
            "height": img.height,
            "lines": page.lines(),
            "sha256": md.sha256_file(path),
        }
        print(f"make_id_documents: {path.relative_to(REPO) if path.is_relative_to(REPO) else path} "
              f"{img.width}x{img.height}", file=sys.stderr)

    def variants(name: str, page: Page, *, photo=None, rotations: bool = False) -> None:
        base = docs[name]
        keep = {k: base[k] for k in ("side", "expires_on")}
        stem = name.rsplit(".", 1)[0]
        if photo:
            canvas, quad, seed = photo
            record(f"{stem}_photo.jpg", md.photograph(page.img, canvas, quad, seed), page, base["type"],
                   base["fields"], variant_of=name, writer=md.save_jpeg, **keep)
        if rotations:
            record(f"{stem}_rot90.png", rot90(page.img), page, base["type"], base["fields"],
                   variant_of=name, rotation=90, **keep)
            record(f"{stem}_skew5.png", skew(page.img, 5), page, base["type"], base["fields"],
                   variant_of=name, rotation=5, **keep)

    # ID card fronts.
    front_fields = [field("name", ID_HOLDER["name"]), field("sex", "F"), field("birth_date", "1949-12-31")]
    page = render_id_front(ID_VALID, 1101)
    record("id_front_valid.png", page.img, page, "id_card",
           front_fields + [field("id_number", ID_VALID)], side="front")
    variants("id_front_valid.png", page,
             photo=((1600, 1200), [(250, 236), (1350, 204), (1380, 930), (214, 948)], 6161))
    page = render_id_front(ID_INVALID, 1101)
    record("id_front_invalid.png", page.img, page, "id_card",
           front_fields + [field("id_number", ID_INVALID, valid=False)], side="front")

    # ID card backs.
    page = render_id_back("2015.03.01-2035.03.01", 1202)
    record("id_back.png", page.img, page, "id_card",
           [field("issue_date", "2015-03-01"), field("expiry_date", "2035-03-01")],
           side="back", expires_on="2035-03-01")
    variants("id_back.png", page, rotations=True)
    page = render_id_back("2010.05.20-长期", 1303)
    record("id_back_permanent.png", page.img, page, "id_card",
           [field("issue_date", "2010-05-20"), field("expiry_date", "permanent")], side="back")

    # Passports.
    p = PASSPORT
    for name, issue, expiry, seed in (
        ("passport.png", dt.date(2007, 4, 16), dt.date(2012, 4, 15), 1404),
        ("passport_future.png", dt.date(2016, 12, 28), REFERENCE_DATE + dt.timedelta(days=20), 1505),
        ("passport_later.png", dt.date(2017, 2, 16), REFERENCE_DATE + dt.timedelta(days=70), 1606),
    ):
        mrz = passport_mrz(issue, expiry)
        if name == "passport.png":
            assert mrz == SPECIMEN_MRZ, mrz
        page = render_passport(issue, expiry, seed)
        record(name, page.img, page, "passport", [
            field("document_number", p["number"]),
            field("name", f"{p['surname']} {p['given']}"),
            field("nationality", p["state"]),
            field("birth_date", p["birth"].isoformat()),
            field("sex", p["sex"]),
            field("issue_date", issue.isoformat()),
            field("expiry_date", expiry.isoformat()),
            field("mrz", "\n".join(mrz)),
        ], expires_on=expiry.isoformat())
        if name == "passport.png":
            variants(name, page, photo=((1600, 1200), [(196, 170), (1402, 226), (1372, 1042), (168, 992)], 6262))

    # Business licence.
    page = render_business_licence()
    record("business_licence.png", page.img, page, "business_licence", [
        field("credit_code", CREDIT_CODE),
        field("company_name", COMPANY),
        field("issue_date", "2015-03-01"),
        field("expiry_date", "2035-02-28"),
    ], expires_on="2035-02-28")
    variants("business_licence.png", page,
             photo=((1536, 2048), [(190, 150), (1330, 196), (1392, 1930), (132, 1886)], 6363))

    # VAT invoice.
    page = render_vat_invoice()
    record("vat_invoice.png", page.img, page, "invoice", [
        field("invoice_code", "011001900111"),
        field("invoice_number", "12345678"),
        field("issue_date", "2026-11-20"),
        field("buyer", BUYER),
        field("seller", SELLER),
        field("total_amount", md.money(VAT_TOTAL), unit="CNY"),
    ])
    variants("vat_invoice.png", page,
             photo=((1536, 2048), [(236, 132), (1296, 170), (1440, 1920), (96, 1890)], 6464), rotations=True)

    # Till receipt, chat screenshot.
    page = render_till_receipt()
    record("till_receipt.png", page.img, page, "receipt", [
        field("seller", "百佳鲜超市 BESTFRESH MART"),
        field("issue_date", "2026-11-28"),
        field("total_amount", md.money(RECEIPT_TOTAL), unit="CNY"),
    ])
    page = render_chat()
    record("chat_screenshot.png", page.img, page, "screenshot", [])

    # Photographed and rotated variants come right after their source in `docs`
    # (insertion order); sort_keys below orders the file names alphabetically.
    truth = {
        "format": FORMAT,
        "generator": "scripts/make_id_documents.py",
        "generator_sha256": {p.name: md.sha256_file(p) for p in generators()},
        "pillow": PIL.__version__,
        "numpy": np.__version__,
        "fonts": {name: {"file": str(path), "index": index, "sha256": md.sha256_file(path)}
                  for name, (path, index) in sorted(md.FONT_FILES.items())},
        "font_packages": {pkg: md.debian_version(pkg) for pkg in ("fonts-noto-cjk", "fonts-dejavu-core")},
        "reference_date": REFERENCE_DATE.isoformat(),
        "types": list(TYPES),
        "notes": {
            "fields": "name, value (normalised: dates ISO, expiry_date ISO or 'permanent', sex M/F, "
                      "id_number upper case, nationality the MRZ's ICAO code, a passport's name "
                      "'SURNAME GIVEN NAMES', total_amount a plain decimal with unit CNY, mrz lines "
                      "joined by a newline), valid (the value passes the document's own checks: "
                      "check character, check digits, a real date; expiry is not validity)",
            "expires_on": "the document's expiry date (ISO) or null (none printed, or permanent)",
            "rotation": "degrees the content was turned clockwise (90: undo with PIL ROTATE_90; "
                        "5: a skewed scan on a white bed)",
            "lines": "text drawn, in reading order (rows top to bottom, an item joining a row when its "
                     "vertical centre lies in the row's extent; left to right within a row); text "
                     "along a seal's arc and handwritten signatures are drawn but not listed",
        },
        "documents": docs,
    }
    (out / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                                    encoding="utf-8")
    print(f"make_id_documents: wrote {len(docs)} documents and truth.json to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
