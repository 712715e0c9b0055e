"""A file handed out as a download: its bytes with a file name a browser keeps, Chinese included (RFC 6266: an
ASCII fallback and the UTF-8 name)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi.responses import Response

from services.exports import Export


def attachment(export: Export) -> Response:
    fallback = export.filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return Response(
        export.data,
        media_type=export.media_type,
        headers={
            "Content-Disposition": f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(export.filename)}",
            "Cache-Control": "no-store",
        },
    )
