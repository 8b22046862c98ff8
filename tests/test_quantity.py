"""The quantity grammar on the article's figures, on LLM-style rewrites, and on text that holds no figure."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.quantity import (
    find_periods,
    find_quantities,
    format_quantity,
    is_rounding,
    parse_quantity,
    same_quantity,
    value_relation,
)

ARTICLE = Path(__file__).resolve().parent.parent / "corpus" / "twilight-of-an-empire-alibaba.txt"


def _figure(text: str, figure: str) -> dict:
    """The one figure of `text` written `figure` (other figures of the text may be around it)."""
    found = find_quantities(text)
    assert all(text[q.start : q.end] == q.text for q in found)
    matching = [q for q in found if q.text == figure]
    assert len(matching) == 1, found
    return matching[0].to_dict()


FORMS = [
    # the article's own figures
    (
        "a fine of CNY 18.2 billion (US$2.8 billion) was",
        "CNY 18.2 billion",
        dict(kind="money", value=18.2e9, currency="CNY", scale="billion"),
    ),
    ("(US$2.8 billion)", "US$2.8 billion", dict(kind="money", value=2.8e9, currency="USD", scale="billion")),
    ("total user numbers (over 900 million)", "over 900 million", dict(kind="count", value=900e6, scale="million", qualifier="over")),
    (
        "surged to approximately CNY 5.2 trillion in 2024",
        "approximately CNY 5.2 trillion",
        dict(kind="money", value=5.2e12, currency="CNY", qualifier="approximately"),
    ),
    ("to the mid-40% range by 2024", "mid-40% range", dict(kind="percent", low=44.0, high=46.0, qualifier="mid")),
    ("a dominant 50.8% in 2021", "50.8%", dict(kind="percent", value=50.8)),
    ("slowed to the low single digits (1%", "low single digits", dict(kind="percent", low=1.0, high=4.0, qualifier="low single-digit")),
    ("digits (1%-4%) and", "1%-4%", dict(kind="percent", low=1.0, high=4.0, qualifier=None)),
    ("discounted by up to 59% and", "up to 59%", dict(kind="percent", value=59.0, qualifier="up to")),
    ("has seen triple-digit year-over-year growth", "triple-digit", dict(kind="percent", low=100.0, high=999.0, qualifier="triple-digit")),
    ("growth for seven consecutive quarters.", "seven consecutive quarters", dict(kind="duration", value=7.0, unit="quarter")),
    ("re-accelerated from 3% to 13%, and", "from 3% to 13%", dict(kind="percent", low=3.0, high=13.0, qualifier="from")),
    ("a blistering pace of 29% to 45% for several", "29% to 45%", dict(kind="percent", low=29.0, high=45.0, qualifier=None)),
    ("widened to CNY 5.0 billion, showing", "CNY 5.0 billion", dict(kind="money", value=5.0e9, currency="CNY")),
    ("Alibaba spent $3.75 billion to buy back", "$3.75 billion", dict(kind="money", value=3.75e9, currency="USD")),
    ("The Future Bets (The Next 3-5 Years)", "3-5 Years", dict(kind="duration", low=3.0, high=5.0, unit="year")),
    ("was halted just 48 hours before its debut", "48 hours", dict(kind="duration", value=48.0, unit="hour")),
    ("into six core business groups and", "six", dict(kind="count", value=6.0, unit="groups")),
    ("Under the triple pressures of regulation", "triple", dict(kind="count", value=3.0, unit="pressures")),
    ("Just four months later, in March 2024", "four months", dict(kind="duration", value=4.0, unit="month")),
    ("filled in just three short years.", "three short years", dict(kind="duration", value=3.0, unit="year")),
    ("program to 46 million members to offer", "46 million", dict(kind="count", value=46e6, unit="members")),
    ("But two ferocious rivals launched", "two", dict(kind="count", value=2.0, unit="rivals")),
    ("occurred in two of its most promising businesses.", "two", dict(kind="count", value=2.0, unit="businesses")),
    # LLM-style rewrites
    ("a fine of 18.2bn yuan", "18.2bn yuan", dict(kind="money", value=18.2e9, currency="CNY", scale="billion")),
    ("about $2.8B", "about $2.8B", dict(kind="money", value=2.8e9, currency="USD", qualifier="approximately")),
    ("RMB 18.2 billion", "RMB 18.2 billion", dict(kind="money", value=18.2e9, currency="CNY")),
    ("2.8 billion US dollars", "2.8 billion US dollars", dict(kind="money", value=2.8e9, currency="USD")),
    ("2.8 billion U.S. dollars", "2.8 billion U.S. dollars", dict(kind="money", value=2.8e9, currency="USD")),
    ("CNY18.2bn", "CNY18.2bn", dict(kind="money", value=18.2e9, currency="CNY")),
    ("USD 2.8 bn", "USD 2.8 bn", dict(kind="money", value=2.8e9, currency="USD")),
    ("¥18.2 billion", "¥18.2 billion", dict(kind="money", value=18.2e9, currency="CNY")),
    ("5.2 trillion yuan", "5.2 trillion yuan", dict(kind="money", value=5.2e12, currency="CNY", scale="trillion")),
    ("CNY 5.2tn", "CNY 5.2tn", dict(kind="money", value=5.2e12, scale="trillion")),
    ("HK$100 billion", "HK$100 billion", dict(kind="money", value=100e9, currency="HKD")),
    ("46m members", "46m", dict(kind="count", value=46e6, scale="million", unit="members")),
    ("10k stores", "10k", dict(kind="count", value=10e3, scale="thousand")),
    ("a one billion user base", "one billion", dict(kind="count", value=1e9)),
    ("33 percent", "33 percent", dict(kind="percent", value=33.0)),
    ("33 per cent", "33 per cent", dict(kind="percent", value=33.0)),
    ("up 5 percentage points", "5 percentage points", dict(kind="percentage_points", value=5.0)),
    ("cut 50 bps", "50 bps", dict(kind="percentage_points", value=0.5)),
    ("fell -3% in the quarter", "-3%", dict(kind="percent", value=-3.0)),
    ("between 29% and 45%", "between 29% and 45%", dict(kind="percent", low=29.0, high=45.0)),
    ("CNY 5-6 trillion", "CNY 5-6 trillion", dict(kind="money", low=5e12, high=6e12, currency="CNY")),
    ("$3 billion to $4 billion", "$3 billion to $4 billion", dict(kind="money", low=3e9, high=4e9, currency="USD")),
    ("ranging from 29% to 45%", "29% to 45%", dict(kind="percent", low=29.0, high=45.0, qualifier=None)),
    ("roughly 260 million users", "roughly 260 million", dict(kind="count", value=260e6, qualifier="approximately", unit="users")),
    ("nearly 900 million", "nearly 900 million", dict(kind="count", value=900e6, qualifier="nearly")),
    ("more than 900 million", "more than 900 million", dict(kind="count", value=900e6, qualifier="over")),
    ("just over 900 million", "just over 900 million", dict(kind="count", value=900e6, qualifier="over")),
    ("around 45%", "around 45%", dict(kind="percent", value=45.0, qualifier="approximately")),
    ("~45%", "~45%", dict(kind="percent", value=45.0, qualifier="approximately")),
    ("exactly CNY 5.2 trillion", "exactly CNY 5.2 trillion", dict(kind="money", value=5.2e12, qualifier="exactly")),
    ("as much as 59%", "as much as 59%", dict(kind="percent", value=59.0, qualifier="up to")),
    ("the mid-40s percent", "mid-40s percent", dict(kind="percent", low=44.0, high=46.0)),
    ("high single digits", "high single digits", dict(kind="percent", low=6.0, high=9.0)),
    ("double-digit growth", "double-digit", dict(kind="percent", low=10.0, high=99.0)),
    ("a 48-hour delay", "48-hour", dict(kind="duration", value=48.0, unit="hour")),
    ("two days before", "two days", dict(kind="duration", value=2.0, unit="day")),
    ("over two years", "over two years", dict(kind="duration", value=2.0, qualifier="over")),
    ("twelve months", "twelve months", dict(kind="duration", value=12.0, unit="month")),
    ("three to five years", "three to five years", dict(kind="duration", low=3.0, high=5.0, unit="year")),
    ("twenty-five users", "twenty-five", dict(kind="count", value=25.0)),
    ("a dozen stores", "a dozen", dict(kind="count", value=12.0, unit="stores")),
    ("3x faster", "3x", dict(kind="multiple", value=3.0)),
    ("2.5 times larger", "2.5 times", dict(kind="multiple", value=2.5)),
    ("revenue doubled", "doubled", dict(kind="multiple", value=2.0)),
    ("the second-largest provider", "second-largest", dict(kind="ordinal", value=2.0)),
    ("ranked No. 1", "No. 1", dict(kind="ordinal", value=1.0)),
    ("1,000 employees", "1,000", dict(kind="count", value=1000.0)),
]


@pytest.mark.parametrize(("text", "figure", "expected"), FORMS, ids=[f[0][:40] for f in FORMS])
def test_reads_each_form(text: str, figure: str, expected: dict) -> None:
    q = _figure(text, figure)
    for key, want in expected.items():
        got = q[key]
        assert (got == pytest.approx(want)) if isinstance(want, float) else got == want, (key, got, want)


@pytest.mark.parametrize(
    "text",
    [
        "The Empire's Cracks (2020-2022)",
        "In April 2021, nothing happened.",
        "The Supertanker's Turn (2023-Present)",
        "in Q3 2024 and FY2025",
        "the 2020s",
        "by 2024",
        "the first quarter of 2024",
    ],
)
def test_periods_are_not_figures(text: str) -> None:
    assert find_quantities(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "its 88VIP membership program",
        'the market-shaking "1+6+N" organizational reform',
        "Battlefield 2: The Value Re-Emergence",
        "its own Qwen large language models",
        "the Qwen 2.5 models",
        'The onetime "Amazon of China"',
        'Its "Model-as-a-Service" (MaaS) strategy',
        "COVID-19 hit 5G rollouts",
        'The "choose one of two" policy',
        "on one hand, it slimmed down",
        "Inside China's Terrifying Three-Wave Plan",
        "a double-edged sword",
        "a third-party marketplace",
        "a triple threat to its rivals",
        "it aims to double its revenue",
        "a plan to triple this business",
        "The first was Pinduoduo. The second was Douyin E-commerce.",
        "empower thousands of industries",
        "for several consecutive quarters",
        "as cited [1] and [2, 3]",
        "1. first point\n2) second point",
        "Singles Day (11.11)",
        "open 24/7 at 10:30",
    ],
)
def test_names_and_markers_are_not_figures(text: str) -> None:
    assert find_quantities(text) == []


def test_find_periods() -> None:
    text = "In April 2021 (2020-2022), by 2024, since 2023, Q3 2024, 2021-04 and (2023-Present)."
    got = [(p.text, p.year, p.month, p.end_year, p.quarter, p.open_ended) for p in find_periods(text)]
    assert got == [
        ("April 2021", 2021, 4, None, None, False),
        ("2020-2022", 2020, None, 2022, None, False),
        ("2024", 2024, None, None, None, False),
        ("2023", 2023, None, None, None, True),
        ("Q3 2024", 2024, None, None, 3, False),
        ("2021-04", 2021, 4, None, None, False),
        ("2023-Present", 2023, None, None, None, True),
    ]
    april, span, *_ = find_periods(text)
    assert april.covers("2021-04") and april.covers("2021") and not april.covers("2021-05")
    assert span.covers("2021") and not span.covers("2023")


def test_every_article_figure_has_an_exact_span() -> None:
    text = open(ARTICLE, encoding="utf-8", newline="").read()
    found = find_quantities(text)
    assert len(found) == 42
    assert all(text[q.start : q.end] == q.text for q in found)
    assert [q.start for q in found] == sorted(q.start for q in found)


@pytest.mark.parametrize(
    ("s", "kind", "value"),
    [
        ("CNY 18.2 billion", "money", 18.2e9),
        ("  over 900 million ", "count", 900e6),
        ("two", "count", 2.0),
        ("1,000", "count", 1000.0),
        ("48 hours", "duration", 48.0),
    ],
)
def test_parse_quantity(s: str, kind: str, value: float) -> None:
    q = parse_quantity(s)
    assert q is not None and q.kind == kind and q.value == pytest.approx(value)
    assert s[q.start : q.end] == q.text


@pytest.mark.parametrize("s", ["", "   ", "2021", "88VIP", "CNY 18.2 billion and US$2.8 billion", "growth"])
def test_parse_quantity_refuses_non_figures(s: str) -> None:
    assert parse_quantity(s) is None


@pytest.mark.parametrize(
    ("claim", "source", "relation"),
    [
        ("CNY 18.2 billion", "CNY 18.2 billion", "equal"),
        ("18.2bn yuan", "CNY 18.2 billion", "equal"),
        ("about CNY 18 billion", "CNY 18.2 billion", "rounded"),
        ("CNY 18 billion", "CNY 18.2 billion", "rounded"),
        ("roughly 260 million", "259 million", "rounded"),
        ("US$3.8 billion", "$3.75 billion", "rounded"),
        ("CNY 20 billion", "CNY 18.2 billion", "different"),
        ("about CNY 20 billion", "CNY 18.2 billion", "different"),
        ("around 50 million", "46 million", "different"),
        ("CNY 8.5 trillion", "CNY 8 trillion", "different"),
        ("CNY 19 billion", "CNY 18.2 billion", "different"),
        ("CNY 5.23 trillion", "approximately CNY 5.2 trillion", "finer"),
        ("45%", "mid-40% range", "finer"),
        ("about 45%", "mid-40% range", "rounded"),
        ("13%", "from 3% to 13%", "endpoint"),
        ("8%", "from 3% to 13%", "different"),
        ("37%", "29% to 45%", "finer"),
        ("two days", "48 hours", "equal"),
        ("low single digits", "1%-4%", "equal"),
        ("950 million", "over 900 million", "finer"),
    ],
)
def test_value_relation(claim: str, source: str, relation: str) -> None:
    c, s = parse_quantity(claim), parse_quantity(source)
    assert c is not None and s is not None
    assert value_relation(c, s) == relation


def test_same_quantity_and_rounding_helpers() -> None:
    fine, rounded, usd = parse_quantity("CNY 18.2 billion"), parse_quantity("about CNY 18 billion"), parse_quantity("US$18.2 billion")
    assert same_quantity(fine, parse_quantity("18.2 billion yuan"))
    assert not same_quantity(fine, usd)
    assert is_rounding(rounded, fine) and not is_rounding(fine, rounded)


def test_format_quantity() -> None:
    assert format_quantity("count", 22e6) == "22 million"
    assert format_quantity("money", 15.4e9, "USD") == "US$15.4 billion"
    assert format_quantity("money", 4.5e12, "CNY") == "CNY 4.5 trillion"
    assert format_quantity("percentage_points", 5.0) == "5 percentage points"


@pytest.mark.parametrize(
    "text",
    [
        "\ud800 CNY 18.2 billion \udfff",
        "\x00\x01 33%\x7f\x9f two rivals",
        "％" * 50,
        "$" * 1000,
        "1" * 5000,
        "-" * 1000 + "5%",
        "mid-" * 500,
        "US$" * 300 + "2.8",
    ],
)
def test_odd_text_does_not_crash(text: str) -> None:
    for q in find_quantities(text):
        assert text[q.start : q.end] == q.text


def test_100kb_text_is_read_quickly() -> None:
    import time

    text = open(ARTICLE, encoding="utf-8", newline="").read() * 7
    assert len(text) > 100_000
    started = time.perf_counter()
    found = find_quantities(text)
    assert time.perf_counter() - started < 2.0
    assert len(found) == 42 * 7


_PIECES = [
    *"0123456789 .,-%$€¥()[]/+:abcdmnkbtCNYUSRMB\n",
    "billion",
    "million",
    "two",
    "mid-",
    "2021",
    "per cent",
    "triple-digit",
    "over ",
    " to ",
    "US$",
    "CNY ",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=30).map("".join))
def test_spans_are_always_exact(text: str) -> None:
    for q in find_quantities(text):
        assert text[q.start : q.end] == q.text
        assert q.kind in ("money", "percent", "percentage_points", "count", "duration", "ordinal", "multiple")
        assert (q.value is None) != (q.low is None)
