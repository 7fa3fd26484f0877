"""Which classifier head this installation uses: the one shipped in the package, or one
retrained here on the DPO's corrections and put in use on purpose.

Files in `<data dir>/model/`: `candidate.json` (what `mailbot model retrain` wrote),
`head.json` (in use once `mailbot model use` moved the candidate there), and
`previous.json` (what was in use before, for `mailbot model restore`). No `head.json`
means the packaged head. The worker reads the head when it starts: restart it after a
change.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from classifiers.trained import HEAD_FILE

PACKAGED: Final = "packaged"


@dataclass(frozen=True, slots=True)
class ModelFiles:
    directory: Path

    @property
    def active(self) -> Path:
        return self.directory / "head.json"

    @property
    def candidate(self) -> Path:
        return self.directory / "candidate.json"

    @property
    def previous(self) -> Path:
        return self.directory / "previous.json"

    def head_in_use(self) -> Path:
        return self.active if self.active.is_file() else HEAD_FILE

    def use_candidate(self) -> None:
        """The candidate goes in use; what was in use becomes `previous` (the packaged
        head is remembered as an empty marker file)."""
        if not self.candidate.is_file():
            raise FileNotFoundError("no candidate head: run `mailbot model retrain` first")
        self._remember_active()
        self.candidate.replace(self.active)

    def restore_previous(self) -> None:
        """What was in use before the last `use` is in use again."""
        if not self.previous.exists():
            raise FileNotFoundError("no previous head to restore")
        if self.previous.stat().st_size == 0:  # the packaged head was in use
            self.active.unlink(missing_ok=True)
            self.previous.unlink()
            return
        self.previous.replace(self.active)

    def _remember_active(self) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self.active.is_file():
            shutil.copy2(self.active, self.previous)
        else:
            self.previous.write_bytes(b"")
