"""Uploaded PDFs are rebuilt without active content or metadata (or refused), and every stored file is its
owner's alone (issue 15, finding 6; docs/security.md, "Files")."""

from __future__ import annotations

import io
import stat

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject

from services import uploads
from services.errors import Refusal

ACTIVE = (b"/JavaScript", b"/JS", b"/OpenAction", b"/AA", b"/EmbeddedFile", b"/Launch", b"/Annots")
PERSONAL = (b"13800001234", b"SecretTool", b"Zhang San", b"MZ-payload")


def _js(code: str) -> DictionaryObject:
    return DictionaryObject({NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject(code)})


def hostile_pdf(pages: int = 2) -> bytes:
    """What the attack uploaded: JavaScript on opening, in the document's name tree and on a page, a link
    annotation launching a program, an embedded executable, and the author's name and phone in the metadata."""
    w = PdfWriter()
    for _ in range(pages):
        w.add_blank_page(595, 842)
    w.add_attachment("evil.exe", b"MZ-payload")
    w.add_metadata({"/Author": "Zhang San 13800001234", "/Creator": "SecretTool"})
    root = w._root_object
    root[NameObject("/OpenAction")] = _js("app.alert('open')")
    names = root.setdefault(NameObject("/Names"), DictionaryObject()).get_object()
    names[NameObject("/JavaScript")] = DictionaryObject(
        {NameObject("/Names"): ArrayObject([TextStringObject("doc"), w._add_object(_js("app.alert('doc')"))])}
    )
    page = w.pages[0]
    page[NameObject("/AA")] = DictionaryObject({NameObject("/O"): _js("app.alert('page')")})
    launch = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/Link"),
            NameObject("/Rect"): ArrayObject([]),
            NameObject("/A"): DictionaryObject(
                {NameObject("/S"): NameObject("/Launch"), NameObject("/F"): TextStringObject("cmd.exe")}
            ),
        }
    )
    page[NameObject("/Annots")] = ArrayObject([w._add_object(launch)])
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


async def test_a_pdf_is_rebuilt_with_its_pages_and_nothing_active_or_personal(tmp_path):
    raw = hostile_pdf()
    assert all(marker in raw for marker in ACTIVE + PERSONAL)  # the attack is really in the upload
    stored = await uploads.accept(uploads.Upload("协议.pdf", raw, None), tmp_path, 1 << 20)
    kept = (tmp_path / "materials" / stored.stored_name).read_bytes()
    assert stored.content_type == "application/pdf" and stored.size == len(kept)
    assert [m for m in ACTIVE + PERSONAL + (b"/Producer", b"/Metadata") if m in kept] == []
    reader = PdfReader(io.BytesIO(kept))
    assert len(reader.pages) == 2 and reader.metadata is None
    assert set(reader.trailer["/Root"].keys()) == {"/Type", "/Pages"}


@pytest.mark.parametrize("content", [b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", b"%PDF-" + b"\x00" * 500])
async def test_an_unreadable_pdf_is_refused_and_nothing_is_stored(tmp_path, content):
    with pytest.raises(Refusal) as refused:
        await uploads.accept(uploads.Upload("x.pdf", content, None), tmp_path, 1 << 20)
    assert (refused.value.status_code, refused.value.code) == (415, "unreadable_pdf")
    assert not list((tmp_path / "materials").glob("*")) if (tmp_path / "materials").exists() else True


async def test_an_encrypted_pdf_is_refused(tmp_path):
    w = PdfWriter()
    w.add_blank_page(100, 100)
    w.encrypt("secret")
    out = io.BytesIO()
    w.write(out)
    with pytest.raises(Refusal) as refused:
        await uploads.accept(uploads.Upload("x.pdf", out.getvalue(), None), tmp_path, 1 << 20)
    assert refused.value.code == "unreadable_pdf"


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_stored_materials_are_0600_in_0700_directories_whatever_the_umask(tmp_path):
    import os

    old = os.umask(0o022)  # a typical umask: files 0644, directories 0755
    try:
        data = tmp_path / "data"
        stored = await uploads.accept(uploads.Upload("a.pdf", hostile_pdf(1), None), data, 1 << 20)
    finally:
        os.umask(old)
    assert mode(data) == 0o700 and mode(data / "materials") == 0o700
    assert mode(data / "materials" / stored.stored_name) == 0o600
