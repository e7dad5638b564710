"""Checks for uploaded photos: type by content (magic bytes), never by the name or the browser's word; size."""

from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from .errors import InvalidInput

# (signature at offset 0, extra check, content type)
SIGNATURES: list[tuple[bytes, bytes | None, str]] = [
    (b"\xff\xd8\xff", None, "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", None, "image/png"),
    (b"RIFF", b"WEBP", "image/webp"),
]


@dataclass(frozen=True)
class CheckedImage:
    file: UploadedFile
    content_type: str
    size: int
    name: str


def sniff(head: bytes) -> str | None:
    """The image type the first bytes announce, or None."""
    for signature, extra, content_type in SIGNATURES:
        if head.startswith(signature) and (extra is None or head[8:12] == extra):
            return content_type
    return None


def check_images(files: list[UploadedFile]) -> list[CheckedImage]:
    """Validate every file before anything is written; raise InvalidInput (in the user's language) otherwise."""
    limit = settings.JIESU_UPLOAD_MAX_BYTES
    if len(files) > settings.JIESU_UPLOAD_MAX_FILES:
        raise InvalidInput(
            _("At most %(count)d photos can be added at once."), on="photos", count=settings.JIESU_UPLOAD_MAX_FILES
        )
    checked: list[CheckedImage] = []
    for upload in files:
        name = (upload.name or "")[:255]
        size = int(upload.size or 0)
        if size == 0:
            raise InvalidInput(_("The file “%(name)s” is empty."), on="photos", name=name)
        if size > limit:
            raise InvalidInput(
                _("The file “%(name)s” is too large: at most %(limit)d MB."),
                on="photos",
                name=name,
                limit=limit // (1024 * 1024),
            )
        upload.seek(0)
        content_type = sniff(upload.read(16))
        upload.seek(0)
        if content_type is None:
            raise InvalidInput(_("The file “%(name)s” is not a JPEG, PNG or WebP photo."), on="photos", name=name)
        checked.append(CheckedImage(upload, content_type, size, name))
    return checked
