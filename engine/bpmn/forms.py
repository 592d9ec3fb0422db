"""User-task forms: one JSON Schema per task, HTML/JSON input to typed data, per-field messages (vi/en)."""
from __future__ import annotations

import copy
import json
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError

from engine.core import i18n
from engine.core.errors import InvalidInput, field_label

# The HTML input each kind renders as; a property's "x-widget" overrides it.
WIDGETS = {"string": "text", "text": "textarea", "integer": "number", "number": "number",
           "boolean": "checkbox", "date": "date", "datetime": "datetime-local", "enum": "select",
           "object": "readonly"}
_TRUE = {"on", "true", "1", "yes"}
_DMY = re.compile(r"([0-9]{1,2})[/.-]([0-9]{1,2})[/.-]([0-9]{4})")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Field:
    """One form field as a renderer needs it (Vietnamese texts, English beside them)."""

    name: str
    title: str
    kind: str
    required: bool
    enum: tuple | None
    enum_labels: tuple | None
    description: str | None
    default: Any
    widget: str
    title_en: str
    description_en: str | None
    enum_labels_en: tuple | None
    read_only: bool


@dataclass(frozen=True)
class Form:
    """A user task's form: the file name the diagram names and its JSON Schema (draft 2020-12)."""

    filename: str
    schema: dict = dataclass_field(hash=False)  # hashable by file name, so a Form can key a cache

    @property
    def title(self) -> str:
        """The form's Vietnamese title."""
        return str(self.schema.get("title") or self.filename)

    @property
    def title_en(self) -> str:
        """The form's English title (the Vietnamese one if none)."""
        return str(self.schema.get("x-title-en") or self.title)

    @property
    def fields(self) -> list[Field]:
        """The fields in schema "properties" order, for rendering."""
        required = set(self.schema.get("required", ()))
        return [_field(name, prop, name in required) for name, prop in self.schema.get("properties", {}).items()]


class FormInvalid(InvalidInput):
    """Submitted data does not fit the form; `errors` maps field name -> message (Vietnamese by default)."""

    code = "form_invalid"

    def __init__(self, problems: Mapping[str, Mapping[str, str] | str], lang: str = "vi",
                 labels: Mapping[str, Mapping[str, str]] | None = None):
        # Each problem keeps both languages so the caller can re-render in the user's language.
        self._problems = {str(k): {"vi": v, "en": v} if isinstance(v, str) else dict(v)
                          for k, v in problems.items()}
        self._labels = dict(labels or {})  # a form's fields by their titles, in each language
        self.errors = self.messages(lang)
        super().__init__("form_invalid")

    def messages(self, lang: str = "vi") -> dict[str, str]:
        """The per-field messages in `lang` ("vi" or "en"; anything else gives Vietnamese)."""
        return {k: m.get(lang) or m["vi"] for k, m in self._problems.items()}

    def text(self, lang: str = "vi") -> str:
        """Every field's message in `lang`, "field: message; ...", the field named by its title (a form's) or
        its catalog label (an API body's, engine.core.errors.field_label); a message naming it stands alone."""
        def line(name: str, message: str) -> str:
            label = (self._labels.get(name) or {}).get(lang) or field_label(name, lang)
            return message if name == "_form" or message.startswith(label) else f"{label}: {message}"
        return "; ".join(line(k, v) for k, v in self.messages(lang).items())


def load_form(path: Path) -> Form:
    """Read a form schema file and check it; ValueError says what is wrong."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path.name}: cannot read the form file: {exc}") from exc
    return form_from_json(path.name, text)


def form_from_json(filename: str, text: str) -> Form:
    """Build a form from stored schema text, with the same checks as load_form."""
    try:
        schema = json.loads(text)
        Draft202012Validator.check_schema(schema)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"{filename}: the form is not valid JSON: {exc}") from exc
    except SchemaError as exc:
        where = "/".join(map(str, exc.absolute_path)) or "top level"
        raise ValueError(f"{filename}: not a valid JSON Schema at {where}: {exc.message}") from exc
    problems = _structure_problems(schema)
    if problems:
        raise ValueError(f"{filename}: " + "; ".join(problems))
    return Form(filename, schema)


def coerce(form: Form, raw: Mapping[str, str | list[str]]) -> dict:
    """Turn an HTML post (strings) into typed data; unknown and read-only fields are dropped."""
    if not isinstance(raw, Mapping):
        raise FormInvalid({"_form": _msg("not_object")})
    getlist = getattr(raw, "getlist", None)  # a werkzeug MultiDict keeps every value of a name
    out: dict = {}
    for name, prop in form.schema.get("properties", {}).items():
        kind = _kind(prop)
        if prop.get("readOnly") or kind == "object":
            continue  # filled by the system (report figures); a post must not overwrite them
        values = list(getlist(name)) if callable(getlist) else raw.get(name)
        values = values if isinstance(values, list) else [] if values is None else [values]
        if kind == "boolean":  # an unticked checkbox is simply absent from the post
            out[name] = any(str(v).strip().lower() in _TRUE for v in values)
            continue
        values = [_clean(prop, v) for v in values if not (isinstance(v, str) and not v.strip())]
        if values:  # several values for one field is tampering: keep them so validation reports it
            out[name] = values[0] if len(values) == 1 else values
    return out


def validate(form: Form, data: dict, lang: str = "vi", today: date | None = None) -> dict:
    """Check data against the form: the cleaned data, or FormInvalid with one message per field.
    `today` (the caller's clock, in the province's time zone) checks the dates marked "x-not-after": "today"."""
    try:
        problems, cleaned = _check(form, data)
    except Exception as exc:  # noqa: BLE001 - hostile input (e.g. nesting too deep to repr) is a form error
        raise FormInvalid({"_form": _msg("invalid")}, lang) from exc
    if not problems and today is not None:
        problems = _after_today(form, cleaned, today)
    if problems:
        raise FormInvalid(problems, lang, {name: {code: _title(prop, code) for code in i18n.LANGUAGES}
                                           for name, prop in form.schema.get("properties", {}).items()})
    return cleaned


def _after_today(form: Form, cleaned: dict, today: date) -> dict:
    # A day that has not come yet cannot be the day something was done (a completion date, Art. 8):
    # JSON Schema compares no dates, so the form marks such a field and the engine's clock decides.
    problems = {}
    for name, prop in form.schema.get("properties", {}).items():
        if prop.get("x-not-after") == "today" and isinstance(cleaned.get(name), str) \
                and cleaned[name] > today.isoformat():
            problems[name] = {lang: i18n.text("form.not_after_today", lang, field=_title(prop, lang),
                                              day=today.strftime("%d/%m/%Y")) for lang in i18n.LANGUAGES}
    return problems


def _title(prop: dict, lang: str) -> str:
    return str(prop.get("x-title-en") or prop.get("title")) if lang == "en" else str(prop.get("title"))


def check_json(schema: dict, data: Any, lang: str = "vi") -> None:
    """Check a JSON document as it is (no cleaning: "3" is not an integer) against a JSON Schema;
    FormInvalid with one message per field, a nested field named by its path ("tasks[0].deadline")."""
    validator = Draft202012Validator(schema, format_checker=_format_checker())
    try:
        errors = list(validator.iter_errors(data))
    except RecursionError as exc:  # nesting too deep to walk is hostile input, not a server error
        raise FormInvalid({"_form": _msg("invalid")}, lang) from exc
    problems: dict = {}
    for error in errors:
        path = list(error.absolute_path)
        if error.validator == "required":
            given = error.instance if isinstance(error.instance, Mapping) else {}
            pairs = [(_dotted([*path, name]), _msg("required")) for name in error.validator_value if name not in given]
        else:
            pairs = [(_dotted(path) if path else field, message) for field, message in _describe(error)]
        for field, message in pairs:
            problems.setdefault(field, message)
    if problems:
        raise FormInvalid(problems, lang)


def _dotted(path: list) -> str:
    text = "".join(f"[{part}]" if isinstance(part, int) else f".{str(part)[:60]}" for part in path)
    return text.lstrip(".") or "_form"


def _check(form: Form, data: Any) -> tuple[dict, dict | None]:
    if not isinstance(data, Mapping):
        return {"_form": _msg("not_object")}, None
    props = form.schema.get("properties", {})
    # Blank and null mean "not given", the same as an empty HTML input.
    data = {k: v for k, v in ((k, _clean(props.get(k), v)) for k, v in data.items()) if v is not None and v != ""}
    for name, prop in props.items():
        if name not in data and "default" in prop:
            data[name] = copy.deepcopy(prop["default"])
    validator = Draft202012Validator(form.schema, format_checker=_format_checker())
    problems: dict = {}
    for field, message in (pair for error in validator.iter_errors(data) for pair in _describe(error)):
        problems.setdefault(field, message)  # the first error per field is the one shown
    if problems:
        return problems, None
    # Read-only values belong to the system: the caller keeps its own, never the user's copy.
    return {}, {k: data[k] for k, p in props.items() if k in data and not p.get("readOnly")}


def _describe(error) -> list[tuple[str, dict]]:
    path, kind, value = list(error.absolute_path), error.validator, error.validator_value
    field = str(path[0]) if path else "_form"
    if kind == "required" and not path:  # a top-level "required" (also from if/then) names the fields
        given = error.instance if isinstance(error.instance, Mapping) else {}
        return [(str(name), _msg("required")) for name in value if name not in given]
    if kind == "additionalProperties":
        extras = [str(k)[:60] for k in error.instance if k not in error.schema.get("properties", {})]
        return [(field, _msg("additional", ", ".join(extras[:10])))]
    if kind == "pattern":
        default = _msg("pattern")
        return [(field, {lang: str(error.schema.get(f"x-error-{lang}") or default[lang]) for lang in default})]
    if kind in ("type", "format"):
        key = value if isinstance(value, str) and i18n.has(f"form.{value}") else "invalid"
    else:
        key = {"const": "enum"}.get(kind, kind if i18n.has(f"form.{kind}") else "invalid")
    return [(field, _msg(key, value))]


def _msg(key: str, n: Any = None) -> dict[str, str]:
    # A field's message in every language: the form is re-rendered in the language of whoever reads it.
    return {lang: i18n.text(f"form.{key}", lang, n=n) for lang in i18n.LANGUAGES}


def _clean(prop: Any, value: Any) -> Any:
    # One cleaning for HTML and JSON input. A value that does not parse stays as it is, so that
    # validation names the field.
    kind = _kind(prop) if isinstance(prop, dict) else "string"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # NaN passes "minimum" and is not JSON: make it a type error instead
    if not isinstance(value, str):
        return int(value) if kind == "integer" and isinstance(value, float) and value.is_integer() else value
    # NFC so composed and decomposed Vietnamese compare equal; NUL and lone surrogates cannot be
    # stored in PostgreSQL JSON.
    text = unicodedata.normalize("NFC", _CONTROL.sub("", value)).strip().encode("utf-8", "replace").decode()
    try:
        if kind == "integer":
            return int(text)
        if kind == "number":
            number = float(text.replace(",", "."))  # Vietnamese writes 2,5
            return number if math.isfinite(number) else text
    except ValueError:
        return text
    if kind == "date" and (m := _DMY.fullmatch(text)):
        return f"{m[3]}-{int(m[2]):02d}-{int(m[1]):02d}"
    return text


def _format_checker() -> FormatChecker:
    # jsonschema checks date-time only with an optional package that is not installed; require an
    # ISO 8601 date and time with an offset.
    checker = FormatChecker()
    checker.checks("date-time", raises=ValueError)(
        lambda v: not isinstance(v, str) or ("T" in v and datetime.fromisoformat(v).tzinfo is not None))
    return checker


def _kind(prop: dict) -> str:
    if prop.get("x-widget") == "textarea":
        return "text"
    if "enum" in prop:
        return "enum"
    if prop.get("type") in ("integer", "number", "boolean", "object"):
        return prop["type"]
    return {"date": "date", "date-time": "datetime"}.get(prop.get("format"), "string")


def _field(name: str, prop: dict, required: bool) -> Field:
    kind = _kind(prop)
    enum = tuple(prop["enum"]) if "enum" in prop else None

    def labels(key: str) -> tuple | None:
        given = prop.get(key) if isinstance(prop.get(key), dict) else {}
        return tuple(str(given.get(str(v), v)) for v in enum) if enum is not None else None

    title = str(prop.get("title") or name)
    return Field(name, title, kind, required, enum, labels("x-enum-labels"), prop.get("description"),
                 prop.get("default"), str(prop.get("x-widget") or WIDGETS[kind]),
                 str(prop.get("x-title-en") or title), prop.get("x-description-en"),
                 labels("x-enum-labels-en"), bool(prop.get("readOnly") or kind == "object"))


def _structure_problems(schema: Any) -> list[str]:
    # What the engine relies on beyond JSON Schema: an object whose fields all have titles, and no
    # field the form does not name (task data holds what the form allows, nothing more).
    if not isinstance(schema, dict) or schema.get("type") != "object":
        return ['the form schema must have "type": "object"']
    props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    problems = [] if schema.get("additionalProperties") is False else ['"additionalProperties" must be false']
    problems += [] if props else ['"properties" must name at least one field']
    problems += ['"_form" is reserved for errors not tied to a field'] if "_form" in props else []
    problems += [f'field "{name}": "x-not-after" takes "today", on a field of "format": "date"'
                 for name, prop in props.items() if isinstance(prop, dict) and "x-not-after" in prop
                 and (prop["x-not-after"] != "today" or prop.get("format") != "date")]
    return problems + [f'field "{name}" needs a Vietnamese "title"' for name, prop in props.items()
                       if not isinstance(prop, dict) or not str(prop.get("title") or "").strip()]
