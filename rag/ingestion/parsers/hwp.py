"""HWP 5.x and HWPX (Hancom Office 한글) through syhwp (MIT, pure Python).

syhwp reads both formats into paragraphs and tables in reading order and renders
tables as Markdown. It exposes no paragraph styles, so HWP documents yield no
headings: the chunker then groups by size and page only. Image placeholders are
dropped; single-column and single-row tables, which HWP authors use as boxed
text (titles, notices, captions), become paragraphs.

syhwp opens a path, not bytes, so the data goes through a private temporary file.
"""

from __future__ import annotations

import io
import re
import tempfile
import zipfile
import zlib
from xml.parsers import expat

import syhwp

from rag.errors import CorruptDocument, PasswordProtected
from rag.ingestion.parsers.base import Block, ParsedDocument, ParseLimits
from rag.ingestion.parsers.containers import check_zip_container
from rag.ingestion.parsers.markdown_table import rows_to_markdown

# What syhwp puts where a picture is; it carries nothing to search.
_IMAGE_PLACEHOLDER = "[그림]"
# An encrypted HWPX lists its encrypted parts in the manifest, ODF style.
_HWPX_MANIFEST = "META-INF/manifest.xml"
_HWPX_ENCRYPTION_MARKER = b"encryption-data"
_HWPX_SECTION = re.compile(r"(?:^|/)section\d+\.xml$", re.IGNORECASE)


class HwpParser:
    """Both HWP 5.x (OLE) and HWPX (ZIP); syhwp tells them apart by signature."""

    def parse(self, data: bytes, *, filename: str, limits: ParseLimits) -> ParsedDocument:
        if not data.startswith(b"\xd0\xcf\x11\xe0"):
            check_zip_container(data, limits)
            _check_hwpx_parts(data)
        document = _read(data)
        blocks: list[Block] = []
        for item in document.blocks:
            if isinstance(item, syhwp.Table):
                blocks.extend(_table_blocks(item))
            elif isinstance(item, syhwp.Paragraph | syhwp.Equation):
                blocks.append(Block(kind="paragraph", text=item.text))
        return ParsedDocument(blocks=blocks, page_count=None)


def _read(data: bytes) -> syhwp.Document:
    with tempfile.NamedTemporaryFile(prefix="rag-hwp-") as handle:
        handle.write(data)
        handle.flush()
        try:
            return syhwp.open(handle.name)
        except syhwp.EncryptedDocumentError as exc:
            raise PasswordProtected(
                "The HWP file is protected with a password; remove the password and "
                "upload it again."
            ) from exc
        except (
            syhwp.SyhwpError,
            # syhwp reads HWPX parts without catching the ZIP layer's errors.
            zipfile.BadZipFile,
            zlib.error,
            EOFError,
            NotImplementedError,
        ) as exc:
            raise CorruptDocument(
                "The HWP file is damaged or of an unsupported version "
                "(HWP 3.0 and older cannot be read)."
            ) from exc


def _table_blocks(table: syhwp.Table) -> list[Block]:
    grid = [
        ["" if cell.strip() == _IMAGE_PLACEHOLDER else cell for cell in row] for row in table.grid()
    ]
    if table.n_cols <= 1:
        return [Block(kind="paragraph", text=row[0]) for row in grid if row and row[0].strip()]
    if table.n_rows <= 1:
        text = " ".join(cell for row in grid for cell in row if cell.strip())
        return [Block(kind="paragraph", text=text)] if text else []
    markdown = rows_to_markdown(grid)
    return [Block(kind="table", text=markdown)] if markdown else []


def _check_hwpx_parts(data: bytes) -> None:
    """Reject an encrypted HWPX, and one whose body sections are not well-formed XML.

    syhwp skips a section it cannot parse; that would index part of the document
    as if it were all of it.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            if _HWPX_MANIFEST in names and _HWPX_ENCRYPTION_MARKER in archive.read(_HWPX_MANIFEST):
                raise PasswordProtected(
                    "The HWPX file is protected with a password; remove the password and "
                    "upload it again."
                )
            for name in names:
                if _HWPX_SECTION.search(name):
                    _check_xml(archive.read(name))
    except (
        zipfile.BadZipFile,
        OSError,
        EOFError,
        NotImplementedError,
        zlib.error,
        expat.ExpatError,
    ) as exc:
        raise CorruptDocument("The HWPX file is damaged.") from exc


def _check_xml(part: bytes) -> None:
    """Raise ``ExpatError`` unless ``part`` is well-formed XML without a DTD.

    Run before syhwp parses the same part: OWPML has no DTD, so a part declaring
    one (the vehicle of entity-expansion attacks) is rejected as damaged.
    """
    parser = expat.ParserCreate()

    def reject_doctype(*_args: object) -> None:
        raise expat.ExpatError("a document type declaration is not allowed")

    parser.StartDoctypeDeclHandler = reject_doctype
    parser.Parse(part, True)
