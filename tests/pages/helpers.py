"""Helpers of the page tests: forms as a browser sends them, and reading what a page says."""

from __future__ import annotations

import html
import io
import re
from urllib.parse import unquote

from domain.settings import Settings

LABOUR = "白塔镇某工地包工头拖欠我们三个月工资，共八万多元，老板电话打不通"
NAME = "王小明"
PHONE = "13800001234"

FORM = {
    "description": LABOUR,
    "name": NAME,
    "phone": PHONE,
    "address": "白塔镇上街村12号",
    "township": "baita",
    "category": "",
    "consent": "yes",
    "channel": "web",
}


def field_errors(page: str) -> dict[str, str]:
    """{field: message} of the messages shown next to the fields (<p class="error" id="<field>-error">)."""
    return {
        m.group(1): html.unescape(m.group(2))
        for m in re.finditer(r'<p class="error" id="([a-z_]+)-error"[^>]*>([^<]*)</p>', page)
    }


def input_value(page: str, name: str) -> str | None:
    m = re.search(rf'<input[^>]*\bname="{re.escape(name)}"[^>]*\bvalue="([^"]*)"', page)
    return html.unescape(m.group(1)) if m else None


def textarea(page: str, name: str) -> str | None:
    m = re.search(rf'<textarea[^>]*\bname="{re.escape(name)}"[^>]*>([^<]*)</textarea>', page)
    return html.unescape(m.group(1)) if m else None


def selected(page: str, name: str) -> str | None:
    m = re.search(rf'<select[^>]*\bname="{re.escape(name)}".*?</select>', page, re.S)
    if not m:
        return None
    opt = re.search(r'<option value="([^"]*)" selected', m.group(0))
    return opt.group(1) if opt else ""


def code_from(location: str) -> str:
    m = re.fullmatch(r"/track/([^/]+)/receipt", location)
    assert m, location
    return unquote(m.group(1))


def text_of(page: str) -> str:
    """The page's visible text, roughly (tags dropped, entities decoded, whitespace collapsed)."""
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body))).strip()


def decode_qr(png: bytes) -> list[str]:
    import zxingcpp
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("L")
    return [r.text for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode]


def jpeg_with_gps(size: int = 48) -> bytes:
    """A small JPEG photo whose EXIF carries a GPS position, as a phone camera writes it."""
    from PIL import ExifTags, Image

    img = Image.new("RGB", (size, size), (200, 120, 40))
    for x in range(size):
        img.putpixel((x, x), (20, 20, 20))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "TestPhone"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (28.0, 51.0, 17.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (120.0, 43.0, 55.0)
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif, quality=85)
    return out.getvalue()


def gps_of(content: bytes) -> dict:
    from PIL import ExifTags, Image

    with Image.open(io.BytesIO(content)) as img:
        return dict(img.getexif().get_ifd(ExifTags.IFD.GPSInfo))


def sla_words(settings: Settings) -> list[str]:
    from api.receipt import zh_duration

    return [zh_duration(settings.sla_routed_within), zh_duration(settings.sla_assigned_within)]
