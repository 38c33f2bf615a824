"""Batch discovery: the submission layouts, and content hashing."""

from __future__ import annotations

import os

import pytest
from batch_fakes import write

from autograder.batch.discovery import (
    MAX_FILE_BYTES,
    Submission,
    SubmissionRefused,
    content_hash,
    find_submissions,
)
from autograder.grading.submission import MAX_NOTEBOOK_BYTES


def test_find_submissions_flat_layout_ignores_hidden_files_and_caches(tmp_path):
    root, outside = tmp_path / "root", tmp_path / "elsewhere"
    for name in ("alice", "bob", ".hidden", "__pycache__", "shared/real"):
        (root / name).mkdir(parents=True)
    outside.mkdir()
    (root / "notes.txt").write_text("x")
    (root / "dan").symlink_to(root / "shared" / "real")  # inside ROOT: accepted
    (root / "mallory").symlink_to(outside)  # outside ROOT: refused
    (root / "link-to-file").symlink_to(root / "notes.txt")
    (root / "dangling").symlink_to(tmp_path / "missing")

    found = find_submissions(root)

    assert [(s.student, s.assignment) for s in found] == [
        ("alice", None),
        ("bob", None),
        ("dan", None),
        ("mallory", None),
        ("shared", None),
    ]
    problems = {s.student: s.problem for s in found}
    assert problems["mallory"] and "outside ROOT" in problems["mallory"]
    assert problems["dan"] is None and problems["alice"] is None
    assert found[0] == Submission("alice", None, root / "alice")


def test_find_submissions_nbgrader_tree_from_the_course_or_from_submitted(tmp_path):
    course = tmp_path / "course"
    submitted = course / "submitted"
    for name in ("alice/ps1", "alice/ps2", "alice/.ipynb_checkpoints", "bob/ps1", ".x/ps1"):
        (submitted / name).mkdir(parents=True)
    (course / "source" / "ps1").mkdir(parents=True)  # other nbgrader folders: not submissions
    (submitted / "readme.txt").write_text("x")
    (submitted / "bob" / "timestamp.txt").write_text("x")

    expected = [("alice", "ps1"), ("alice", "ps2"), ("bob", "ps1")]
    for root in (course, submitted):
        found = find_submissions(root)
        assert [(s.student, s.assignment) for s in found] == expected
        assert found[0].path == submitted / "alice" / "ps1"
        assert found[0].key == ("alice", "ps1")
    assert Submission("x", None, tmp_path).key == ("x", "")


def test_content_hash_is_deterministic_and_sensitive_to_content_only(tmp_path):
    one = write(tmp_path / "one", {"a.py": "x = 1\n", "sub/b.py": "y = 2\n"})
    two = write(tmp_path / "two", {"sub/b.py": "y = 2\n", "a.py": "x = 1\n"})
    os.utime(two / "a.py", (0, 0))
    reference = content_hash(one)
    assert content_hash(one) == reference == content_hash(two)
    assert len(reference) == 64

    # Caches, checkpoints, git metadata and empty folders are not content.
    write(two, {"__pycache__/a.pyc": b"\0", ".ipynb_checkpoints/a.ipynb": "{}", ".git/HEAD": "x"})
    (two / "empty").mkdir()
    assert content_hash(two) == reference

    (two / "a.py").write_text("x = 2\n")
    assert content_hash(two) != reference
    (two / "a.py").write_text("x = 1\n")
    assert content_hash(two) == reference
    (two / "a.py").rename(two / "c.py")
    assert content_hash(two) != reference


def test_content_hash_does_not_follow_symlinks_and_refuses_huge_files(tmp_path):
    big = tmp_path / "big.bin"
    with open(big, "wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)  # sparse: cheap to make
    linked = write(tmp_path / "linked", {"a.py": "x = 1\n"})
    (linked / "data").symlink_to(big)  # not followed: hashed as its target text
    before = content_hash(linked)
    (linked / "data").unlink()
    (linked / "data").symlink_to(tmp_path / "elsewhere")
    assert content_hash(linked) != before

    huge = write(tmp_path / "huge", {"a.py": "x = 1\n"})
    os.link(big, huge / "weights.bin")
    with pytest.raises(
        SubmissionRefused, match=rf"weights\.bin: .*over the {MAX_FILE_BYTES >> 20} MB limit"
    ):
        content_hash(huge)


def test_a_submission_is_refused_only_for_a_file_the_grader_would_not_read():
    # Kept apart so that a batch's grading process imports no grading module before it forks
    # its fork server; equal, so that a notebook heavy with plots is graded, not refused.
    assert MAX_FILE_BYTES == MAX_NOTEBOOK_BYTES


def test_find_submissions_lists_what_it_skips_at_the_top_and_why(tmp_path):
    root = tmp_path / "root"
    for name in ("alice", ".hidden", "__pycache__", ".git"):
        (root / name).mkdir(parents=True)
    (root / "smith_ex03_softmax.py").write_text("x")
    (root / "dangling").symlink_to(tmp_path / "missing")
    (root / "link-to-file").symlink_to(root / "smith_ex03_softmax.py")
    (root / "alice" / "notes.txt").write_text("x")  # inside a submission: its content

    skipped: list[str] = []
    assert [s.student for s in find_submissions(root, skipped)] == ["alice"]
    expects = "grade-all expects one folder per student, holding that student's files"
    assert skipped == [
        f"{root / '.hidden'}: skipped, hidden; {expects}",
        f"{root / 'dangling'}: skipped, a symlink to nothing; {expects}",
        f"{root / 'link-to-file'}: skipped, a symlink to a file; {expects}",
        f"{root / 'smith_ex03_softmax.py'}: skipped, a file; {expects}",
    ]

    submitted = tmp_path / "course" / "submitted"
    for name in ("alice/ps1", "bob", ".x/ps1"):
        (submitted / name).mkdir(parents=True)
    (submitted / "readme.txt").write_text("x")
    (submitted / "bob" / "ps1.ipynb").write_text("{}")  # no assignment folder
    skipped = []
    assert [s.key for s in find_submissions(submitted.parent, skipped)] == [("alice", "ps1")]
    expects = "nbgrader's submitted/ holds <student>/<assignment>/ folders"
    assert skipped == [
        f"{submitted / '.x'}: skipped, hidden; {expects}",
        f"{submitted / 'bob'}: skipped, no assignment folder in it; {expects}",
        f"{submitted / 'readme.txt'}: skipped, a file; {expects}",
    ]


def test_skipped_names_are_shown_on_one_line(tmp_path):
    (tmp_path / "alice").mkdir()
    (tmp_path / "evil\nname.py").write_text("x")
    skipped: list[str] = []
    find_submissions(tmp_path, skipped)
    assert skipped[0].startswith(f"{tmp_path}/evil?name.py: skipped, a file;")
