"""What text coldset accepts, decided once for every field a person types.

Both databases must give the same answer to the same input: PostgreSQL refuses
a NUL character in text, SQLite stores it; neither can store a lone surrogate
(half of a UTF-16 pair, which JSON's ``\\ud800`` escape produces). So every
text field is checked here, before anything is written, with one rule:

- *single-line* text (ids, names, short texts, keys, logins): no control
  character at all — C0 (U+0000-U+001F, so no NUL, tab or line break), DEL
  (U+007F), C1 (U+0080-U+009F, e.g. U+0085 "next line") — and no line or
  paragraph separator (U+2028, U+2029);
- *multi-line* text (descriptions, reasons, answers): the same, except that
  line breaks and tabs are kept; a carriage return (``\\r\\n`` from a browser's
  text area, or a lone ``\\r``) becomes ``\\n``;
- never a lone surrogate;
- leading and trailing spaces, tabs and line breaks are removed first (as
  before), and the text is put in Unicode NFC form, so text that looks the same
  is the same (a serial typed on two keyboards is one serial).

Lengths are the fields' own. :func:`clean_text` returns the text to keep or
raises :class:`TextError` with a plain reason; the command models
(:mod:`coldset.domain.commands`) and the accounts (:mod:`coldset.service.accounts`)
both call it.
"""

from __future__ import annotations

import re
import unicodedata

#: Stripped from both ends before the check (what a form or a paste adds).
_ENDS = " \t\n\r"
_BAD_SINGLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_BAD_MULTI = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


class TextError(ValueError):
    """Text that cannot be recorded. ``code`` is a short tag, the message plain English."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _reason(ch: str, multiline: bool, at: int) -> TextError:
    n = ord(ch)
    where = f"(U+{n:04X} at character {at + 1})"
    if 0xD800 <= n <= 0xDFFF:
        return TextError(
            "text_surrogate",
            "must be valid Unicode text: it contains half of a "
            f"surrogate pair, which cannot be stored {where}",
        )
    if not multiline and ch in "\t\n\r\x0b\x0c\x85\u2028\u2029":
        return TextError(
            "text_single_line", f"must be a single line: no line breaks or tabs {where}"
        )
    return TextError("text_control", f"must not contain control characters {where}")


def clean_text(value: str, *, multiline: bool = False) -> str:
    """``value`` as it is kept (ends stripped, NFC), or :class:`TextError` saying why not."""
    if value.isascii() and value.isprintable():
        return value.strip(" ")  # the common case: nothing to refuse, already NFC
    if multiline and "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = value.strip(_ENDS)
    bad = (_BAD_MULTI if multiline else _BAD_SINGLE).search(value)
    if bad is not None:
        raise _reason(bad.group(), multiline, bad.start())
    if not value.isascii() and not unicodedata.is_normalized("NFC", value):
        value = unicodedata.normalize("NFC", value)
    return value


def text_problem(value: object, *, multiline: bool = False) -> str | None:
    """Why ``value`` is not acceptable text (None when it is): for callers that only ask."""
    if not isinstance(value, str):
        return "must be text"
    try:
        clean_text(value, multiline=multiline)
    except TextError as e:
        return e.message
    return None
