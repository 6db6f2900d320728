"""Money as google.type.Money keeps it (whole units plus nanos, same sign),
summed as integer nanos so nothing is ever rounded."""

from __future__ import annotations

from dataclasses import dataclass

NANOS = 1_000_000_000


@dataclass(frozen=True)
class Money:
    """An amount as google.type.Money holds it."""

    currency_code: str
    units: int
    nanos: int

    @property
    def total_nanos(self) -> int:
        return self.units * NANOS + self.nanos

    @classmethod
    def of_nanos(cls, currency_code: str, amount: int) -> Money:
        units, nanos = divmod(abs(amount), NANOS)
        sign = -1 if amount < 0 else 1
        return cls(currency_code, sign * units, sign * nanos)

    def times(self, quantity: int) -> Money:
        return Money.of_nanos(self.currency_code, self.total_nanos * quantity)

    @property
    def negative(self) -> bool:
        return self.total_nanos < 0
