"""Untrusted student names: report file names and CSV cells."""

from __future__ import annotations

from autograder.batch.names import csv_text, report_filename


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


def test_csv_text_escapes_formulas():
    for value in ("=HYPERLINK(1)", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert csv_text(value) == "'" + value
    assert csv_text("alice") == "alice"
