"""Finding pictures in the history: the filter box's words, parsed once and matched against every node.

    lighthouse dusk          words of the prompt (every word must appear; the negative prompt counts too)
    model:sdxl               the model (any part of its name or path)
    lora:ink  sampler:euler  a LoRA or the sampler, when the run recorded one
    is:starred  (or ★)       starred pictures only
    after:2026-11-01  before:2026-11-30   the day it was made (inclusive)
    size:1024x768  size:>1000  size:<600  exact size, or the longer side above/below a number

Matching is plain Python over a lowercase text kept on each node (``search_text``; the history index stores it),
so 100,000 nodes narrow in tens of milliseconds.
No Qt here; the history panel and the gallery share it.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from datetime import date
from itertools import compress

_SIZE = re.compile(r"(\d+)\s*[x×]\s*(\d+)")
_KEYS = ("model", "lora", "sampler", "is", "after", "before", "size")


@dataclass(frozen=True)
class HistoryFilter:
    """A parsed filter; ``problems`` lists the terms it could not read, in words for the user."""

    words: tuple[str, ...] = ()
    model: tuple[str, ...] = ()
    lora: tuple[str, ...] = ()
    sampler: tuple[str, ...] = ()
    starred: bool = False
    after: str | None = None  # ISO date, inclusive
    before: str | None = None  # ISO date, inclusive
    size_exact: tuple[int, int] | None = None
    longer_above: int | None = None
    longer_below: int | None = None
    problems: tuple[str, ...] = field(default=(), compare=False)

    @property
    def empty(self) -> bool:
        """True when the filter lets every node through."""
        return self == HistoryFilter()

    def matches(self, node, text: str) -> bool:
        """Whether the node passes every term; ``text`` is its SearchTexts entry."""
        if self.starred and not node.starred:
            return False
        if self.words and not all(w in text for w in self.words):
            return False
        if self.model or self.lora or self.sampler:
            model, loras, sampler = facets(node)
            if not all(m in model for m in self.model) or not all(t in loras for t in self.lora) \
                    or not all(t in sampler for t in self.sampler):
                return False
        day = node.created[:10]
        if (self.after and day < self.after) or (self.before and day > self.before):
            return False
        if self.size_exact and (node.width, node.height) != self.size_exact:
            return False
        longer = max(node.width, node.height)
        if self.longer_above is not None and longer <= self.longer_above:
            return False
        return self.longer_below is None or longer < self.longer_below


def parse_filter(text: str) -> HistoryFilter:
    """Read the filter box; terms it cannot read are named in ``problems`` and otherwise ignored."""
    found: dict[str, list] = {"words": [], "model": [], "lora": [], "sampler": []}
    options: dict = {}
    problems = []
    for term in text.split():
        low = term.lower()
        key, _, value = low.partition(":")
        if low in ("★", "*starred", "starred:") or (key == "is" and value in ("starred", "star", "★")):
            options["starred"] = True
        elif key in ("model", "lora", "sampler") and value:
            found[key].append(value)
        elif key in ("after", "before") and value:
            try:
                options[key] = date.fromisoformat(value).isoformat()
            except ValueError:
                problems.append(f"“{term}” needs a date like {key}:2026-11-01")
        elif key == "size" and value:
            size = _SIZE.fullmatch(value)
            if size:
                options["size_exact"] = (int(size[1]), int(size[2]))
            elif value[:1] in "<>" and value[1:].isdigit():
                options["longer_above" if value[0] == ">" else "longer_below"] = int(value[1:])
            else:
                problems.append(f"“{term}” needs a size like size:1024x768, size:>1000 or size:<600")
        elif key in _KEYS and not value:
            problems.append(f"“{term}” needs a value after the colon")
        else:
            found["words"].append(low)
    return HistoryFilter(**{k: tuple(v) for k, v in found.items()}, **options, problems=tuple(problems))


def search_text(node) -> str:
    """The lowercase text a node's words are matched against (prompt and negative prompt; an import's file name),
    made once per node and kept on it; the history index stores it, so opening needs no settings for it."""
    text = node.search_text
    if text is None:
        params = node.params
        parts = [params.get("prompt") or "", params.get("negative_prompt") or ""]
        if node.kind == "import":
            parts.append(node.source or node.image)
        text = node.search_text = " ".join(str(part) for part in parts).lower()
    return text


def facets(node) -> tuple[str, str, str]:
    """The lowercase model, LoRA and sampler texts that ``model:``, ``lora:`` and ``sampler:`` match, made once per
    node and kept on it; the index stores them too, so these terms need no settings either."""
    kept = node.facets
    if kept is None:
        params = node.params
        kept = node.facets = (f"{node.model} {params.get('model', '')}".lower(), _loras(params), _sampler(params))
    return kept


class SearchTexts:
    """Every node's search text in tree order, kept between keystrokes and made again after the tree changed:
    matching a word is then one pass over two lists, with no per-node attribute lookups."""

    def __init__(self) -> None:
        self._version: int | None = None
        self._nodes: list = []
        self._texts: list[str] = []

    def snapshot(self, tree) -> tuple[list, list[str]]:
        """The tree's nodes and their search texts, in the same order."""
        if self._version != tree.version or len(self._nodes) != len(tree):
            self._nodes = list(tree)
            self._texts = [t if (t := n.search_text) is not None else search_text(n) for n in self._nodes]
            self._version = tree.version
        return self._nodes, self._texts


def _loras(params: dict) -> str:
    """Every LoRA a run names, lowercase, whatever shape the params keep them in."""
    return " ".join(str(v) for k, v in params.items() if "lora" in k.lower() and v).lower()


def _sampler(params: dict) -> str:
    return " ".join(str(params.get(k) or "") for k in ("sampler", "scheduler", "schedule_type")).lower()


def matching(tree, flt: HistoryFilter, texts: SearchTexts | None = None) -> list:
    """The nodes that pass the filter, in tree order. ``texts``: a SearchTexts kept by the caller, so the next
    keystroke reuses its snapshot."""
    nodes, found = (texts or SearchTexts()).snapshot(tree)
    # The kept texts first, each term a flat pass over what is left (no call per node): stars, words, then the
    # model:, lora: and sampler: terms; dates and sizes only over what remains.
    if flt.starred:
        nodes, found = _narrow([node.starred for node in nodes], nodes, found)
    for word in flt.words:
        nodes, found = _narrow([word in text for text in found], nodes, found)
    if flt.model or flt.lora or flt.sampler:
        kept = [node.facets or facets(node) for node in nodes]
        for at, terms in enumerate((flt.model, flt.lora, flt.sampler)):
            for term in terms:
                nodes, found, kept = _narrow([term in facet[at] for facet in kept], nodes, found, kept)
    rest = dataclasses.replace(flt, words=(), starred=False, model=(), lora=(), sampler=())
    return nodes if rest.empty else [n for n, text in zip(nodes, found, strict=True) if rest.matches(n, text)]


def _narrow(keep: list[bool], *lists: list) -> list[list]:
    return [list(compress(values, keep)) for values in lists]


def visible_ids(tree, flt: HistoryFilter, texts: SearchTexts | None = None) -> tuple[set[str], set[str]]:
    """The nodes that match, and those to show: the matches with every ancestor (greyed by the views)."""
    matches = matching(tree, flt, texts)
    matched = {n.id for n in matches}
    if len(matched) == len(tree):
        return matched, set(matched)
    shown, get = set(matched), tree.get
    for node in matches:
        parent = node.parent
        while parent is not None and parent not in shown:
            shown.add(parent)
            parent = get(parent).parent
    return matched, shown
