"""Small PDF files written by hand for the tests: text lines in Helvetica, or one raw content stream."""

from __future__ import annotations

import zlib


def make_pdf(pages: list[list[str]], *, content: bytes | None = None, unicode_map: bytes | None = None) -> bytes:
    """A PDF with one Helvetica text line per string on each page (or one page with the raw `content` stream,
    Flate-compressed); `unicode_map`, when given, is the font's /ToUnicode CMap (Flate-compressed)."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    count = 1 if content is not None else len(pages)
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(count))
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {count} >>".encode())
    font = 3 + 2 * count
    for i in range(count):
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 {font} 0 R >> >> "
            f"/Contents {4 + 2 * i} 0 R >>".encode()
        )
        if content is not None:
            stream, extra = zlib.compress(content, 1), b" /Filter /FlateDecode"
        else:
            shown = " ".join(f"({_escape(line)}) '" for line in pages[i])
            stream, extra = f"BT /F1 10 Tf 40 800 Td 12 TL {shown} ET".encode("latin-1"), b""
        objects.append(_stream(stream, extra))
    to_unicode = b"" if unicode_map is None else b" /ToUnicode %d 0 R" % (font + 1)
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding%s >>" % to_unicode)
    if unicode_map is not None:
        objects.append(_stream(zlib.compress(unicode_map), b" /Filter /FlateDecode"))
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _stream(data: bytes, extra: bytes) -> bytes:
    return b"<< /Length %d%s >>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def _escape(line: str) -> str:
    return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
