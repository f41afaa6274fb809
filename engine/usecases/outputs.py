"""Writing the files an action produces so that a failed write leaves no
record of an action that did not happen.

A use case calls ``write_files`` inside the store transaction that holds
its audit entry, just before the commit: every file is first written in
full beside its target (a missing folder, a refused permission or a full
disk fails here, and the transaction rolls back), then each is moved into
place. The moves do not fail for want of space, and a target that cannot
be replaced (a folder of that name) fails before anything is committed.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.errors import OutputError

# Owner-only for files with personal data; others as the umask allows.
PRIVATE_MODE = 0o600
SHARED_MODE = 0o666


@dataclass(frozen=True)
class OutputFile:
    """A file to write.

    Attributes:
        path: where it goes.
        text: its content, written as UTF-8.
        private: readable by its owner only (a memo export holds personal data).
    """

    path: Path
    text: str
    private: bool = False


def write_files(files: Sequence[OutputFile], *, make_folders: bool = False) -> None:
    """Write ``files``: all of them, or none.

    Args:
        files: the files to write; an existing file is replaced.
        make_folders: create missing folders on the way to each file; when
            false, a missing folder is an error.

    Raises:
        OutputError: a file cannot be written (its message names the file
            and the system's reason, e.g. ``No such file or directory``);
            no target file was changed, except when a later move failed
            after an earlier one succeeded.
    """
    staged: list[tuple[Path, Path]] = []
    try:
        for file in files:
            target = Path(file.path)
            try:
                if make_folders:
                    target.parent.mkdir(parents=True, exist_ok=True)
                temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
                descriptor = os.open(
                    temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE if file.private else SHARED_MODE
                )
                staged.append((temporary, target))
                with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
                    handle.write(file.text)
            except OSError as exc:
                raise _cannot_write(target, exc) from None
        for temporary, target in staged:
            try:
                os.replace(temporary, target)
            except OSError as exc:
                raise _cannot_write(target, exc) from None
    finally:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)


def _cannot_write(path: Path, exc: OSError) -> OutputError:
    return OutputError(f"cannot write the file: {exc.strerror or exc}.", file=str(path))
