"""Reading an uploaded file at the door: its bytes, in memory, refused past the upload limit."""

from __future__ import annotations

from fastapi import UploadFile

from openfr.errors import UploadTooLargeError


async def read_upload(upload: UploadFile, max_mb: float) -> bytes:
    """The file's bytes (a second guard behind the app's max_body_size); never spooled to disk."""
    limit = int(max_mb * 1024 * 1024)
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise UploadTooLargeError(f"the image is larger than {max_mb:g} MB")
    return data
