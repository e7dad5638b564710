"""Checks for uploaded photos: type by content (magic bytes), never by the name or the browser's word; size; then a
full decode with Pillow and a re-encoding, which drops whatever was appended after the image data and the EXIF
metadata (the camera's GPS location among it) unless JIESU_PHOTO_KEEP_EXIF says to keep it."""

import io
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps

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
        clean = reencode(upload, content_type)
        if clean is None:
            raise InvalidInput(_("The file “%(name)s” is not a readable photo."), on="photos", name=name)
        checked.append(CheckedImage(SimpleUploadedFile(name, clean, content_type), content_type, len(clean), name))
    return checked


PIL_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}


def reencode(upload: UploadedFile, content_type: str) -> bytes | None:
    """The photo decoded in full (Pillow's verify, then every pixel) and written anew in its own format; None when
    it does not decode, is not the announced format, or has more pixels than JIESU_PHOTO_MAX_PIXELS."""
    upload.seek(0)
    raw = upload.read()
    upload.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw)) as probe:
                if probe.format != PIL_FORMATS[content_type]:
                    return None
                if probe.width * probe.height > settings.JIESU_PHOTO_MAX_PIXELS:
                    return None
                probe.verify()
            with Image.open(io.BytesIO(raw)) as image:
                image.load()
                exif = image.info.get("exif") if settings.JIESU_PHOTO_KEEP_EXIF else None
                upright = ImageOps.exif_transpose(image)
                out = io.BytesIO()
                options: dict[str, object] = {"format": PIL_FORMATS[content_type]}
                if content_type == "image/jpeg":
                    upright = upright.convert("RGB") if upright.mode not in {"RGB", "L"} else upright
                    options |= {"quality": 90, "optimize": True}
                elif content_type == "image/webp":
                    options |= {"quality": 90}
                if exif and content_type != "image/png":
                    options["exif"] = upright.getexif().tobytes() if upright.getexif() else exif
                upright.save(out, **options)  # type: ignore[arg-type]
                return out.getvalue()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        return None
