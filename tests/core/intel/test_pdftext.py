"""PDF reports: their text read in a limited child process, hostile files refused with one sentence."""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader, PdfWriter

from core.intel import pdftext
from core.intel.extract import by_type, extract
from core.intel.pdftext import PdfError, pdf_text
from tests.core.intel.pdf_samples import make_pdf


def test_a_report_pdf_gives_its_indicators():
    data = make_pdf(
        [
            ["Stage two is pulled from hxxps://files[.]evil-docs[.]net/d/7731", "and beacons to 45.146.165[.]37."],
            ["Exploited: CVE-2021-44228; T1059.001.", "MD5 423e8e781794fe702f778fb99872848d"],
        ]
    )
    read = pdf_text(data, "report.pdf")
    assert (read.pages, read.pages_read, read.truncated) == (2, 2, False)
    found = by_type(extract(read.text))
    assert found["url"] == ["https://files.evil-docs.net/d/7731"]
    assert found["ipv4"] == ["45.146.165.37"]
    assert found["cve"] == ["CVE-2021-44228"] and found["attack_technique"] == ["T1059.001"]
    assert found["md5"] == ["423e8e781794fe702f778fb99872848d"]


def test_pages_and_characters_past_the_limits_are_left_out_and_said_so():
    data = make_pdf([[f"page {i} host{i}.example.com"] for i in range(5)])
    read = pdf_text(data, max_pages=2)
    assert (read.pages, read.pages_read, read.truncated) == (5, 2, True)
    assert "host1.example.com" in read.text and "host2" not in read.text
    short = pdf_text(data, max_chars=10)
    assert len(short.text) <= 10 + 2 * short.pages_read and short.truncated


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"", "not a PDF"),
        (b"hello, world\n" * 10, "not a PDF"),
        (b"%PDF-1.7\n" + bytes(range(256)) * 40, "damaged"),
        (make_pdf([["x"]])[:120], "damaged"),
    ],
)
def test_files_that_are_not_readable_pdfs_are_refused_with_one_sentence(data, says):
    with pytest.raises(PdfError, match=says) as caught:
        pdf_text(data, "upload.pdf")
    assert "\n" not in str(caught.value) and "Traceback" not in str(caught.value)


def test_an_oversized_file_is_refused_before_it_is_parsed():
    with pytest.raises(PdfError, match="at most 20 MiB"):
        pdf_text(b"%PDF-1.4\n" + b" " * pdftext.MAX_PDF_BYTES, "big.pdf")


def test_a_password_protected_pdf_is_refused_and_an_empty_password_is_tried():
    for password, readable in (("secret", False), ("", True)):
        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf([["c2.example.org"]]))))
        writer.encrypt(password, owner_password="owner", algorithm="RC4-128")
        out = io.BytesIO()
        writer.write(out)
        if readable:
            assert "c2.example.org" in pdf_text(out.getvalue()).text
        else:
            with pytest.raises(PdfError, match="encrypted with a password"):
                pdf_text(out.getvalue())


def test_a_decompression_bomb_is_refused_not_expanded():
    bomb = make_pdf([], content=b"BT /F1 10 Tf (a) Tj ET " + b" " * (400 * 2**20))
    assert len(bomb) < 2 * 2**20
    with pytest.raises(PdfError, match="decompression bomb"):
        pdf_text(bomb, "bomb.pdf")


def test_a_reader_past_its_deadline_is_stopped():
    with pytest.raises(PdfError, match="took longer than"):
        pdf_text(make_pdf([["x"]]), time_limit_s=0.001)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000), st.integers(min_value=0, max_value=1500))
def test_any_damage_to_a_pdf_gives_text_or_one_pdf_error(noise, at):
    data = bytearray(make_pdf([["evil.example.com 203.0.113.9"], ["second page"]]))
    data[at : at + len(noise)] = noise
    try:
        read = pdf_text(bytes(data))
    except PdfError as exc:
        assert "\n" not in str(exc)
    else:
        assert isinstance(read.text, str) and read.pages_read <= read.pages
