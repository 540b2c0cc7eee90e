"""Loading, checking and rendering the reply templates, operator overrides first."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2

from mailgate.errors import ConfigurationError
from mailgate.replies._model import ReplyKind

SCRIPTS = ("zh-Hans", "zh-Hant")
#: The file names a script's directory may hold: a subject and a body template for each kind.
FILES = frozenset(f"{kind.value}.{part}.j2" for kind in ReplyKind for part in ("subject", "body"))

#: C0 and C1 controls except tab and line feed, bidi marks and overrides, line/paragraph separators, BOM,
#: and lone surrogates (which no encoding can write).
_CONTROL = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff\ud800-\udfff]"
)
_LINE_BREAKS = re.compile(r"[ \t]*[\r\n]+[ \t]*|\t")


def template_name(script: str, kind: ReplyKind, part: str) -> str:
    """The loader name of one template, e.g. ``zh-Hans/receipt.body.j2``."""
    return f"{script}/{kind.value}.{part}.j2"


def environment(script: str, template_dir: Path | None) -> jinja2.Environment:
    """A plain-text environment reading ``template_dir/<script>/`` before the packaged templates."""
    loaders: list[jinja2.BaseLoader] = []
    if template_dir is not None:
        overrides = template_dir / script
        if not overrides.is_dir():
            raise ConfigurationError(f"reply template directory {overrides} does not exist")
        unknown = sorted(p.name for p in overrides.glob("*.j2") if p.name not in FILES)
        if unknown:
            raise ConfigurationError(
                f"unknown reply templates in {overrides}: {', '.join(unknown)}; "
                f"expected some of {', '.join(sorted(FILES))}"
            )
        loaders.append(jinja2.FileSystemLoader(template_dir))
    loaders.append(jinja2.PackageLoader("mailgate.replies", "templates"))
    # Plain text: HTML escaping would only garble it; control characters are removed from values instead.
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # noqa: S701
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(env: jinja2.Environment, name: str, context: Mapping[str, Any]) -> str:
    """Render one template; any failure is a ConfigurationError naming the template."""
    try:
        return env.get_template(name).render(clean(context))
    except jinja2.TemplateSyntaxError as exc:
        where = f"{exc.filename or name}, line {exc.lineno}"
        raise ConfigurationError(f"reply template {name} ({where}): {exc.message}") from exc
    except (jinja2.TemplateError, TypeError, ValueError, AttributeError, LookupError, ArithmeticError) as exc:
        raise ConfigurationError(f"reply template {name} cannot be rendered: {exc}") from exc


def one_line(text: str) -> str:
    """A rendered subject as one header line: line breaks and tabs become one space."""
    return _LINE_BREAKS.sub(" ", text).strip()


def clean(value: Any) -> Any:
    """``value`` with control characters removed from every string in it, at any depth."""
    if isinstance(value, str):
        return _CONTROL.sub("", value)
    if isinstance(value, Mapping):
        return {key: clean(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [clean(item) for item in value]
    return value
