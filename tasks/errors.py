"""Errors the pipeline reports to people: one clear sentence naming the file and the problem."""


class SourceError(Exception):
    """A source file cannot be read at all (broken, wrong format, no header, missing columns)."""

    def __init__(self, path: object, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")
