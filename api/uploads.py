"""Reading a multipart upload (one file and a note) no further than the size limit, and its OpenAPI form: the
citizen's materials, an inspector's photos and a unit's evidence all come in this way."""

from __future__ import annotations

from fastapi import Request
from starlette.datastructures import UploadFile

from services import uploads
from services.errors import Refusal, invalid

UPLOAD_FORM = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "JPEG, PNG, WebP or PDF"},
                        "note": {"type": "string", "maxLength": uploads.NOTE_MAX},
                    },
                }
            }
        },
    }
}
MULTIPART_SLACK = 64 * 1024  # room for the form's boundaries and headers around the file


async def read_upload(request: Request, limit: int) -> uploads.Upload:
    """The multipart form's one file and note, read no further than the size limit."""
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit + MULTIPART_SLACK:
        raise Refusal(413, "file_too_large", f"文件不能超过 {limit // 1024} KB")
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise Refusal(415, "multipart_required", "请以 multipart/form-data 上传文件")
    form = await request.form(max_files=1, max_fields=4)
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise invalid("file_required", "请选择要上传的文件", field="file")
        note = form.get("note")
        return uploads.Upload(
            filename=upload.filename, content=await upload.read(limit + 1), note=note if isinstance(note, str) else None
        )
    finally:
        await form.close()
