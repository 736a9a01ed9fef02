"""The benchmarks, and the numbers each one may use.

`BENCHMARKS` is the one list: `bench/run.py` runs from it (its names are the
arguments `make bench BENCH="..."` takes) and tests/tools/test_bench_smoke.py runs a
tiny size of every entry, so a benchmark added here is covered there.

Several benchmarks write members, receipts and logins into one database, one
after the other. `numbers(name)` hands each benchmark its own phone range, card
prefix, receipt prefix, e-mail addresses and referral codes, derived from its
number, so two benchmarks can never collide (benchmark 5 once enrolled its
members with the phones benchmark 3 had given its customers). No benchmark
writes a phone, card or receipt id of its own making.

No Django here, and nothing happens on import: the test suite reads this module.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Benchmark:
    number: int
    name: str  # the argument of bench/run.py
    title: str
    # What it needs beyond PostgreSQL: "wrk" (load generator), "redis" (broker).
    needs: tuple[str, ...] = ()
    # Whether it writes members or receipts (then registry.numbers gives it a
    # slot of its own, its number); the ten slots are all taken.
    numbered: bool = True


# In the order they run: `import` empties the database for its baseline, so
# last but for `promo`, which writes only promo codes.
BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark(1, "earn", "Ledger earn through purchase_record"),
    Benchmark(2, "api", "POS API under gunicorn", needs=("wrk",)),
    Benchmark(3, "dashboard", "Customer dashboard", needs=("wrk",)),
    Benchmark(8, "cpu", "Queries and Django CPU per request, in process"),
    Benchmark(4, "hot", "Hot member"),
    Benchmark(5, "campaigns", "Campaign fan-out through Celery", needs=("redis",)),
    Benchmark(6, "analytics", "Analytics on a large data set (own database)"),
    Benchmark(7, "import", "Bulk CSV import"),
    Benchmark(9, "promo", "Promo code batch generation", numbered=False),
)

# Numbers that are not one benchmark's: the members bench/run.py enrols for
# every benchmark to share (the cards the API load uses), and bench/chaos.py's.
SHARED = "shared"
CHAOS = "chaos"
OTHER_SLOTS = {SHARED: 0, CHAOS: 9}

# Sizes for a run that only proves every benchmark still works (bench/run.py
# --tiny, the smoke tests): a few members, a second of load. The figures of
# such a run mean nothing.
TINY = {
    "BENCH_TINY": "1",
    "BENCH_MEMBERS": "5",
    "BENCH_OPS": "5",
    "BENCH_SECONDS": "1",
    "BENCH_WARMUP": "0",
    "BENCH_WEB_WORKERS": "1",
    "BENCH_API_CONNECTIONS": "2",
    "BENCH_DASHBOARD_CONNECTIONS": "2",
    "BENCH_CPU_SAMPLES": "3",
    "BENCH_HISTORY": "2",
    "BENCH_CUSTOMERS": "2",
    "BENCH_REQUESTS": "3",
    "BENCH_REQUEST_WARMUP": "1",
    "BENCH_HOT_WRITERS": "2",
    "BENCH_HOT_OPS": "2",
    "BENCH_HOT_REPEAT": "1",
    "BENCH_CAMPAIGN_MEMBERS": "20",
    "BENCH_CAMPAIGN_WORKERS": "1",
    "BENCH_CAMPAIGN_TIMEOUT": "180",
    "BENCH_IMPORT_MEMBERS": "5",
    "BENCH_IMPORT_ROWS": "12",
    "BENCH_MIGRATE_MEMBERS": "5",
    "BENCH_ANALYTICS_MEMBERS": "10",
    "BENCH_ANALYTICS_PURCHASES": "60",
    "BENCH_ANALYTICS_NIGHTLY": "3",
    "BENCH_ANALYTICS_REPEAT": "1",
    "BENCH_ANALYTICS_KEEP": "0",  # its database is one of its own (_analytics_tiny)
    "BENCH_PROMO_CODES": "500",
}

PER_SLOT = 1_000_000  # members a benchmark may number: six digits after the slot


def benchmark(name: str) -> Benchmark:
    for b in BENCHMARKS:
        if b.name == name:
            return b
    raise KeyError(f"no benchmark {name!r}; known: {', '.join(names())}")


def names() -> list[str]:
    return [b.name for b in BENCHMARKS]


def _luhn_check_digit(digits: str) -> str:
    # members.cards.luhn_check_digit, here so that this module needs no Django.
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


@dataclass(frozen=True)
class Numbers:
    """One benchmark's numbers. Member i (0 <= i < PER_SLOT) of slot s has the
    phone +38067 s iiiiii, the card 8 s iiiiiiiii + a Luhn digit (the portal's
    own cards start with LOYALTY_CARD_PREFIX, 27), the e-mail b<s>-i@example.com;
    its receipts start with b<s>-."""

    slot: int

    def _index(self, i: int) -> int:
        if not 0 <= i < PER_SLOT:
            raise ValueError(
                f"benchmark slot {self.slot} numbers at most {PER_SLOT} members, not {i + 1}"
            )
        return i

    def phone(self, i: int) -> str:
        return f"+38067{self.slot}{self._index(i):06d}"

    def phone_typed(self, i: int) -> str:
        """The same number as a person types it: 067 s12 34 56."""
        digits = self.phone(i)[4:]  # 67 s iiiiii
        return f"0{digits[:2]} {digits[2:5]} {digits[5:7]} {digits[7:]}"

    @property
    def card_prefix(self) -> str:
        return f"8{self.slot}"

    def card(self, i: int) -> str:
        body = f"{self.card_prefix}{self._index(i):09d}"
        return body + _luhn_check_digit(body)

    def email(self, i: int) -> str:
        return f"b{self.slot}-{self._index(i)}@example.com"

    def referral_code(self, i: int) -> str:
        # 11 characters: the portal's own codes have 8.
        return f"B{self.slot}{self._index(i):09d}"

    @property
    def receipt_prefix(self) -> str:
        return f"b{self.slot}-"

    def receipt(self, *parts: object) -> str:
        return self.receipt_prefix + "-".join(str(p) for p in parts)


def numbers(name: str) -> Numbers:
    """The numbers of benchmark `name`, or of SHARED or CHAOS."""
    if name in OTHER_SLOTS:
        return Numbers(OTHER_SLOTS[name])
    b = benchmark(name)
    if not b.numbered:
        raise KeyError(f"benchmark {name!r} writes no members or receipts")
    return Numbers(b.number)


def slots() -> dict[str, int]:
    """Every user of numbers() and its slot: one digit each, none twice."""
    return {**OTHER_SLOTS, **{b.name: b.number for b in BENCHMARKS if b.numbered}}
