"""Reading knowledge files: TOML, validated entry by entry, merged in order.

The built-in files ship beside this module as package data. A campaign's
``[knowledge] path`` (one file, or a folder of them) is read after them: an
entry with the key of a built-in one (an industry's or signal's ``key``, a
technology's ``name``, a region's name) replaces it, any other is added. A
broken file fails with the file, the entry and the field.
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Iterable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ..errors import KnowledgeError
from .entries import TEMPLATE_FIELDS, KnowledgeFile

__all__ = ["BUILT_IN_FILES", "load_files", "merged", "read_file"]

BUILT_IN_FILES = (
    "industries.toml",
    "signals.toml",
    "technologies.toml",
    "people.toml",
    "sizes.toml",
    "messages.toml",
)

_Keyed = TypeVar("_Keyed", bound=BaseModel)


def read_file(text: str, name: str) -> KnowledgeFile:
    """One file's entries, validated. :raises KnowledgeError: naming file, entry and field."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise KnowledgeError(f"{name} is not valid TOML: {exc}") from exc
    try:
        loaded = KnowledgeFile.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = _where(data, error["loc"])
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise KnowledgeError(f"{name}: {where}: {error['msg']}{more}") from exc
    _check_templates(loaded, name)
    return loaded


def _where(data: dict[str, Any], loc: tuple[int | str, ...]) -> str:
    """``industry[3] (key "saas").pain_points[0].severity``: the entry named by its key."""
    parts: list[str] = []
    node: Any = data
    for step in loc:
        if isinstance(step, int) and isinstance(node, list) and step < len(node):
            node = node[step]
            key = node.get("key") or node.get("name") if isinstance(node, dict) else None
            parts[-1] += f"[{step}]" + (f' ("{key}")' if key else "")
            continue
        parts.append(str(step))
        node = node.get(step) if isinstance(node, dict) else None
    return ".".join(parts)


def _check_templates(loaded: KnowledgeFile, name: str) -> None:
    for where, template in _templates(loaded.model_dump(mode="json")):
        try:
            fields = {field for _, field, _, _ in string.Formatter().parse(template) if field}
        except ValueError as exc:
            raise KnowledgeError(f"{name}: {where}: broken template: {exc}") from exc
        unknown = sorted(fields - set(TEMPLATE_FIELDS))
        if unknown:
            allowed = ", ".join(f"{{{field}}}" for field in TEMPLATE_FIELDS)
            raise KnowledgeError(
                f"{name}: {where}: unknown template field {{{unknown[0]}}} (allowed: {allowed})"
            )


def _templates(node: Any, where: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, str):
        yield where, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _templates(value, f"{where}.{key}" if where else str(key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _templates(value, f"{where}[{index}]")


def _by_key(base: Iterable[_Keyed], extra: Iterable[_Keyed], key: str) -> tuple[_Keyed, ...]:
    """``base`` with each entry of ``extra`` replacing the one of the same key, or added."""
    merged = {getattr(entry, key): entry for entry in base}
    merged.update((getattr(entry, key), entry) for entry in extra)
    return tuple(merged.values())


def merged(files: Iterable[KnowledgeFile]) -> KnowledgeFile:
    """The files read in order: later entries replace earlier ones of the same key."""
    total = KnowledgeFile()
    for file in files:
        total = KnowledgeFile(
            general=file.general or total.general,
            industry=_by_key(total.industry, file.industry, "key"),
            news_markers=tuple(dict.fromkeys((*total.news_markers, *file.news_markers))),
            signal=_by_key(total.signal, file.signal, "key"),
            technology=_by_key(total.technology, file.technology, "name"),
            seniority=_by_key(total.seniority, file.seniority, "level"),
            seniority_preference={**total.seniority_preference, **file.seniority_preference},
            buyer_functions={**total.buyer_functions, **file.buyer_functions},
            function_triggers={**total.function_triggers, **file.function_triggers},
            size={**total.size, **file.size},
            tier_playbook={**total.tier_playbook, **file.tier_playbook},
            function_names={**total.function_names, **file.function_names},
            unnamed_greeting=file.unnamed_greeting or total.unnamed_greeting,
            unnamed_opening=file.unnamed_opening or total.unnamed_opening,
        )
    return total


def _built_in() -> Iterator[KnowledgeFile]:
    folder = resources.files(__package__)
    for name in BUILT_IN_FILES:
        yield read_file(folder.joinpath(name).read_text(encoding="utf-8"), name)


def _campaign_files(path: Path) -> Iterator[KnowledgeFile]:
    paths = sorted(path.glob("*.toml")) if path.is_dir() else [path]
    if not paths:
        raise KnowledgeError(f"knowledge folder {path} holds no .toml files")
    for file in paths:
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise KnowledgeError(f"cannot read knowledge file {file}: {exc.strerror}") from exc
        except UnicodeDecodeError as exc:
            raise KnowledgeError(f"knowledge file {file} is not UTF-8 text") from exc
        yield read_file(text, str(file))


def load_files(extra: Path | None = None) -> KnowledgeFile:
    """The built-in knowledge, then ``extra`` (a file or a folder of them) over it."""
    files = [*_built_in(), *(_campaign_files(extra) if extra is not None else ())]
    return merged(files)
