"""`@record`: value classes written like dataclasses, built without `dataclasses` — for a plain `count`'s path.

Why our own: Python 3.11 builds each dataclass's methods by compiling source text with `exec` at import (~0.5 ms
a frozen class; the 29 on count's path were ~15 ms), and `import dataclasses` pulls in `inspect`, `ast`, `dis` and
`tokenize` (~9 ms). On 10,000 users `count` runs ~90 ms against ~45 ms for ldapsearch: those ~24 ms are the
difference between start-up parity and not (bench/README.md *Start-up*). Elsewhere the project uses dataclasses.

What it gives is the subset of `@dataclass` the project uses, with the same meaning: fields from the class's own
annotations in order (`ClassVar` ones skipped), defaults as class attributes, `field(default=…, default_factory=…,
repr=False)`, `frozen` (default True: assignment raises `FrozenInstanceError`, an AttributeError), `kw_only`,
`__post_init__`, equality by field values within the same class, hashing by field values when frozen
(unhashable when not, as `eq=True` dataclasses), a dataclass-style repr. `replace` and `fields` take records
and dataclasses alike: the project's one `replace` and `fields`. No inheritance between records, no `slots`, no
ordering. Type checkers read it as a dataclass (PEP 681 `dataclass_transform`); tests/unit/core/test_record.py
holds it to `dataclasses`' behaviour.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, dataclass_transform

T = TypeVar("T")

_MISSING = object()
_FIELDS = "__record_fields__"


class FrozenInstanceError(AttributeError):
    """Assignment to a field of a frozen record (what `dataclasses.FrozenInstanceError` is for a dataclass)."""


class Field:
    """One field of a record: its name, default (or factory) and whether the repr shows it."""

    __slots__ = ("default", "factory", "name", "repr")

    def __init__(self, default: object = _MISSING, factory: object = _MISSING, repr: bool = True) -> None:
        self.name = ""
        self.default = default
        self.factory = factory
        self.repr = repr

    def __repr__(self) -> str:
        return f"Field({self.name!r})"


def field(*, default: Any = _MISSING, default_factory: Any = _MISSING, repr: bool = True) -> Any:
    """A field's options, as `dataclasses.field` takes them."""
    if default is not _MISSING and default_factory is not _MISSING:
        raise ValueError("cannot specify both default and default_factory")
    return Field(default, default_factory, repr)


def _is_classvar(annotation: object) -> bool:
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    return isinstance(text, str) and text.replace("typing.", "").startswith("ClassVar")


@dataclass_transform(frozen_default=True, field_specifiers=(field, Field))
def record(cls: type[T] | None = None, /, *, frozen: bool = True, kw_only: bool = False) -> Any:
    """Make `cls` a record (see the module docstring); `@record` or `@record(frozen=False, kw_only=True)`."""

    def build(cls: type[T]) -> type[T]:
        fields: list[Field] = []
        # The class's own annotations (not inspect.get_annotations: inspect is one of the imports avoided here).
        for name, annotation in cls.__dict__.get("__annotations__", {}).items():  # noqa: RUF063
            if _is_classvar(annotation):
                continue
            value = cls.__dict__.get(name, _MISSING)
            spec = value if isinstance(value, Field) else Field(value)
            spec.name = name
            if isinstance(value, Field):
                if spec.default is _MISSING:
                    delattr(cls, name)  # as dataclasses: no class attribute for a factory or a required field
                else:
                    setattr(cls, name, spec.default)
            fields.append(spec)
        if not kw_only:
            for i, f in enumerate(fields):
                if _required(f) and not all(map(_required, fields[:i])):
                    raise TypeError(f"non-default argument {f.name!r} follows default argument")
        setattr(cls, _FIELDS, tuple(fields))
        methods: dict[str, object] = {
            "__init__": _make_init(tuple(fields), kw_only=kw_only),
            "__repr__": _repr,
            "__eq__": _eq,
            "__match_args__": () if kw_only else tuple(f.name for f in fields),
        }
        if frozen:
            methods.update(__hash__=_hash, __setattr__=_refuse_set, __delattr__=_refuse_del)
        else:
            methods["__hash__"] = None  # as an eq=True, non-frozen dataclass: unhashable
        for name, method in methods.items():
            setattr(cls, name, method)
        return cls

    return build if cls is None else build(cls)


def _required(f: Field) -> bool:
    return f.default is _MISSING and f.factory is _MISSING


def _make_init(fields: tuple[Field, ...], *, kw_only: bool) -> Callable[..., None]:
    names = {f.name: f for f in fields}
    positional = () if kw_only else tuple(f.name for f in fields)
    assign = object.__setattr__

    def __init__(self: object, *args: object, **kwargs: object) -> None:
        if len(args) > len(positional):
            raise TypeError(f"{type(self).__name__}() takes {len(positional)} positional arguments")
        given = dict(zip(positional, args, strict=False))
        for key, value in kwargs.items():
            if key not in names:
                raise TypeError(f"{type(self).__name__}() got an unexpected keyword argument {key!r}")
            if key in given:
                raise TypeError(f"{type(self).__name__}() got multiple values for argument {key!r}")
            given[key] = value
        for f in fields:
            if f.name in given:
                value = given[f.name]
            elif f.factory is not _MISSING:
                value = f.factory()  # type: ignore[operator]
            elif f.default is not _MISSING:
                value = f.default
            else:
                raise TypeError(f"{type(self).__name__}() missing required argument: {f.name!r}")
            assign(self, f.name, value)
        post_init = getattr(self, "__post_init__", None)
        if post_init is not None:
            post_init()

    return __init__


def _values(obj: object) -> tuple[object, ...]:
    return tuple(getattr(obj, f.name) for f in getattr(obj, _FIELDS))


def _repr(self: object) -> str:
    shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in getattr(self, _FIELDS) if f.repr)
    return f"{type(self).__qualname__}({shown})"


def _eq(self: object, other: object) -> bool:
    if other.__class__ is not self.__class__:
        return NotImplemented  # type: ignore[no-any-return]
    return _values(self) == _values(other)


def _hash(self: object) -> int:
    return hash(_values(self))


def _refuse_set(self: object, name: str, value: object) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _refuse_del(self: object, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


def is_record(obj: object) -> bool:
    """Whether `obj` is a record class or instance."""
    return hasattr(obj, _FIELDS)


def fields(obj: Any) -> tuple[Any, ...]:
    """The fields (`.name`, `.default`) of a record or dataclass, class or instance, in order."""
    if is_record(obj):
        return getattr(obj, _FIELDS)  # type: ignore[no-any-return]
    import dataclasses  # a dataclass (the project has both; only records are on a plain count's path)

    return dataclasses.fields(obj)


def replace(obj: T, /, **changes: Any) -> T:
    """A copy of the record or dataclass instance `obj` with `changes` (as `dataclasses.replace`: through
    `__init__`, so `__post_init__` runs again)."""
    if not is_record(obj):
        import dataclasses

        return dataclasses.replace(obj, **changes)  # type: ignore[type-var]
    values = {f.name: getattr(obj, f.name) for f in getattr(obj, _FIELDS)}
    for key in changes:
        if key not in values:
            raise TypeError(f"{type(obj).__name__}.__init__() got an unexpected keyword argument {key!r}")
    values.update(changes)
    return type(obj)(**values)


def asdict(obj: Any) -> dict[str, Any]:
    """`{field: value}` of a record (records, lists, tuples and dicts inside converted too), or of a dataclass
    (`dataclasses.asdict`)."""
    if not is_record(obj):
        import dataclasses

        return dataclasses.asdict(obj)
    return {f.name: _plain(getattr(obj, f.name)) for f in getattr(obj, _FIELDS)}


def _plain(value: Any) -> Any:
    if is_record(value) and not isinstance(value, type):
        return asdict(value)
    if type(value) in (list, tuple):  # not a NamedTuple's subclass: kept as it is
        return type(value)(_plain(v) for v in value)
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    return value
