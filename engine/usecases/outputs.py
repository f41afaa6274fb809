"""Writing the files an action produces so that a failed write leaves no
record of an action that did not happen.

A use case calls ``write_files`` inside the store transaction that holds
its audit entry, just before the commit: every file is first written in
full beside its target (a missing folder, a refused permission or a full
disk fails here, and the transaction rolls back), then each is moved into
place. Every target is checked before the first write (a folder of that
name fails there), and a move that fails all the same puts back the
targets already replaced, so nothing on disk changes.
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
import stat
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

    Every target is checked before anything is written (its folder exists,
    it is not a folder); each file is then written in full beside its
    target and moved into place. An existing target keeps its file mode
    (an owner-only memo export stays owner-only) and is kept aside until
    every move has succeeded, so that a failed move puts back every target
    already replaced.

    Args:
        files: the files to write; an existing file is replaced.
        make_folders: create missing folders on the way to each file; when
            false, a missing folder is an error.

    Raises:
        OutputError: a file cannot be written (its message names the file
            and the system's reason, e.g. ``No such file or directory``);
            no target file was changed.
    """
    targets = [Path(file.path) for file in files]
    for target in targets:
        _check_target(target, make_folders=make_folders)
    staged: list[tuple[Path, Path]] = []
    backups: dict[Path, Path] = {}
    moved: list[Path] = []
    try:
        for file, target in zip(files, targets):
            try:
                if make_folders:
                    target.parent.mkdir(parents=True, exist_ok=True)
                temporary = _beside(target, "tmp")
                descriptor = os.open(
                    temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE if file.private else SHARED_MODE
                )
                staged.append((temporary, target))
                with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
                    handle.write(file.text)
                if target.exists():
                    # The reader of a replaced file keeps the access it had.
                    os.chmod(temporary, stat.S_IMODE(target.stat().st_mode))
                    backups[target] = _backup(target)
            except OSError as exc:
                raise _cannot_write(target, exc) from None
        for temporary, target in staged:
            try:
                os.replace(temporary, target)
            except OSError as exc:
                _restore(moved, backups)
                raise _cannot_write(target, exc) from None
            moved.append(target)
    finally:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
        for backup in backups.values():
            backup.unlink(missing_ok=True)


def _check_target(target: Path, *, make_folders: bool) -> None:
    """Raise OutputError if ``target`` cannot be replaced by a file."""
    if target.is_dir():
        raise _cannot_write(target, IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR)))
    folder = next((parent for parent in (target.parent, *target.parent.parents) if parent.exists()), None)
    if folder is not None and folder != target.parent and not make_folders:
        raise _cannot_write(target, FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT)))
    if folder is not None and not folder.is_dir():
        raise _cannot_write(target, NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR)))


def _beside(target: Path, kind: str) -> Path:
    return target.with_name(f".{target.name}.{secrets.token_hex(4)}.{kind}")


def _backup(target: Path) -> Path:
    """Keep ``target``'s current content under another name beside it."""
    backup = _beside(target, "bak")
    try:
        os.link(target, backup)
    except OSError:
        # A file system without hard links gets a copy.
        shutil.copy2(target, backup)
    return backup


def _restore(moved: Sequence[Path], backups: dict[Path, Path]) -> None:
    """Put back the targets already replaced; remove those that were new."""
    for target in reversed(moved):
        backup = backups.pop(target, None)
        try:
            if backup is None:
                target.unlink(missing_ok=True)
            else:
                os.replace(backup, target)
        except OSError:
            # Best effort: the error being raised names the failed file.
            pass


def _cannot_write(path: Path, exc: OSError) -> OutputError:
    return OutputError(f"cannot write the file: {exc.strerror or exc}.", file=str(path))
