"""Exit codes, and the one error type every layer raises for bad input."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2  # bad flags or input, or a missing prerequisite such as kernel headers
EXIT_NO_PRIVILEGE = 3  # lacks CAP_BPF+CAP_PERFMON (or CAP_SYS_ADMIN)
EXIT_BPF_FAILED = 4  # the program did not compile, load or attach


class UsageError(Exception):
    """Bad input: the message is the one line the user sees."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code
