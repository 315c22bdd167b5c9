"""The declared bounds on every function in src/: cyclomatic complexity at most 20 (radon's C) and 50 lines."""

from __future__ import annotations

import sys
from pathlib import Path

from radon.complexity import cc_visit
from radon.visitors import Class, Function

MAX_COMPLEXITY = 20  # issue 24: `radon cc -n D src` lists nothing
MAX_LINES = 50


def functions(blocks: list[Function | Class]) -> list[Function]:
    """Every function, method and closure radon found, nested ones included."""
    found: dict[tuple[int, str], Function] = {}  # radon lists a method under its class and again on its own
    for block in blocks:
        inner = block.methods if isinstance(block, Class) else block.closures
        for function in ([block] if isinstance(block, Function) else []) + functions(inner):
            found[(function.lineno, function.fullname)] = function
    return list(found.values())


def main(root: Path) -> int:
    over = []
    for path in sorted(root.rglob("*.py")):
        for block in functions(cc_visit(path.read_text(encoding="utf-8"))):
            lines = block.endline - block.lineno + 1
            if block.complexity > MAX_COMPLEXITY or lines > MAX_LINES:
                over.append(f"{path}:{block.lineno} {block.fullname}: complexity {block.complexity}, {lines} lines")
    print("\n".join(over) or f"every function in {root} within complexity {MAX_COMPLEXITY} and {MAX_LINES} lines")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "src")))
