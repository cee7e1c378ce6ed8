"""PDF reports: their text read in a limited child process, hostile files refused with one sentence."""

from __future__ import annotations

import io
import threading

import psutil
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader, PdfWriter

from core.intel import pdftext
from core.intel.extract import by_type, extract
from core.intel.pdftext import PdfError, is_pdf, pdf_text
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


def test_a_lone_surrogate_from_a_fonts_map_becomes_a_replacement_character():
    cmap = (
        b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap 1 begincodespacerange <00> <FF> "
        b"endcodespacerange\n1 beginbfchar\n<7E> <D800>\nendbfchar\n1 beginbfrange\n<20> <7D> <0020>\nendbfrange\n"
        b"endcmap CMapName currentdict /CMap defineresource pop end end"
    )
    text = pdf_text(make_pdf([["beacon to evil.example.com~ and 203.0.113.9"]], unicode_map=cmap)).text
    assert text.encode("utf-8").decode("utf-8") == "beacon to evil.example.com? and 203.0.113.9"
    assert by_type(extract(text))["domain"] == ["evil.example.com"]


def test_a_file_that_makes_the_reader_warn_on_every_line_of_every_page_is_still_read():
    # pypdf warns once per broken map line, quoting it, for every page: 12,000 warnings of 1 KB from this 12 KB file
    line = b"<41> <0041> " + b"\x01" * 1000
    flood = make_pdf([["A"]] * 40, unicode_map=b"beginbfchar\n" + (line + b"\n") * 300 + b"endbfchar\n")
    read = pdf_text(flood)
    assert (read.pages, read.pages_read) == (40, 40)


def test_an_unsupported_filter_is_named_as_such():
    with pytest.raises(PdfError, match="does not support"):
        pdf_text(make_pdf([["x"]]).replace(b"/Length", b"/Filter /Foo /Length"))


@pytest.mark.parametrize("algorithm", ["AES-128", "AES-256"])
def test_an_aes_encrypted_pdf_with_an_owner_password_only_is_read(algorithm):
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf([["c2.example.org"]]))))
    writer.encrypt("", owner_password="owner", algorithm=algorithm)
    out = io.BytesIO()
    writer.write(out)
    assert "c2.example.org" in pdf_text(out.getvalue()).text


def test_only_a_file_that_starts_with_the_header_is_taken_for_a_pdf():
    assert is_pdf(b"%PDF-1.7\n...") and is_pdf(b"\r\n  %PDF-1.4\n...")
    assert not is_pdf(b"The dropper writes a file starting with %PDF-1.7 to disk.")


def test_the_reader_stops_when_the_caller_stops_waiting():
    def stop(_elapsed: float) -> None:
        raise KeyboardInterrupt  # what a page's rerun or stop does to the script while it waits

    before = {child.pid for child in psutil.Process().children()}
    with pytest.raises(KeyboardInterrupt):
        pdf_text(make_pdf([["x"]]), waiting=stop)
    assert {child.pid for child in psutil.Process().children()} <= before


def test_a_reader_waiting_for_its_turn_can_be_stopped_too(monkeypatch):
    monkeypatch.setattr(pdftext, "_READERS", threading.BoundedSemaphore(1))
    pdftext._READERS.acquire()  # every turn taken
    calls = []

    def stop(elapsed: float) -> None:
        calls.append(elapsed)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        pdf_text(make_pdf([["x"]]), waiting=stop)
    assert len(calls) == 1
    pdftext._READERS.release()
    assert pdf_text(make_pdf([["evil.example.com"]])).text == "evil.example.com"
