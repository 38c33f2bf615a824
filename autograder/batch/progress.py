"""The progress bar of `grade-all`."""

from __future__ import annotations

from autograder.batch.discovery import Submission
from autograder.batch.names import display_name


class ProgressBar:
    """A rich progress bar on stderr (when `enabled`): what is being graded, how many are done,
    the time taken and left."""

    def __init__(self, enabled: bool, total: int) -> None:
        self.progress = None
        if enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
            )
            self.task = self.progress.add_task("grading", total=total)

    def __enter__(self) -> ProgressBar:
        if self.progress is not None:
            self.progress.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def show(self, verb: str, submission: Submission, advance: int = 0) -> None:
        """Say what is being done to `submission` (`advance`: how many more are done)."""
        if self.progress is not None:
            name = submission.student
            if submission.assignment is not None:
                name += f"/{submission.assignment}"
            self.progress.update(
                self.task, description=f"{verb} {display_name(name)}", advance=advance
            )
