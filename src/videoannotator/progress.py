"""Progress on stderr: a tqdm bar on a terminal, plain periodic lines anywhere else.

A bar redraws itself with carriage returns and escape codes; written to a log file or a pipe,
that is hundreds of unreadable lines. ``progress_bar`` gives a bar when the stream is a
terminal and otherwise a ``PlainProgress``: one line when a long step starts, one every
``LINE_SECONDS`` while it runs, one when it ends ("videos: 6/6 (100%) in 12.3 s").
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import IO, Any

LINE_SECONDS = 10.0  # between two lines written to a file or a pipe


def is_terminal(stream: IO[str] | None = None) -> bool:
    stream = stream if stream is not None else sys.stderr
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def progress_bar(
    iterable: Iterable[Any] | None = None,
    *,
    total: float | None = None,
    desc: str = "",
    unit: str = "it",
    disable: bool = False,
    leave: bool = True,
    file: IO[str] | None = None,
    **bar_options: Any,
) -> Any:
    """A tqdm bar on a terminal; ``PlainProgress`` (the same calls) on a file or a pipe."""
    stream = file if file is not None else sys.stderr
    if is_terminal(stream):
        from tqdm.auto import tqdm

        return tqdm(
            iterable, total=total, desc=desc, unit=unit, disable=disable, leave=leave, file=stream, **bar_options
        )
    return PlainProgress(iterable, total=total, desc=desc, unit=unit, disable=disable, leave=leave, file=stream)


class PlainProgress:
    """The part of tqdm's interface this package uses, written as whole lines.

    A step that is left on screen (``leave``) says when it starts and ends; a passing one
    (``leave=False``, e.g. one video's frames) writes only if it runs past ``LINE_SECONDS``."""

    def __init__(
        self,
        iterable: Iterable[Any] | None = None,
        *,
        total: float | None = None,
        desc: str = "",
        unit: str = "it",
        disable: bool = False,
        leave: bool = True,
        file: IO[str] | None = None,
        interval: float = LINE_SECONDS,
    ) -> None:
        self.iterable = iterable
        if total is None and iterable is not None and hasattr(iterable, "__len__"):
            total = len(iterable)  # type: ignore[arg-type]  # checked just above
        self.total, self.desc, self.unit = total, desc.strip(), unit
        self.disable, self.leave, self.interval = disable, leave, interval
        self.file = file if file is not None else sys.stderr
        self.n: float = 0
        self.postfix = ""
        self.started = self.last_line = time.monotonic()
        self.wrote = False
        self.closed = False
        if leave:
            self._line(start=True)

    # -- what tqdm's users call --------------------------------------------------------
    def update(self, n: float = 1) -> None:
        self.n += n
        self._maybe_line()

    def refresh(self) -> None:
        self._maybe_line()

    def set_postfix(self, ordered_dict: dict[str, Any] | None = None, refresh: bool = True, **kwargs: Any) -> None:
        values = {**(ordered_dict or {}), **kwargs}
        self.postfix = ", ".join(f"{k}={v}" for k, v in values.items())

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None:
        self.postfix = str(s)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.leave or self.wrote:
            self._line(done=True)

    def __iter__(self) -> Iterator[Any]:
        if self.iterable is None:
            raise TypeError("PlainProgress made without an iterable")
        try:
            for item in self.iterable:
                yield item
                self.update(1)
        finally:
            self.close()

    # -- lines -------------------------------------------------------------------------
    def _maybe_line(self) -> None:
        if time.monotonic() - self.last_line >= self.interval:
            self._line()

    def _line(self, done: bool = False, start: bool = False) -> None:
        if self.disable:
            return
        self.last_line = time.monotonic()
        self.file.write(self.text(done, start) + "\n")
        self.file.flush()
        self.wrote = True

    def text(self, done: bool = False, start: bool = False) -> str:
        """One line: "videos: 3/6 videos (50%), after 12.0 s, shipyard.mp4"."""
        scale, unit = (1e6, "MB") if self.unit == "B" else (1.0, self.unit)
        digits = 1 if scale > 1 else 0
        amount = f"{self.n / scale:,.{digits}f}"
        if self.total:
            amount += f"/{self.total / scale:,.{digits}f}"
        last = self.total or self.n
        if unit not in ("it", ""):
            amount += f" {unit if last == 1 or scale > 1 else unit + 's'}"
        if self.total:
            amount += f" ({100 * self.n / self.total:.0f}%)"
        parts = [f"{self.desc}: {amount}" if self.desc else amount]
        elapsed = self.last_line - self.started
        if done:
            parts.append(f"done in {elapsed:.1f} s")
        elif not start:
            parts.append(f"after {elapsed:.1f} s")
        if self.postfix:
            parts.append(self.postfix)
        return ", ".join(parts)
