"""Small documents built in tests: encrypted PDFs, doctored OLE files, ZIPs.

Nothing here is a parser: these helpers write files in the formats the parsers
must recognise, so that error paths can be tested without shipping fixtures.
"""

from __future__ import annotations

import hashlib
import io
import struct
import zipfile
from pathlib import Path

import olefile
import pypdfium2
from PIL import Image

# The padding string of the PDF standard security handler (ISO 32000-1, 7.6.3.3).
_PDF_PASSWORD_PAD = bytes.fromhex(
    "28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A"
)
_PDF_PERMISSIONS = -4  # everything allowed; only the user password matters here


def _rc4(key: bytes, data: bytes) -> bytes:
    state = list(range(256))
    j = 0
    for i in range(256):
        j = (j + state[i] + key[i % len(key)]) % 256
        state[i], state[j] = state[j], state[i]
    out = bytearray()
    i = j = 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + state[i]) % 256
        state[i], state[j] = state[j], state[i]
        out.append(byte ^ state[(state[i] + state[j]) % 256])
    return bytes(out)


def _md5(data: bytes) -> bytes:
    return hashlib.md5(data, usedforsecurity=False).digest()


def _padded(password: str) -> bytes:
    return (password.encode("latin-1") + _PDF_PASSWORD_PAD)[:32]


def encrypted_pdf(text: str, *, user_password: str, owner_password: str) -> bytes:
    """A one-page PDF showing ``text`` (ASCII), encrypted with 40-bit RC4 (revision 2).

    Written by hand because no permissively licensed Python library writes
    encrypted PDFs (pypdfium2 cannot; pikepdf is MPL and wraps qpdf).
    """
    file_id = _md5(text.encode())
    owner_key = _md5(_padded(owner_password))[:5]
    owner_entry = _rc4(owner_key, _padded(user_password))
    key = _md5(
        _padded(user_password) + owner_entry + struct.pack("<i", _PDF_PERMISSIONS) + file_id
    )[:5]
    user_entry = _rc4(key, _PDF_PASSWORD_PAD)
    content = f"BT /F1 12 Tf 20 100 Td ({text}) Tj ET".encode("ascii")
    object_key = _md5(key + struct.pack("<i", 5)[:3] + struct.pack("<i", 0)[:2])[:10]
    stream = _rc4(object_key, content)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P %d >>"
        % (owner_entry.hex().encode(), user_entry.hex().encode(), _PDF_PERMISSIONS),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Encrypt 6 0 R /ID [<%s> <%s>] >>\n" % (
        len(objects) + 1,
        file_id.hex().encode(),
        file_id.hex().encode(),
    )
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def blank_pdf(pages: int) -> bytes:
    document = pypdfium2.PdfDocument.new()
    for _ in range(pages):
        document.new_page(595, 842)
    buffer = io.BytesIO()
    document.save(buffer)
    document.close()
    return buffer.getvalue()


def image_pdf(png: bytes) -> bytes:
    """A PDF whose only page is the image: a scan without a text layer."""
    buffer = io.BytesIO()
    with Image.open(io.BytesIO(png)) as image:
        image.convert("RGB").save(buffer, format="PDF", resolution=150)
    return buffer.getvalue()


def merged_pdf(*parts: bytes) -> bytes:
    """The pages of ``parts``, in order, in one PDF."""
    merged = pypdfium2.PdfDocument.new()
    for part in parts:
        source = pypdfium2.PdfDocument(part)
        merged.import_pages(source)
        source.close()
    buffer = io.BytesIO()
    merged.save(buffer)
    merged.close()
    return buffer.getvalue()


def rename_ole_stream(data: bytes, old: str, new: str) -> bytes:
    """``data`` with the OLE directory entry ``old`` renamed to ``new`` (at most 31 chars).

    Gives real OLE containers that look like other OLE formats (an old .doc, an
    encrypted .docx) without an OLE writer.
    """
    needle = old.encode("utf-16-le") + b"\x00\x00"
    start = 0
    while True:
        found = data.find(needle, start)
        if found < 0:
            raise ValueError(f"No directory entry named {old!r}")
        if (found - 512) % 128 == 0:  # directory entries are 128-byte aligned records
            break
        start = found + 1
    name = new.encode("utf-16-le") + b"\x00\x00"
    entry = bytearray(data[found : found + 128])
    entry[0:64] = name.ljust(64, b"\x00")
    entry[64:66] = struct.pack("<H", len(name))
    return data[:found] + bytes(entry) + data[found + 128 :]


def hwp_with_password_flag(data: bytes, workdir: Path) -> bytes:
    """The HWP ``data`` with the password bit (0x2) of its FileHeader flags set."""
    path = workdir / "protected.hwp"
    path.write_bytes(data)
    ole = olefile.OleFileIO(str(path), write_mode=True)
    header = bytearray(ole.openstream("FileHeader").read())
    (flags,) = struct.unpack_from("<I", header, 36)
    struct.pack_into("<I", header, 36, flags | 0x2)
    ole.write_stream("FileHeader", bytes(header))
    ole.close()
    return path.read_bytes()


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()
