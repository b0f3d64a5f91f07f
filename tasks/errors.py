"""Errors the pipeline reports to people: one clear sentence naming the file and the problem."""


class SourceError(Exception):
    """A source file cannot be read at all (broken, wrong format, no header, missing columns)."""

    def __init__(self, path: object, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class ReferenceImportError(Exception):
    """Reference files that cannot be imported: one line per problem, each naming the file, and where it
    applies the row and the field. Nothing of the import was written."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))
