"""The intake receipt (受理回执): what it says, shared by the printable page and the PNG drawn here.

The PNG is 576 px wide (an 80 mm thermal slip at 203 dpi; it also prints on A6) and drawn with Pillow using a
CJK font found on the system (fonts-wqy-microhei, Noto CJK, …). Without one `find_cjk_font` returns None and
the route answers 503 font_unavailable: the HTML receipt does not need it."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import segno

from domain.settings import Settings, parse_duration
from domain.times import CHINA

# Where Debian, Ubuntu, Fedora, Alpine and Arch put the common CJK fonts.
FONT_CANDIDATES: tuple[str, ...] = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)


class FontUnavailable(RuntimeError):
    pass


def find_cjk_font(candidates: tuple[str, ...] | None = None) -> str | None:
    """A font file that can draw Chinese: the known paths first, then fontconfig's list (`fc-list :lang=zh`)."""
    for path in candidates if candidates is not None else FONT_CANDIDATES:
        if os.path.isfile(path):
            return path
    if candidates is not None:
        return None
    return _fontconfig_cjk()


@lru_cache(maxsize=1)
def _fontconfig_cjk() -> str | None:
    fc = shutil.which("fc-list")
    if fc is None:
        return None
    try:
        out = subprocess.run([fc, ":lang=zh", "file"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in sorted(out.splitlines()):
        path = line.split(":")[0].strip()
        if path.lower().endswith((".ttf", ".ttc", ".otf")) and os.path.isfile(path):
            return path
    return None


# --- words ---------------------------------------------------------------------------------------------


def _parts(value: timedelta) -> list[str]:
    seconds = int(round(value.total_seconds()))
    days, rest = divmod(max(seconds, 0), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return [f"{n}{unit}" for n, unit in ((days, "天"), (hours, "小时"), (minutes, "分钟"), (secs, "秒")) if n]


def zh_span(value: timedelta) -> str:
    """Time left, roughly, in Chinese: 2天3小时, 4分钟20秒, 1小时 (the two largest parts; under a minute 不到1分钟)."""
    if value < timedelta(minutes=1):
        return "不到1分钟"
    step = 3600 if value > timedelta(days=1) else 60 if value > timedelta(hours=1) else 1
    value = timedelta(seconds=round(value.total_seconds() / step) * step)  # 6天23小时59分 → 7天
    parts = _parts(value)
    if len(parts) > 1 and parts[0].endswith("天") and not parts[1].endswith("小时"):
        return parts[0]
    return "".join(parts[:2])


def zh_exact(value: timedelta) -> str:
    """A duration in Chinese, exactly: 3分钟, 7天, 1小时30分钟."""
    return "".join(_parts(value)) or "0分钟"


def zh_duration(iso: str) -> str:
    """An ISO-8601 duration of the settings in Chinese, exactly: PT3M 3分钟, P7D 7天, PT1H30M 1小时30分钟."""
    return zh_exact(parse_duration(iso))


def china_time(at: datetime | str | None, with_seconds: bool = False) -> str:
    """A moment as China time, 2026-11-28 14:03 (an ISO string, as in JSON-shaped views, is read first)."""
    if at is None or at == "":
        return ""
    if isinstance(at, str):
        try:
            at = datetime.fromisoformat(at.replace("Z", "+00:00"))
        except ValueError:
            return at
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S" if with_seconds else "%Y-%m-%d %H:%M")


def grouped_code(code: str) -> str:
    """The tracking code in groups of four, for reading aloud and copying by hand (spaces are ignored)."""
    return " ".join(code[i : i + 4] for i in range(0, len(code), 4))


@dataclass(frozen=True)
class Promise:
    when: str  # 3分钟内
    what: str


def promises(settings: Settings) -> list[Promise]:
    """What happens next, with the service levels this deployment promises."""
    return [
        Promise(f"{zh_duration(settings.sla_routed_within)}内", "系统把您的诉求分流到承办单位和属地乡镇（街道）"),
        Promise(f"{zh_duration(settings.sla_assigned_within)}内", "明确一名责任人负责办理"),
        Promise(f"{zh_duration(settings.sla_team_within)}内", "需要多个部门共同处理的，组建调处团队"),
        Promise(f"超过{zh_duration(settings.sla_yellow_after)}", "仍未办结的，督办码转黄，推送乡镇和部门主要领导督促"),
        Promise(f"超过{zh_duration(settings.sla_red_after)}", "仍未办结的，督办码转红，由县领导领衔督办"),
        Promise("办结后", "请您评价（1至5星）；评1至2星的，可申请复核"),
    ]


@dataclass(frozen=True)
class ReceiptData:
    case_no: str
    received_at: datetime
    code: str
    tracking_url: str


def qr_for(url: str) -> segno.QRCode:
    return segno.make(url, error="m")


def qr_svg(url: str, title: str = "民声码：扫码查询办理进度") -> str:
    """Inline SVG of a URL's QR code, scaled by CSS (viewBox, no fixed size)."""
    return qr_for(url).svg_inline(
        scale=1, border=4, dark="#000", light="#fff", omitsize=True, svgclass="qr", title=title
    )


# --- the PNG -------------------------------------------------------------------------------------------

MONO_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
    "/usr/share/fonts/TTF/DejaVuSansMono.ttf",
    "/usr/share/fonts/dejavu/DejaVuSansMono.ttf",
)


def _mono_font(cjk_path: str, size: int):
    """A monospaced font for the code (0/O and l/I told apart): DejaVu Sans Mono, or WenQuanYi Micro Hei
    Mono (the second face of wqy-microhei.ttc), or the CJK font itself."""
    from PIL import ImageFont

    for path in MONO_CANDIDATES:
        if os.path.isfile(path):
            return ImageFont.truetype(path, size)
    if cjk_path.endswith("wqy-microhei.ttc"):
        try:
            return ImageFont.truetype(cjk_path, size, index=1)
        except OSError:
            pass
    return ImageFont.truetype(cjk_path, size)


WIDTH = 576  # 80 mm at 203 dpi
MARGIN = 24


def receipt_png(data: ReceiptData, settings: Settings, font_path: str | None = None) -> bytes:
    """The receipt as a PNG; FontUnavailable when no CJK font is installed."""
    from PIL import Image, ImageDraw, ImageFont

    path = font_path or find_cjk_font()
    if path is None:
        raise FontUnavailable("no CJK font found")
    title_font = ImageFont.truetype(path, 36)
    big = ImageFont.truetype(path, 28)
    body = ImageFont.truetype(path, 22)
    small = ImageFont.truetype(path, 19)
    mono = _mono_font(path, 30)

    canvas = Image.new("L", (WIDTH, 2400), 255)
    draw = ImageDraw.Draw(canvas)
    y = MARGIN
    inner = WIDTH - 2 * MARGIN

    def text_width(text: str, font) -> float:
        return draw.textlength(text, font=font)

    def centred(text: str, font, gap: int = 10) -> None:
        nonlocal y
        draw.text(((WIDTH - text_width(text, font)) / 2, y), text, font=font, fill=0)
        y += font.size + gap

    def wrapped(text: str, font, indent: int = 0, gap: int = 6, hanging: int = 0) -> None:
        """Draw text wrapped at the margin; continuation lines start `hanging` px further in."""
        nonlocal y
        line, left = "", indent
        for ch in text:
            if text_width(line + ch, font) > inner - left:
                draw.text((MARGIN + left, y), line, font=font, fill=0)
                y += font.size + gap
                line, left = ch, indent + hanging
            else:
                line += ch
        if line:
            draw.text((MARGIN + left, y), line, font=font, fill=0)
            y += font.size + gap

    def rule() -> None:
        nonlocal y
        y += 6
        draw.line((MARGIN, y, WIDTH - MARGIN, y), fill=0, width=2)
        y += 14

    centred("县矛盾纠纷调处化解中心", body, 6)
    centred("受理回执", title_font, 14)
    rule()
    wrapped(f"案件编号：{data.case_no}", big)
    wrapped(f"受理时间：{china_time(data.received_at)}", body)
    rule()
    centred("民声码（扫码查询办理进度）", body, 8)
    qr = qr_for(data.tracking_url)
    scale = max(1, min(8, 300 // (qr.symbol_size(scale=1, border=4)[0])))
    buf = io.BytesIO()
    qr.save(buf, kind="png", scale=scale, border=4)
    qr_img = Image.open(io.BytesIO(buf.getvalue())).convert("L")
    canvas.paste(qr_img, ((WIDTH - qr_img.width) // 2, y))
    y += qr_img.height + 10
    centred("查询码", body, 4)
    centred(grouped_code(data.code), mono, 6)
    wrapped("查询码是您查看和补充本案的凭证，请妥善保管，不要告诉他人。", small)
    wrapped(f"网址：{data.tracking_url}", small)
    rule()
    wrapped("接下来：", body)
    for p in promises(settings):
        wrapped(f"· {p.when}：{p.what}", body, indent=4, hanging=int(text_width("· ", body)))
    rule()
    wrapped("您可随时扫码查看进度、补充材料、更新诉求。", small)
    y += MARGIN
    out = io.BytesIO()
    canvas.crop((0, 0, WIDTH, y)).save(out, format="PNG", optimize=True)
    return out.getvalue()
