"""Small value classes without ``dataclasses``.

Importing ``dataclasses`` pulls in ``inspect`` (~7 ms) and building each dataclass executes
generated code (~0.5-1 ms a class): a one-file ``premerge scope`` run paid ~20 ms of its start-up
for the fifteen on its path.  A :class:`Record` subclass writes its ``__init__`` and ``__slots__``
by hand and lists its fields in ``_fields``; equality, ``repr``, :meth:`Record.replace` and
pickling come from here.  :class:`FrozenRecord` adds hashing and refuses assignment, as
``@dataclass(frozen=True)`` does.
"""

from __future__ import annotations

#: typing.TYPE_CHECKING without importing typing: its names serve annotations only, and
#: the import costs ~3 ms of start-up where nothing else has loaded it
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar


class Record:
    """Equality and ``repr`` over ``_fields`` (constructor order); ``replace`` copies."""

    __slots__ = ()
    #: every field, in the order the constructor takes them positionally
    _fields: ClassVar[tuple[str, ...]] = ()
    #: the fields equality and hashing look at (default: all of them)
    _compared: ClassVar[tuple[str, ...] | None] = None

    def _values(self, names: tuple[str, ...]) -> tuple[Any, ...]:
        return tuple([getattr(self, name) for name in names])

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        names = self._compared if self._compared is not None else self._fields
        return self._values(names) == other._values(names)  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__qualname__}({shown})"

    def replace(self, **changes: Any) -> Any:
        """A copy with some fields changed (``dataclasses.replace``)."""
        values = {name: getattr(self, name) for name in self._fields}
        unknown = set(changes) - set(values)
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field {sorted(unknown)[0]!r}")
        values.update(changes)
        return type(self)(**values)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), self._values(self._fields))


class FrozenRecord(Record):
    """A :class:`Record` that cannot change after construction, so it can be hashed.

    Constructors set fields with :func:`frozen_init`."""

    __slots__ = ()

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"cannot assign to field {name!r} of a frozen "
                             f"{type(self).__name__}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r} of a frozen {type(self).__name__}")

    def __hash__(self) -> int:
        names = self._compared if self._compared is not None else self._fields
        return hash(self._values(names))


_set = object.__setattr__


def frozen_init(record: FrozenRecord, *values: Any) -> None:
    """Set a frozen record's fields, in ``_fields`` order."""
    for name, value in zip(record._fields, values):
        _set(record, name, value)
