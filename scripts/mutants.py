#!/usr/bin/env python3
"""mutants.py — one-token mutants of C sources, for scripts/mutate.sh.

    mutants.py list FILE...            every mutant, one a line: FILE:LINE:COL<TAB>OLD<TAB>NEW
    mutants.py apply FILE LINE COL OLD NEW   print FILE with that one change made

A mutant is a single small change a real bug could be: a comparison flipped (< to <=, == to
!=, ...), && and || swapped, + and - swapped, a decimal constant moved by one, the operands of
a binary minus swapped, or a whole expression statement removed (an assignment, increment or
call on a line of its own). Comments, strings, character literals and preprocessor lines other
than #define are never touched, so almost every mutant compiles. No mutant is applied to the
working tree by this script: apply prints to stdout and mutate.sh writes it into a scratch copy.
"""
import re
import sys

TOKEN = re.compile(r"""
    (?P<comment>/\*.*?\*/|//[^\n]*)
  | (?P<string>"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')
  | (?P<number>\b(?:0[xX][0-9a-fA-F]+|\d+)(?:[uUlL]*)\b)
  | (?P<ident>[A-Za-z_]\w*)
  | (?P<op><<=|>>=|->|\+\+|--|&&|\|\||<<|>>|<=|>=|==|!=|[-+*/%<>=!&|^~?:;,.(){}\[\]])
  | (?P<space>\s+)
  | (?P<other>.)
""", re.S | re.X)

FLIPS = {"<": ["<="], "<=": ["<"], ">": [">="], ">=": [">"], "==": ["!="], "!=": ["=="],
         "&&": ["||"], "||": ["&&"]}
# An operand for swapping: an identifier with member accesses, or a number.
OPERAND = re.compile(r"[A-Za-z_][\w]*(?:(?:->|\.)[A-Za-z_]\w*)*$|\d+$")
STATEMENT = re.compile(r"""^(\s{4,})(?:
      [A-Za-z_][\w.>\-\[\]]*\s*(?:\+\+|--|[-+*/|&^]?=(?!=))[^;]*;   # assignment, increment
    | (?:\+\+|--)[A-Za-z_][\w.>\-]*;                                 # ++x;
    | [A-Za-z_]\w*\([^;]*\);                                        # a call
)\s*$""", re.X)
DECLARATION = re.compile(r"^\s*(?:static|const|struct|enum|unsigned|signed|int|char|long|short|"
                         r"double|float|bool|size_t|ssize_t|uint\w*|int\w*|u?int\d+_t|void|"
                         r"json_t|FILE)\b")


def tokens(text):
    """(kind, value, offset) of every token outside comments, strings and #-lines but #define."""
    out = []
    line_start, skip_line, previous = True, False, ""
    for m in TOKEN.finditer(text):
        kind, value = m.lastgroup, m.group()
        if kind == "space":
            if "\n" in value and previous != "\\":
                line_start, skip_line = True, False
            continue
        previous = value
        if line_start and value == "#":
            skip_line = not text[m.end():m.end() + 20].lstrip().startswith("define")
        line_start = False
        if skip_line or kind in ("comment", "string") or value == "\\":
            continue
        out.append((kind, value, m.start()))
    return out


def position(text, offset):
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, col


def binary(toks, i):
    """Is toks[i] (+ or -) a binary operator? Its left neighbour must end an operand."""
    if i == 0:
        return False
    kind, value, _ = toks[i - 1]
    if value in ("return", "case", "sizeof"):
        return False
    return kind in ("ident", "number") or value in (")", "]")


def mutants(path):
    text = open(path).read()
    toks = tokens(text)
    found = []

    def add(offset, old, new):
        line, col = position(text, offset)
        found.append((line, col, old, new))

    for i, (kind, value, off) in enumerate(toks):
        if kind == "op" and value in FLIPS:
            for new in FLIPS[value]:
                add(off, value, new)
        elif kind == "op" and value in ("+", "-") and binary(toks, i):
            add(off, value, "-" if value == "+" else "+")
            # a - b -> b - a, when both sides are single operands on the same line
            if value == "-" and i + 1 < len(toks):
                left, right = toks[i - 1], toks[i + 1]
                if (OPERAND.match(left[1]) and OPERAND.match(right[1]) and
                        (i < 2 or toks[i - 2][1] not in ("->", ".")) and
                        (i + 2 >= len(toks) or toks[i + 2][1] not in ("->", ".", "(", "["))):
                    old = text[left[2]:right[2] + len(right[1])]
                    if "\n" not in old:
                        add(left[2], old, f"{right[1]} - {left[1]}")
        elif kind == "number" and re.fullmatch(r"\d+[uUlL]*", value):
            digits = re.match(r"\d+", value).group()
            suffix = value[len(digits):]
            n = int(digits)
            # array bounds in declarations mostly just fail to build; shifts are kept
            add(off, value, f"{n + 1}{suffix}")
            if n > 0:
                add(off, value, f"{n - 1}{suffix}")
    # Whole statements, line by line (outside comments: the line must hold a token).
    starts = {position(text, off)[0] for _, _, off in toks}
    lines = text.split("\n")
    for n, line in enumerate(lines, 1):
        # A line continuing the one above (which does not end a statement or open a block) is
        # part of a longer statement: removing it alone would not build.
        above = lines[n - 2].rstrip() if n > 1 else ""
        continued = above and not above.endswith((";", "{", "}", ":", "*/")) and \
            not re.match(r"\s*(?:#|//|if\b|for\b|while\b|else\b)", above)
        if n in starts and not continued and STATEMENT.match(line) and \
                not DECLARATION.match(line) and not line.strip().startswith("return"):
            indent = len(line) - len(line.lstrip())
            found.append((n, indent + 1, line.strip(), ";"))
    return found


def apply(path, line, col, old, new):
    lines = open(path).read().split("\n")
    text = lines[line - 1]
    at = col - 1
    if text[at:at + len(old)] != old:
        sys.exit(f"mutants.py: {path}:{line}:{col}: expected {old!r}")
    lines[line - 1] = text[:at] + new + text[at + len(old):]
    sys.stdout.write("\n".join(lines))


def main(argv):
    if len(argv) >= 2 and argv[0] == "list":
        for path in argv[1:]:
            for line, col, old, new in mutants(path):
                print(f"{path}:{line}:{col}\t{old}\t{new}")
        return 0
    if len(argv) == 6 and argv[0] == "apply":
        apply(argv[1], int(argv[2]), int(argv[3]), argv[4], argv[5])
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
