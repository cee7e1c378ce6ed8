"""The warehouse's errors: each message is written for the analyst."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import CtasError


class WarehouseError(CtasError):
    """A warehouse operation failed; the message is written for the analyst."""


class WarehouseLockedError(WarehouseError):
    """Another process holds the warehouse file open for writing."""


class DatasetNotFoundError(WarehouseError):
    """No dataset of that name is in the catalogue."""


@dataclass(frozen=True)
class CsvProblem:
    """One malformed row: its line in the file, what is wrong, and the start of the line."""

    line: int | None
    kind: str
    message: str
    text: str = ""


class IngestError(WarehouseError):
    """An ingest was refused; nothing was written. `problems` lists malformed rows, if that was the reason."""

    def __init__(self, message: str, problems: tuple[CsvProblem, ...] = (), problem_count: int = 0) -> None:
        super().__init__(message)
        self.problems = problems
        self.problem_count = problem_count or len(problems)
