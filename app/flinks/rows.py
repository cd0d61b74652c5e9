"""PURE: a listing body read row by row, each row known by a fingerprint of its raw bytes, so
that only the rows not byte-identical to a stored one are validated (issue 13). The rules of
SPEC 2 are app.flinks.listing's: the same skips, the same log lines, the same conflicts."""

from __future__ import annotations

from collections.abc import Mapping
from hashlib import blake2b, sha256

import msgspec

from app.core.rowprints import Delta, Fetched
from app.domain import Key, Registration
from app.flinks.body import _UNSTORABLE_ESCAPE, load_array
from app.flinks.errors import FlinksBadAnswer
from app.flinks.listing import Merge, _Typed, _typed_row, _validate_row, read_answer

_RAW = msgspec.json.Decoder(list[msgspec.Raw])
_ONE = msgspec.json.Decoder(_Typed)


def fingerprint(raw: bytes | msgspec.Raw) -> bytes:
    """128 bits of BLAKE2b: no two different rows share one in any listing ever seen."""
    return blake2b(raw, digest_size=16).digest()


class RawListing:
    """A body that is a JSON array, split into its elements' raw bytes (not yet validated)."""

    __slots__ = ("_body", "_raws")

    def __init__(self, body: bytes, raws: list[msgspec.Raw]) -> None:
        self._body: bytes = body
        self._raws: list[msgspec.Raw] | None = raws

    def delta(self, known: Mapping[bytes, Key]) -> Delta:
        """The answer against `known` (fingerprint -> registration, of the rows the stored state
        was read from): a known row is not validated again, every other row is. Should an
        unknown row share a key with a known one, both are validated, so duplicates and
        conflicts are decided exactly as for a whole answer. Called once: the body is let go
        with it (at 100,000 rows, 22 MB that the rest of the cycle does not need), and a
        second call raises rather than read an empty, complete answer (every row missing)."""
        raws = self._raws
        if raws is None:
            raise RuntimeError("RawListing.delta() was called twice: the body is let go")
        try:
            return self._whole(raws) if not known else self._against(raws, known)
        finally:
            self._body, self._raws = b"", None

    def _against(self, raws: list[msgspec.Raw], known: Mapping[bytes, Key]) -> Delta:
        unchanged: dict[Key, int] = {}  # the first row of each known key
        again: dict[Key, list[int]] = {}  # its identical repeats, if any
        unknown: dict[int, bytes] = {}  # row -> its fingerprint: only those are kept
        get = known.get
        for index, raw in enumerate(raws):
            fp = fingerprint(raw)
            key = get(fp)
            if key is None:
                unknown[index] = fp
            elif key in unchanged:
                again.setdefault(key, []).append(index)
            else:
                unchanged[key] = index
        rows = {index: self._row(raws[index]) for index in unknown}
        for row in list(rows.values()):
            if row is not None and row.key in unchanged:
                # An unknown row shares the key: all its rows are validated and decided in full.
                indexes = [unchanged.pop(row.key), *again.get(row.key, ())]
                for index in indexes:
                    rows[index], unknown[index] = self._row(raws[index]), fingerprint(raws[index])
        merge = Merge()
        for index in sorted(rows):
            merge.add(rows[index], unknown[index])
        answer = merge.answer()
        # The keys view, not a copy: at 500,000 rows a frozenset of them was 16 MiB more.
        return Delta(answer, unchanged.keys(), merge.tags)

    def _whole(self, raws: list[msgspec.Raw]) -> Delta:
        """Every row validated (a first sync, or no index), one row decoded at a time: typing
        the whole body at once would hold every decoded row together (at 500,000 rows,
        70 MiB more at the peak for no gain in time)."""
        merge = Merge()
        for raw in raws:
            merge.add(self._row(raw), fingerprint(raw))
        return Delta(merge.answer(), frozenset(), merge.tags)

    def _row(self, raw: msgspec.Raw) -> Registration | None:
        try:
            return _typed_row(_ONE.decode(raw))
        except msgspec.DecodeError:
            pass  # not the documented types: the exact path decides (and logs) the row
        try:
            (item,) = load_array(b"[" + bytes(raw) + b"]")
        except FlinksBadAnswer:
            load_array(self._body)  # the whole body's own error (e.g. not UTF-8 at byte N)
            raise
        return _validate_row(item)


def read_rows(body: bytes) -> RawListing | None:
    """The body split into rows, or None when it must be read whole (app.flinks.listing):
    not a JSON array msgspec reads, a BOM, NUL or lone surrogates."""
    if _UNSTORABLE_ESCAPE.search(body):
        return None
    try:
        return RawListing(body, _RAW.decode(body))
    except (msgspec.DecodeError, RecursionError):
        return None


def fetched(body: bytes) -> Fetched:
    """A listing body as a cycle takes it: its digest now, its rows validated on first use:
    not at all for a body identical to the last complete one (app.watch.poll), the quiet poll of a
    large listing, and only those that changed when it can be read row by row. Raises
    FlinksBadAnswer now unless the body is a JSON array."""
    digest = sha256(body).hexdigest()
    if (raw := read_rows(body)) is not None:
        return Fetched(lambda: raw.delta({}).answer, digest, len(body), rows=raw)
    return Fetched(read_answer(body), digest, len(body))
