"""`core.record` keeps the meaning of the `@dataclass` options it replaces on count's path: each behaviour is
checked on a record and on the same class as a dataclass, and both must agree."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from typing import Any, ClassVar

import pytest

from ldapcheck.core import record as rec


def _pair(frozen: bool = True, kw_only: bool = False) -> list[type[Any]]:
    """The same class as a record and as a dataclass."""
    made = []
    for decorate, field in (
        (rec.record(frozen=frozen, kw_only=kw_only), rec.field),
        (dataclasses.dataclass(frozen=frozen, kw_only=kw_only), dataclasses.field),
    ):

        class Sample:
            kind: ClassVar[str] = "sample"
            name: str
            size: int = 3
            tags: list[str] = field(default_factory=list)
            secret: str = field(default="", repr=False)

            def __post_init__(self) -> None:
                if self.size < 0:
                    raise ValueError("size < 0")

        made.append(decorate(Sample))
    return made


@pytest.mark.parametrize("cls", _pair(), ids=["record", "dataclass"])
def test_init_defaults_factories_and_post_init(cls: type[Any]) -> None:
    a = cls("a")
    assert (a.name, a.size, a.tags, a.secret) == ("a", 3, [], "")
    assert cls("b").tags is not a.tags  # a fresh list per instance
    assert cls("c", 5, ["x"], secret="s").tags == ["x"]
    assert cls.kind == "sample" and cls.size == 3  # ClassVar skipped, defaults stay class attributes
    assert not hasattr(cls, "tags")  # no class attribute for a factory
    with pytest.raises(ValueError, match="size < 0"):
        cls("d", -1)
    with pytest.raises(TypeError):
        cls()
    with pytest.raises(TypeError):
        cls("e", nope=1)
    with pytest.raises(TypeError):
        cls("f", 1, [], "", "extra")
    with pytest.raises(TypeError):
        cls("g", name="twice")


def test_record_and_dataclass_agree_on_repr_eq_hash_and_freezing() -> None:
    as_record, as_dataclass = _pair()
    r, d = as_record("a", 1, ["t"], secret="hidden"), as_dataclass("a", 1, ["t"], secret="hidden")
    assert repr(r) == repr(d).replace(as_dataclass.__qualname__, as_record.__qualname__)
    assert "hidden" not in repr(r)
    assert r == as_record("a", 1, ["t"], secret="hidden") and r != as_record("a", 2)
    assert r != d  # different classes are never equal, as for dataclasses
    frozen_r, frozen_d = as_record("a", 1, (), ""), as_dataclass("a", 1, (), "")
    assert hash(frozen_r) == hash(as_record("a", 1, (), ""))
    assert hash(frozen_d) == hash(as_dataclass("a", 1, (), ""))
    with pytest.raises(AttributeError):
        r.name = "b"
    with pytest.raises(rec.FrozenInstanceError):
        del r.name
    assert as_record.__match_args__ == as_dataclass.__match_args__ == ("name", "size", "tags", "secret")


def test_mutable_kw_only_records_are_unhashable_and_assignable() -> None:
    as_record, as_dataclass = _pair(frozen=False, kw_only=True)
    for cls in (as_record, as_dataclass):
        with pytest.raises(TypeError):
            cls("positional")
        obj = cls(name="a")
        obj.size = 9
        assert obj.size == 9
        with pytest.raises(TypeError):
            hash(obj)
        assert cls.__match_args__ == ()


def test_replace_fields_and_asdict_take_records_and_dataclasses() -> None:
    for cls in _pair():
        obj = cls("a", 1, ["t"])
        changed = rec.replace(obj, size=2)
        assert (changed.name, changed.size, changed.tags) == ("a", 2, ["t"]) and type(changed) is cls
        with pytest.raises(ValueError, match="size < 0"):
            rec.replace(obj, size=-1)  # through __init__: __post_init__ runs again
        with pytest.raises(TypeError):
            rec.replace(obj, nope=1)
        assert [f.name for f in rec.fields(cls)] == ["name", "size", "tags", "secret"]
        assert rec.fields(obj)[1].default == 3
        assert rec.asdict(obj) == {"name": "a", "size": 1, "tags": ["t"], "secret": ""}


def test_a_required_field_after_a_default_is_refused_as_dataclasses_do() -> None:
    class Bad:
        a: int = 1
        b: int

    with pytest.raises(TypeError, match="'b'"):
        rec.record(Bad)


def test_importing_it_costs_no_dataclasses() -> None:
    code = "import sys, ldapcheck.core.record; assert 'dataclasses' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
