"""The one error an import raises: a stable code and a message naming the problem for a person.

Whatever goes wrong inside (trimesh, NumPy, Pillow, a Node tool), the caller sees an `ImportFailure` whose
message says which file and what is wrong with it, never a traceback. The HTTP upload (later) maps it to
`ApiError(422, code, message)`.
"""

from __future__ import annotations


class ImportFailure(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
