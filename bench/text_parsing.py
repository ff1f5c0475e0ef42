"""Time reading settings text and prompts from pictures (issue 17): the A1111 parameters reader and the prompt
parser on texts that used to take quadratic time, and the refusal of a 10 MB text.

    .venv/bin/python bench/text_parsing.py [--repeats 3]

Prints one line per case: the text, its length and the best time of the repeats.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from desktop.core.errors import RestyleError
from desktop.core.metadata import parse_parameters_text
from desktop.core.prompt_syntax import parse_prompt

PARAMETERS = {
    "60 KB of words, no settings line": "a prompt\n" + "word " * 12_000,
    "60 KB of 'a b '": "a prompt\n" + "a b " * 15_000,
    "60 KB of '-x'": "a prompt\n" + "-x" * 30_000,
    "10 MB (refused)": "a prompt\n" + "x" * 10_000_000,
}
PROMPTS = {
    "60 K unclosed '('": "(" * 60_000,
    "12 K '(cat)'": "(cat)" * 12_000,
    "20 K 'a+)'": "a+)" * 20_000,
    "60 KB of words": "a castle, " * 6_000,
}


def best(call, text: str, repeats: int) -> float:
    """The fastest of ``repeats`` calls, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        with contextlib.suppress(RestyleError):
            call(text)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    for kind, call, cases in (("parameters", parse_parameters_text, PARAMETERS), ("prompt", parse_prompt, PROMPTS)):
        for name, text in cases.items():
            ms = best(call, text, args.repeats) * 1000
            print(f"{kind:11} {name:34} {len(text):>10,} chars  {ms:8.1f} ms")


if __name__ == "__main__":
    main()
