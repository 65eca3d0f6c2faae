"""One validation pattern for every config value: each constructor checks its own arguments with
these helpers, once, at the boundary, and a bad value gets the same one-paragraph message shape
whether its type or its range is wrong:

    ``<key>=<value> is not allowed: <what is allowed>, e.g. <example>.``
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from msmult.errors import MsmultError


def bad_value(key: str, value: Any, allowed: str, example: str | None = None) -> MsmultError:
    """The error for ``key=value``: what is allowed and, when given, an example."""
    hint = f", e.g. {example}" if example else ""
    return MsmultError(f"{key}={value!r} is not allowed: {allowed}{hint}.")


def is_whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value


def whole(
    key: str,
    value: Any,
    minimum: int | None = None,
    maximum: int | None = None,
    what: str = "",
    example: str | None = None,
) -> int:
    """``value`` as a whole number within [minimum, maximum], else a clear error."""
    if (
        not is_whole(value)
        or (minimum is not None and value < minimum)
        or (maximum is not None and value > maximum)
    ):
        raise bad_value(
            key, value, f"it must be a whole number{_bounds(minimum, maximum)}{what}", example
        )
    return int(value)


def number(
    key: str,
    value: Any,
    low: float | None = None,
    high: float | None = None,
    open_low: bool = False,
    open_high: bool = False,
    what: str = "",
    example: str | None = None,
) -> float:
    """``value`` as a number within its bounds (open or closed), else a clear error."""
    ok = is_number(value)
    if ok and low is not None:
        ok = value > low if open_low else value >= low
    if ok and high is not None:
        ok = value < high if open_high else value <= high
    if not ok:
        bounds = _bounds(low, high, ">" if open_low else ">=", "<" if open_high else "<=")
        raise bad_value(key, value, f"it must be a number{bounds}{what}", example)
    return float(value)


def numbers(
    key: str,
    values: Any,
    low: float | None = None,
    high: float | None = None,
    open_high: bool = False,
    what: str = "",
    example: str | None = None,
) -> list[float]:
    """A non-empty list of numbers, each within [low, high] (or [low, high))."""
    items = as_list(key, values, example)
    if not items or not all(
        is_number(v)
        and (low is None or v >= low)
        and (high is None or (v < high if open_high else v <= high))
        for v in items
    ):
        bounds = _bounds(low, high, ">=", "<" if open_high else "<=")
        raise bad_value(
            key, items, f"it must be a non-empty list of numbers{bounds}{what}", example
        )
    return [float(v) for v in items]


def flag(key: str, value: Any) -> bool:
    """``value`` when it is true or false (not a string such as ``yes``), else a clear error."""
    if not isinstance(value, bool):
        raise bad_value(key, value, "it must be true or false", f"{key}=true")
    return value


def choice(key: str, value: Any, allowed: Sequence[str]) -> str:
    """``value`` when it is one of ``allowed``, else a clear error listing them."""
    if not isinstance(value, str) or value not in allowed:
        raise bad_value(key, value, f"allowed: {', '.join(map(str, allowed))}")
    return value


def choices(key: str, values: Any, allowed: Sequence[str]) -> list[str]:
    """A non-empty list whose every entry is one of ``allowed``."""
    items = as_list(key, values)
    if not items or any(not isinstance(v, str) or v not in allowed for v in items):
        raise bad_value(key, items, f"each entry must be one of {', '.join(allowed)}")
    return list(items)


def as_list(key: str, values: Any, example: str | None = None) -> list:
    """A list or tuple (OmegaConf's ListConfig included) as a plain list."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise bad_value(key, values, "it must be a list", example or f"{key}=[a,b]")
    return list(values)


def _bounds(low: Any, high: Any, low_sign: str = ">=", high_sign: str = "<=") -> str:
    parts = []
    if low is not None:
        parts.append(f"{low_sign} {low}")
    if high is not None:
        parts.append(f"{high_sign} {high}")
    return (" " + " and ".join(parts)) if parts else ""


# Declared constraints: each configurable class lists its parameters' constraints next to each
# other (``parameters``), as scikit-learn's ``_parameter_constraints`` does, and checks them all
# with ``Configured.set_parameters``; the default values live in the class's YAML config.


@dataclass(frozen=True)
class Whole:
    """A whole number within [minimum, maximum]."""

    minimum: int | None = None
    maximum: int | None = None
    what: str = ""
    example: Any = None

    def __call__(self, key: str, value: Any) -> int:
        return whole(key, value, self.minimum, self.maximum, self.what, hint(key, self.example))


@dataclass(frozen=True)
class Number:
    """A number within its bounds (open or closed)."""

    low: float | None = None
    high: float | None = None
    open_low: bool = False
    open_high: bool = False
    what: str = ""
    example: Any = None

    def __call__(self, key: str, value: Any) -> float:
        return number(
            key,
            value,
            self.low,
            self.high,
            self.open_low,
            self.open_high,
            self.what,
            hint(key, self.example),
        )


@dataclass(frozen=True)
class Numbers:
    """A non-empty list of numbers within [low, high] (or [low, high))."""

    low: float | None = None
    high: float | None = None
    open_high: bool = False
    what: str = ""
    example: Any = None

    def __call__(self, key: str, value: Any) -> list[float]:
        return numbers(
            key, value, self.low, self.high, self.open_high, self.what, hint(key, self.example)
        )


@dataclass(frozen=True)
class OneOf:
    """One of ``allowed``."""

    allowed: tuple[str, ...]

    def __call__(self, key: str, value: Any) -> str:
        return choice(key, value, self.allowed)


@dataclass(frozen=True)
class SomeOf:
    """A non-empty list whose every entry is one of ``allowed``."""

    allowed: tuple[str, ...]

    def __call__(self, key: str, value: Any) -> list[str]:
        return choices(key, value, self.allowed)


@dataclass(frozen=True)
class Flag:
    """True or false."""

    def __call__(self, key: str, value: Any) -> bool:
        return flag(key, value)


def hint(key: str, example: Any) -> str | None:
    """``key=example`` for a message, when an example value is given."""
    if example is None:
        return None
    shown = str(list(example)).replace(" ", "") if isinstance(example, (list, tuple)) else example
    return f"{key}={shown}"


class Configured:
    """A class whose constructor arguments come from one config node (``config_key``, e.g.
    ``attack``): ``parameters`` maps each argument to its constraint, and ``set_parameters``
    checks them all and keeps them as attributes of the same names."""

    config_key: ClassVar[str] = ""
    parameters: ClassVar[dict[str, Any]] = {}

    def set_parameters(self, **values: Any) -> None:
        for name, value in values.items():
            setattr(self, name, self.parameters[name](f"{self.config_key}.{name}", value))
