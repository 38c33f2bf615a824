"""Untrusted student names: report file names and CSV cells."""

from __future__ import annotations

from autograder.batch.names import report_filename
from autograder.reports.spreadsheet import text_cell


def test_report_filenames_are_safe_readable_and_distinct():
    assert report_filename("alice") == "alice.json"
    assert report_filename("alice", "ps1") == "alice__ps1.json"
    hostile = ["../etc/passwd", ".bashrc", "a/b", "a\\b", "..", "-rf", "x" * 300, "a\0b"]
    names = [report_filename(s) for s in hostile]
    for name in names:
        assert "/" not in name and "\\" not in name and "\0" not in name
        assert not name.startswith((".", "-")) and len(name) < 100
    assert len(set(names)) == len(names)
    assert report_filename("José").startswith("Jose-")
    assert report_filename("a__b", "c") != report_filename("a", "b__c")
    assert report_filename("a_", "_b") != report_filename("a", "__b")


def test_a_csv_cell_is_one_line_and_never_a_formula():
    for value in ("=HYPERLINK(1)", "+1", "-1", "@SUM(A1)"):
        assert text_cell(value) == "'" + value
    assert text_cell("\tx") == "?x" and text_cell("\r=1") == "?=1"
    assert text_cell("a\rb\nc\x1b[2J") == "a?b?c?[2J"
    assert text_cell("alice\u3164") == "alice?"  # a filler that shows as nothing
    assert text_cell("alice") == "alice" and text_cell("José 注意") == "José 注意"
