"""Text from people (reviewer names, file names) placed into Markdown that Gradio renders for other people.

`literal` backslash-escapes every ASCII punctuation character, which CommonMark defines for exactly this:
`[a](b)` stays text instead of a link, `<b>` stays text instead of HTML, `**` stays stars, and `http://x`
(whose `:` and `/` are escaped) is not turned into a link either. `code` shows text verbatim in a code span,
inside which Markdown and HTML take no effect at all.
"""
from __future__ import annotations

import re
import string

_ESCAPES = str.maketrans({c: "\\" + c for c in string.punctuation})


def literal(text: str) -> str:
    """`text` as it is, shown in Markdown without any of its characters taking effect."""
    return text.translate(_ESCAPES)


def code(text: str) -> str:
    """`text` as an inline code span (a path, a list of decisions). The fence is longer than any run of
    backticks inside, so no text can close it early; a space pads text that starts or ends with one."""
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text[:1] == "`" or text[-1:] == "`" else ""
    return f"{fence}{pad}{text}{pad}{fence}"
