"""The history index file (index.json): one header line with the columns the tree needs, then each node's settings.

    {"version": 2, "seq": 17, "count": 3, "columns": {"id": [...], "parent": [...], ..., "search": [...]}}
    {"model":"sd15","prompt":"a lighthouse",...}          node 0's settings (GenerationParams.to_dict())
    ...                                                   one line per node, in the header's order (parents first)

Why this shape: as one JSON document of node records (version 1), opening 100,000 nodes took about 3 s, nearly
all of it parsing every record and type-checking every value of its settings. Now the header is one json.loads,
each column is checked at C speed (the set of types it holds, one regex over the joined ids, forbidden characters
in the joined file names), and each node's settings stay as their bytes until something reads them
(``Node.params`` parses and checks them then). The "search" column is each node's lowercase filter text, so the
history filter needs no settings for words; "find_model", "find_lora" and "find_sampler" do the same for its
model:, lora: and sampler: terms. A column whose values are all the field's default is left out.

Version 1 (``{"version": 1, "nodes": [records]}``, what Restyle wrote before) is still read, record by record as
before; the workspace then writes version 2. No Qt here.
"""

from __future__ import annotations

import dataclasses
import json
import re
from operator import attrgetter

from .history import Node
from .history_filter import facets, search_text
from .schemas import Damaged, check_depth, check_fields, load_json

INDEX_VERSION = 2
_NONE = type(None)
_ID_LIST = re.compile(r"[0-9A-Za-z_]{1,64}(?:\n[0-9A-Za-z_]{1,64})*")  # the ids, joined by newlines
_DUMP_SLICE = 10_000  # values per json.dumps call: a compaction thread never holds the interpreter for long

# Each column: how its values are checked beyond their types, and the types they may have.
_COLUMNS: dict[str, tuple[str, frozenset]] = {
    "id": ("id", frozenset({str})),
    "parent": ("id", frozenset({str, _NONE})),
    "kind": ("", frozenset({str})),
    "image": ("name", frozenset({str})),
    "created": ("", frozenset({str})),
    "width": ("size", frozenset({int})),
    "height": ("size", frozenset({int})),
    "model": ("", frozenset({str})),
    "model_hash": ("", frozenset({str})),
    "seed": ("", frozenset({int, _NONE})),
    "latent": ("name", frozenset({str, _NONE})),
    "vae_id": ("", frozenset({str})),
    "chain_mode": ("", frozenset({str, _NONE})),
    "source": ("", frozenset({str, _NONE})),
    "starred": ("", frozenset({bool})),
    "depth": ("name", frozenset({str, _NONE})),
    "mask": ("name", frozenset({str, _NONE})),
    "upscale": ("upscale", frozenset({dict, _NONE})),
    "replay_of": ("", frozenset({str, _NONE})),
    "search": ("", frozenset({str})),
}
# What model:, lora: and sampler: match (history_filter.facets), one column each, read back as one tuple per node.
_FACETS = ("find_model", "find_lora", "find_sampler")
_FIELDS = {f.name: f for f in dataclasses.fields(Node)}
# Every field but the settings is a column: a field added to Node without one here fails at import, not silently.
if set(_FIELDS) - {"params"} != set(_COLUMNS) - {"search"}:
    raise ImportError("index_file._COLUMNS must list every Node field")
_REQUIRED = tuple(name for name, f in _FIELDS.items()
                  if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)


# --- reading ---------------------------------------------------------------------------------------------------
def decode_index(raw: bytes) -> tuple[list[Node], bool, int, int]:
    """The nodes of an index file, whether some records were left out as damaged, the last journal record it holds,
    and its format version; ``Damaged`` when the file as a whole cannot be used."""
    lines = raw.split(b"\n")  # one pass, no copy of the whole settings part (100 MB at 100,000 full nodes)
    try:
        header = json.loads(lines[0])
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        header = None
    if isinstance(header, dict) and header.get("version") == INDEX_VERSION:
        seq = header.get("seq", 0)
        seq = seq if type(seq) is int else 0
        del lines[0]
        if lines and lines[-1] == b"":  # the newline that ends the last line
            lines.pop()
        return _decode_columns(header, lines), False, seq, INDEX_VERSION
    if header is None or len(lines) > 1:  # not one line: a hand-formatted version 1 file, or no index at all
        header = load_json(raw, "the history index")
    check_depth(header, "the history index")
    nodes, damaged, seq = _decode_records(header)
    return nodes, damaged, seq, 1


def _decode_records(data) -> tuple[list[Node], bool, int]:
    """Version 1: every record built and checked on its own; a damaged one is left out (its picture brings it
    back)."""
    if not isinstance(data, dict) or not isinstance(data.get("nodes"), list):
        raise Damaged("the history index does not hold a list of nodes")
    nodes, damaged = [], False
    for item in data["nodes"]:
        try:
            nodes.append(Node.from_dict(item))
        except (ValueError, TypeError):
            damaged = True
    seq = data.get("seq", 0)
    return nodes, damaged, seq if type(seq) is int else 0


def _decode_columns(header: dict, lines: list[bytes]) -> list[Node]:
    count, columns = header.get("count"), header.get("columns")
    if type(count) is not int or count < 0 or not isinstance(columns, dict):
        raise Damaged("the history index header has no node count or no columns")
    if len(lines) != count:
        raise Damaged(f"the history index has settings for {len(lines)} nodes, not {count}")
    names, values = [], []
    for name, (kind, types) in _COLUMNS.items():
        column = columns.get(name)
        if column is None:
            if name in _REQUIRED:
                raise Damaged(f"the history index has no {name} column")
            continue
        _check_column(name, column, count, kind, types)
        names.append("search_text" if name == "search" else name)
        values.append(column)
    found = [columns.get(name) for name in _FACETS]
    if all(column is not None for column in found):  # else each node makes its own from its settings when asked
        for name, column in zip(_FACETS, found, strict=True):
            _check_column(name, column, count, "", frozenset({str}))
        names.append("facets")
        values.append(list(zip(*found, strict=True)))
    keys = (*names, "_params")  # the settings stay bytes until Node.params reads them
    new, nodes = object.__new__, []
    for row in zip(*values, lines, strict=True):  # (the caller holds the collector back: history.gc_paused)
        node = new(Node)
        node.__dict__ = dict(zip(keys, row, strict=True))  # fields left out fall back to Node's own defaults
        nodes.append(node)
    return nodes


def _check_column(name: str, column, count: int, kind: str, types: frozenset) -> None:
    what = f"the {name} column of the history index"
    if not isinstance(column, list) or len(column) != count:
        raise Damaged(f"{what} does not have one value per node")
    if not set(map(type, column)) <= types:
        raise Damaged(f"{what} holds a value of the wrong type")
    if kind in ("id", "name"):
        present = column if _NONE not in types else [v for v in column if v is not None]
        if present and not (_ids_fit(present) if kind == "id" else _names_fit(present)):
            raise Damaged(f"{what} holds a value that is not a plain {'id' if kind == 'id' else 'file name'}")
    elif kind == "size" and column and min(column) < 0:
        raise Damaged(f"{what} holds a negative size")
    elif kind == "upscale":
        from .upscale import UpscaleParams

        for value in column:
            if value is not None:
                check_depth(value, what)
                check_fields(value, UpscaleParams, what)


def _ids_fit(ids: list[str]) -> bool:
    """Ids become file names: letters, digits and underscores only (all checked in one regex pass)."""
    joined = "\n".join(ids)
    return joined.count("\n") == len(ids) - 1 and _ID_LIST.fullmatch(joined) is not None


def _names_fit(names: list[str]) -> bool:
    """Bare file names: no folders, no way out of the folder they are joined to (history._is_plain_name, in bulk)."""
    joined = "\n".join(names)
    if joined.count("\n") != len(names) - 1 or any(c in joined for c in ("/", "\\", ":", "\0")):
        return False
    return not (names.count("") or names.count(".") or names.count(".."))


# --- writing ---------------------------------------------------------------------------------------------------
def encode_index(nodes: list[Node], seq: int) -> bytes:
    """Version 2 of the index for ``nodes`` (parents before children) as of journal record ``seq``."""
    parts = []
    for name in _COLUMNS:
        if name == "search":
            values = [search_text(node) for node in nodes]
        else:
            values = list(map(attrgetter(name), nodes))
            default = _FIELDS[name].default
            if default is not dataclasses.MISSING and values.count(default) == len(values):
                continue  # every node has the default: Node supplies it when read
        parts.append(f'"{name}": {_dump(values)}')
    kept = [facets(node) for node in nodes]
    parts += [f'"{name}": {_dump([facet[at] for facet in kept])}' for at, name in enumerate(_FACETS)]
    header = f'{{"version": {INDEX_VERSION}, "seq": {seq}, "count": {len(nodes)}, "columns": {{{", ".join(parts)}}}}}'
    lines = [node.params_line() for node in nodes]
    return b"\n".join([header.encode("utf-8"), *lines, b""])


def _dump(values: list) -> str:
    """``json.dumps(values)``, a slice at a time."""
    chunks = [json.dumps(values[at:at + _DUMP_SLICE], ensure_ascii=False)[1:-1]
              for at in range(0, len(values), _DUMP_SLICE)]
    return f"[{', '.join(chunks)}]"
