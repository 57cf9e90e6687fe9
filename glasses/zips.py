"""Read a zip of photos as the CLI walks a folder, one entry per row-producing member, for the CLI and the app's
Batch tab alike, so that the same zip gives the same rows on both.

A member is taken when its name or its header says image; folders, hidden entries (and macOS's __MACOSX) and
other files are passed over. A zip inside the zip, and a zip with no image in it, are entries that say so.
Members are read one at a time, when their turn comes, each at most `ZipLimits.max_member_bytes`, and the
members of one zip together at most `max_unpacked_bytes` and `max_images`, so that a zip that unpacks to far
more than it weighs can exhaust neither memory nor a batch's time. An entry that cannot be read (encrypted, too
large, corrupt) raises ImageError from `read()`, naming the entry, so that it becomes an error row.

Entries are named `<zip's name>/<member's name>` (`photos.zip/day1/beach.jpg`); the caller chooses the zip's
name: the path as given on the command line, an upload's file name in the app.
"""
from __future__ import annotations

import io
import math
import os
import stat
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath

from PIL import Image, UnidentifiedImageError

from glasses.config import Config
from glasses.images import IMAGE_SUFFIXES, ImageError, ImageSource, os_error_reason

# Enough of a file's start for Pillow to recognise every format it reads by its header.
_HEADER_BYTES = 4096
# How every zip starts (a local file header, or the end record of an empty zip): a truncated one included,
# which zipfile.is_zipfile does not recognise.
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_ENCRYPTED_FLAG = 0x1
NESTED_ZIP = "a zip inside a zip is not opened; unzip it, or give it on its own"


@dataclass(frozen=True)
class ZipLimits:
    """How much one zip may make a caller read: images taken, bytes they unpack to together, bytes of one."""

    max_images: int
    max_unpacked_bytes: int
    max_member_bytes: int

    @classmethod
    def from_config(cls, config: Config) -> "ZipLimits":
        """The limits glasses/config.py gives (GLASSES_MAX_ZIP_IMAGES, GLASSES_MAX_ZIP_UNPACKED_GB, and
        GLASSES_MAX_UPLOAD_MB for one member)."""
        return cls(config.max_zip_images, config.max_zip_unpacked_bytes, config.max_upload_bytes)


@dataclass(frozen=True)
class ZipEntry:
    """One row-producing entry: `read()` gives the member's bytes, or raises ImageError naming `name` and saying
    why not. `member` is the member's name inside the zip, None for an entry about the zip as a whole (corrupt,
    no image in it, more images than the limit)."""

    name: str
    read: Callable[[], ImageSource]
    zip_path: str
    member: str | None = None

    @property
    def member_parts(self) -> tuple[str, ...]:
        """The member's name as relative path parts, without `..`, `.` or a leading `/`: where a copy drawn from
        it may go under another folder without leaving it."""
        if self.member is None:
            return ()
        parts = tuple(p for p in PurePosixPath(self.member).parts if p not in ("", ".", "..", "/"))
        return parts or ("member",)


def too_large(size: int, limit: int) -> str:
    """The words for a file of `size` bytes over a `limit` in bytes, rounded up, so that a size just over the
    limit never reads as the limit itself."""
    return f"too large: {math.ceil(size / 1024 / 1024 * 10) / 10:.1f} MB (limit {limit // 1024 // 1024} MB)"


def is_zip(path: str) -> bool:
    """Whether `path` is a regular file that is a zip, by its name or by its first bytes. A missing file, a
    folder or a FIFO is not (and a FIFO's first bytes are never waited for)."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return False
        if PurePosixPath(path).suffix.lower() == ".zip":
            return True
        with open(path, "rb") as file:
            return file.read(4) in _ZIP_MAGIC
    except OSError:
        return False


def zip_entries(path: str, name: str, limits: ZipLimits) -> list[ZipEntry]:
    """The entries of the zip at `path`, named after `name`, in the zip's own order: images first as they come,
    then a zip's nested zips, then, where the limits stopped the reading, one entry saying so."""
    try:
        with zipfile.ZipFile(path) as archive:
            candidates = [info for info in archive.infolist() if _is_candidate(info)]
            nested = [info for info in candidates if PurePosixPath(info.filename).suffix.lower() == ".zip"]
            members = [info for info in candidates if info not in nested and _looks_like_image(archive, info)]
    except (zipfile.BadZipFile, EOFError) as err:
        return [_failing(name, path, f"corrupt zip: {err}")]
    except OSError as err:
        reason = os_error_reason(err)
        return [_failing(name, path, reason if isinstance(err, (PermissionError, FileNotFoundError))
                         else f"corrupt zip: {reason}")]
    entries = [_failing(_member_name(name, info), path, NESTED_ZIP, info.filename) for info in nested]
    unpacked = 0
    for count, info in enumerate(members):
        unpacked += info.file_size
        if count == limits.max_images or unpacked > limits.max_unpacked_bytes:
            limit = (f"{limits.max_images} images" if count == limits.max_images
                     else f"{limits.max_unpacked_bytes // 1024 ** 3} GB unpacked")
            entries.append(_failing(name, path, f"holds {len(members)} images; only the first {count} were read "
                                                f"(limit {limit})"))
            break
        entries.append(ZipEntry(_member_name(name, info),
                                lambda info=info: _read_member(path, _member_name(name, info), info, limits),
                                path, info.filename))
    if not entries:
        entries.append(_failing(name, path, "no image in this zip"))
    return entries


def _member_name(zip_name: str, info: zipfile.ZipInfo) -> str:
    return f"{zip_name}/{info.filename.lstrip('/')}"


def _is_candidate(info: zipfile.ZipInfo) -> bool:
    """Not a folder, nor hidden (`..` is no hiding: such a member is only read, never unpacked to disk)."""
    parts = PurePosixPath(info.filename).parts
    return not info.is_dir() and not any(p.startswith(".") and p != ".." or p == "__MACOSX" for p in parts)


def _looks_like_image(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    if PurePosixPath(info.filename).suffix.lower() in IMAGE_SUFFIXES:
        return True
    try:
        with archive.open(info) as member, Image.open(io.BytesIO(member.read(_HEADER_BYTES))):
            return True
    except Image.DecompressionBombError:   # an image all the same: reading it will say it is too large
        return True
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, RuntimeError, NotImplementedError,
            zipfile.BadZipFile, zlib.error):
        return False


def _read_member(path: str, name: str, info: zipfile.ZipInfo, limits: ZipLimits) -> bytes:
    if info.file_size > limits.max_member_bytes:
        raise ImageError(name, too_large(info.file_size, limits.max_member_bytes))
    if info.flag_bits & _ENCRYPTED_FLAG:
        raise ImageError(name, "encrypted: unpacking it needs a password")
    try:   # zipfile reads no more than the size the member declares, checked above
        with zipfile.ZipFile(path) as archive, archive.open(info) as member:
            return member.read()
    except (NotImplementedError, RuntimeError) as err:   # a compression method zipfile lacks, or other refusals
        raise ImageError(name, f"cannot unpack: {err}") from None
    except (zipfile.BadZipFile, EOFError, zlib.error) as err:
        raise ImageError(name, f"corrupt zip member: {err}") from None
    except OSError as err:
        raise ImageError(name, f"corrupt zip member: {os_error_reason(err)}") from None


def _failing(name: str, path: str, reason: str, member: str | None = None) -> ZipEntry:
    def read() -> ImageSource:
        raise ImageError(name, reason)
    return ZipEntry(name, read, path, member)
