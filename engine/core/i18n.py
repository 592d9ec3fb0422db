"""User-facing text from one catalog: Vietnamese by default, English complete.

The catalog is the JSON files in `engine/core/messages/`, each mapping a key to {"vi": ..., "en": ...};
a text may hold `{name}` parameters (str.format). The engine raises errors and writes records with
keys and parameters, and the web layer, the command line and e-mail copies turn them into text here.

A parameter may itself be a text not yet in a language (a `Message`, e.g. a period's label) or a
`Number`: both are rendered in the language of the text they go into.
"""
from __future__ import annotations

import json
import logging
import string
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
CATALOG_DIR = Path(__file__).with_name("messages")

log = logging.getLogger(__name__)


@cache
def catalog() -> dict[str, dict[str, str]]:
    """Every key of every catalog file (read once); a key defined in two files is an error."""
    merged: dict[str, dict[str, str]] = {}
    for path in sorted(CATALOG_DIR.glob("*.json")):
        for key, texts in json.loads(path.read_text(encoding="utf-8")).items():
            if key in merged:
                raise ValueError(f"{path.name}: message key '{key}' is defined twice in the catalog")
            merged[key] = texts
    return merged


def has(key: str) -> bool:
    """Whether the catalog holds this key."""
    return key in catalog()


def language(value: str | None) -> str:
    """A supported language: `value` if it is one, else the default (Vietnamese)."""
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


def text(key: str, lang: str = DEFAULT_LANGUAGE, /, **params: Any) -> str:
    """The text of `key` in `lang` with its parameters filled in; an unknown key gives the key itself."""
    texts = catalog().get(key)
    if texts is None:
        log.warning("message key '%s' is not in the catalog", key)
        return key
    template = texts.get(language(lang)) or texts[DEFAULT_LANGUAGE]
    values = {name: _in_language(value, lang) for name, value in params.items()}
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError) as error:
        log.warning("message '%s' (%s) cannot be filled in with %s: %r", key, lang, sorted(values), error)
        return template


def placeholders(template: str) -> set[str]:
    """The names of the `{parameters}` a text uses."""
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(template) if name}


def label(member, lang: str = DEFAULT_LANGUAGE) -> str:
    """The label of a domain value (an enum member with a `label_key`) in `lang`."""
    return text(member.label_key, lang)


@dataclass(frozen=True)
class Message:
    """A text not yet in a language: a catalog key and its parameters."""

    key: str
    params: dict[str, Any] = field(default_factory=dict, hash=False)

    def text(self, lang: str = DEFAULT_LANGUAGE) -> str:
        """This message in `lang`."""
        return text(self.key, lang, **self.params)

    def __str__(self) -> str:
        return self.text()

    def to_json(self) -> dict:
        """A JSON form of the message, for records that keep parameters (`from_json` reads it back)."""
        return {"$message": self.key, "params": encode_params(self.params)}


@dataclass(frozen=True)
class Number:
    """A decimal number as each language writes it: Vietnamese with a decimal comma."""

    value: float
    digits: int = 3

    def text(self, lang: str = DEFAULT_LANGUAGE) -> str:
        """The number with `digits` significant digits."""
        written = f"{self.value:.{self.digits}g}"
        return written.replace(".", ",") if language(lang) == "vi" else written


def encode_params(params: dict[str, Any]) -> dict[str, Any]:
    """Parameters as JSON: nested messages become {"$message": key, "params": {...}}."""
    return {name: value.to_json() if isinstance(value, Message) else value for name, value in params.items()}


def decode_params(stored: dict[str, Any]) -> dict[str, Any]:
    """Parameters read back from JSON (`encode_params` wrote them)."""
    return {name: Message(value["$message"], decode_params(value.get("params") or {}))
            if isinstance(value, dict) and "$message" in value else value for name, value in stored.items()}


def _in_language(value: Any, lang: str) -> Any:
    return value.text(lang) if isinstance(value, (Message, Number)) else value
