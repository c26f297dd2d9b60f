"""What an attacker or a broken client sends: markup, odd unicode, huge text and odd amounts."""

from hypothesis import strategies as st

# Markup that runs script if a page or a script ever puts it in as HTML.
MARKUP = [
    "<script>window.__pwned=1</script>",
    '<img src=x onerror="window.__pwned=1">',
    "<svg/onload=alert(1)>",
    '"><script>alert(document.cookie)</script>',
    "'><img src=x onerror=alert(1)>",
    "</textarea><script>alert(1)</script>",
    '<a href="javascript:alert(1)">click</a>',
    "{{ request.user.password }}{% debug %}",
    "<!--",
    "]]></p><iframe srcdoc='<script>alert(1)</script>'>",
]

# Characters that fool a reader or a parser.
ODD_CHARACTERS = [
    "\u202e",  # right-to-left override: "gpj.exe" reads as "exe.jpg"
    "\u202d",
    "\u2066",
    "\u200b",  # zero-width space
    "\u200d",
    "\ufeff",  # byte order mark
    "\u0301",  # combining acute accent
    "\u0345\u0361\u0489",
    "\x00",  # NUL: PostgreSQL text cannot hold it
    "\x1b[31m",
    "\r\n",
    "\u2028",
    "\U0001f4a9",
    "\ud800",  # a lone surrogate: not representable in UTF-8
    "\uffff",
]

markup = st.sampled_from(MARKUP)
odd = st.sampled_from(ODD_CHARACTERS)


def hostile_text(*, max_size: int = 60) -> st.SearchStrategy[str]:
    """Short text around at least one odd character, mixing markup and ordinary words."""
    piece = st.one_of(markup, odd, st.text(max_size=12), st.sampled_from(["lamp", " ", "\n", "a" * 40]))
    return st.tuples(st.lists(piece, max_size=3), odd, st.lists(piece, max_size=3)).map(
        lambda parts: "".join(parts[0]) + parts[1] + "".join(parts[2])
    )


def huge_text(limit: int) -> st.SearchStrategy[str]:
    """Text just over a length limit, starting with markup."""
    return st.sampled_from(MARKUP).flatmap(
        lambda start: st.integers(min_value=1, max_value=200).map(lambda extra: (start + "x" * (limit + extra)))
    )


def any_text(limit: int) -> st.SearchStrategy[str]:
    return st.one_of(hostile_text(), huge_text(limit), markup, st.just(""), st.just("   \n\t "))


# Amounts as a form receives them.
AMOUNT_STRINGS = [
    "-1",
    "-0.01",
    "0",
    "0.00",
    "-0",
    "0.001",
    "0.005",
    "1.999",
    "12.345678901234567890",
    "NaN",
    "nan",
    "sNaN",
    "-NaN",
    "Infinity",
    "-Infinity",
    "inf",
    "1e3",
    "1E-2",
    "1e400",
    "1e-400",
    "9" * 40,
    "99999999999.99",
    "1,50",
    "1.000,50",
    "1 000",
    "1'000.00",
    "١٢",  # Arabic-Indic digits
    "１２",  # full-width digits
    "1_0",
    "0x10",
    "+5",
    " 5 ",
    "5\x00",
    "",
    "<script>alert(1)</script>",
    "12.00 EUR",
    "€12",
]

amount_string = st.one_of(
    st.sampled_from(AMOUNT_STRINGS),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
    st.floats().map(str),
    st.integers().map(str),
)

# Amounts as a service receives them: Decimals, finite or not.
amount_decimal = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True),
    st.decimals(min_value=-1000, max_value=1000, places=2),
    st.decimals(min_value=0, max_value=100, places=6),
)


def unstorable(*texts: str) -> bool:
    """NUL (PostgreSQL refuses it) or an unpaired surrogate (not UTF-8): the desk must refuse it."""
    return any(ch == "\x00" or "\ud800" <= ch <= "\udfff" for text in texts for ch in text)
