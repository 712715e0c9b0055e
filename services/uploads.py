"""Citizens' materials: accepted by content (magic bytes), not by the name or the declared type; photos
re-encoded without their metadata, PDFs rebuilt without active content; stored under data_dir/materials with a
random name, the directory 0700 and the files 0600."""

from __future__ import annotations

import asyncio
import io
import secrets
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from PIL import Image, ImageOps, UnidentifiedImageError
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject

from services.errors import Refusal, invalid
from store.files import private_dir, write_private

Image.MAX_IMAGE_PIXELS = 60_000_000  # a phone photo is ~12–50 MP; larger is a decompression bomb

SIGNATURES: list[tuple[str, str]] = [
    ("image/jpeg", ".jpg"),
    ("image/png", ".png"),
    ("image/webp", ".webp"),
    ("application/pdf", ".pdf"),
]


NOTE_MAX = 500
IMAGES = frozenset({"image/jpeg", "image/png", "image/webp"})


@dataclass
class Upload:
    """One file of a multipart form as received, with the form's note."""

    filename: str | None
    content: bytes
    note: str | None


@dataclass
class StoredFile:
    filename: str
    content_type: str
    size: int
    stored_name: str
    note: str | None


async def accept(upload: Upload, data_dir: Path, limit: int, images_only: bool = False) -> StoredFile:
    """Check an upload by its content (not its name or declared type), strip a photo's metadata and store it
    under a random name. Every kind of file the system takes in (citizens' materials, inspectors' photos,
    units' evidence) comes through here; the caller removes the stored file when its step is refused."""
    note = upload.note.strip() if upload.note and upload.note.strip() else None
    if note and len(note) > NOTE_MAX:
        raise invalid("note_too_long", f"说明不能超过 {NOTE_MAX} 字", field="note")
    if len(upload.content) > limit:
        raise Refusal(413, "file_too_large", f"文件不能超过 {limit // 1024} KB")
    if not upload.content:
        raise invalid("empty_file", "文件为空", field="file")
    content_type = sniff(upload.content[:16])
    if content_type is None or (images_only and content_type not in IMAGES):
        kinds = "JPEG、PNG、WebP 图片" if images_only else "JPEG、PNG、WebP 图片或 PDF 文件"
        raise Refusal(415, "unsupported_file_type", f"只接受 {kinds}")
    filename = safe_filename(upload.filename, content_type)
    try:
        content = await asyncio.to_thread(strip_metadata, upload.content, content_type)
    except UnreadableImage:
        raise Refusal(415, "unreadable_image", "图片文件已损坏或无法识别，请重新拍照上传") from None
    except UnreadablePdf:
        raise Refusal(415, "unreadable_pdf", "PDF 文件已损坏、加密或无法识别，请另存为普通 PDF 后上传") from None
    stored = await asyncio.to_thread(store, data_dir, content)
    return StoredFile(filename=filename, content_type=content_type, size=len(content), stored_name=stored, note=note)


def sniff(head: bytes) -> str | None:
    """The content type of a JPEG, PNG, WebP or PDF file from its first bytes; None for anything else."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return None


class UnreadableImage(ValueError):
    pass


# What a rebuilt PDF's pages keep none of: actions run on opening or viewing (/AA), annotations (links, form
# fields and comments, which carry /A actions: JavaScript, /Launch, /URI), and page-level metadata.
PDF_PAGE_DROPS = ("/AA", "/Annots", "/Metadata", "/PieceInfo")


class UnreadablePdf(ValueError):
    pass


def rebuild_pdf(content: bytes) -> bytes:
    """A new PDF holding only the pages' content: no document catalog of the upload's survives, so no
    /OpenAction, /JavaScript, /AA, /EmbeddedFiles, /AcroForm, /Names or XMP metadata, and no information
    dictionary (author, creator tool, times). Encrypted or unreadable files are refused."""
    try:
        reader = PdfReader(io.BytesIO(content), strict=False)
        if reader.is_encrypted:
            raise UnreadablePdf("encrypted")
        writer = PdfWriter()
        for page in reader.pages:
            for key in PDF_PAGE_DROPS:  # before copying: what a page no longer refers to is never copied
                if key in page:
                    del page[NameObject(key)]
            writer.add_page(page)
        writer.metadata = None  # not even pypdf's /Producer
        if not writer.pages:
            raise UnreadablePdf("no pages")
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()
    except UnreadablePdf:
        raise
    except Exception as err:  # pypdf raises many kinds on a damaged or hostile file: each is "unreadable"
        raise UnreadablePdf(str(err)) from err


def strip_metadata(content: bytes, content_type: str) -> bytes:
    """Photos are re-encoded without EXIF and text chunks, so a phone's GPS position (and camera serial)
    never reaches the case file; the picture is turned upright first, as the EXIF orientation said. PDFs are
    rebuilt without active content or metadata (`rebuild_pdf`)."""
    if content_type == "application/pdf":
        return rebuild_pdf(content)
    if not content_type.startswith("image/"):
        return content
    try:
        with Image.open(io.BytesIO(content)) as img:
            img.load()
            upright = ImageOps.exif_transpose(img)
            out = io.BytesIO()
            if content_type == "image/jpeg":
                upright.convert("RGB").save(out, "JPEG", quality=90, optimize=True)
            elif content_type == "image/png":
                upright.save(out, "PNG", optimize=True)
            else:
                upright.save(out, "WEBP", quality=90)
            return out.getvalue()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError) as err:
        raise UnreadableImage(str(err)) from err


def safe_filename(name: str | None, content_type: str) -> str:
    base = PureWindowsPath(PurePosixPath(name or "").name).name.strip().replace("\x00", "")
    base = "".join(ch for ch in base if ch.isprintable())[:120]
    if not base:
        base = "material" + dict(SIGNATURES).get(content_type, "")
    return base


def materials_dir(data_dir: Path) -> Path:
    private_dir(Path(data_dir))  # 0700: citizens' materials are personal data (store/files.py)
    return private_dir(Path(data_dir) / "materials")


def store(data_dir: Path, content: bytes) -> str:
    stored_name = secrets.token_hex(16)
    write_private(materials_dir(data_dir) / stored_name, content)  # 0600
    return stored_name


def remove(data_dir: Path, stored_name: str) -> None:
    try:
        (materials_dir(data_dir) / stored_name).unlink()
    except FileNotFoundError:
        pass


def path_of(data_dir: Path, stored_name: str) -> Path:
    if not stored_name or "/" in stored_name or "\\" in stored_name or stored_name.startswith("."):
        raise ValueError("bad stored name")
    return materials_dir(data_dir) / stored_name
