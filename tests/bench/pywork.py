"""pywork.py — the pure-Python workload behind `make bench` (about 0.5-1 s native).

Dicts, string building, json round trips and list sorting: the allocation mix of an ordinary
Python program (many small objects from pymalloc, larger blocks straight from malloc). No
randomness, no time, no hash-order dependence: the output is the same on every run, so it can be
compared with and without a profiler.

Usage: python3 pywork.py [scale]   (default 1; the work grows linearly with it)
"""
import json
import sys


def make_records(n, seed):
    records = []
    x = seed
    for i in range(n):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        records.append({
            "id": i,
            "name": "user-%05d-%s" % (i, "abcdefghij"[x % 10] * (1 + x % 7)),
            "score": (x >> 8) % 10007,
            "tags": ["t%d" % ((x >> k) % 13) for k in range(0, 12, 3)],
            "attrs": {"a%02d" % k: (x >> k) & 0xff for k in range(40)},
            "text": " ".join("w%d" % ((x >> (k % 24)) % 97) for k in range(90 + x % 40)),
        })
    return records


def index_by_tag(records):
    by_tag = {}
    for r in records:
        for t in r["tags"]:
            by_tag.setdefault(t, []).append(r["id"])
    return by_tag


def word_counts(records):
    counts = {}
    for r in records:
        for part in r["name"].split("-"):
            counts[part] = counts.get(part, 0) + 1
    return counts


def text_stats(records):
    """Sorted word lists per record: list item arrays and strings big enough for malloc."""
    total = 0
    for r in records:
        words = sorted(r["text"].split())
        total += len(words[0]) + len(words[-1]) + len(sorted(r["attrs"].values(), reverse=True))
    return total


def main():
    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    n = int(5000 * scale)
    digest = 0
    for rnd in range(3):
        records = make_records(n, 12345 + rnd)
        text = json.dumps(records, sort_keys=True)
        back = json.loads(text)
        back.sort(key=lambda r: (r["score"], r["name"]))
        by_tag = index_by_tag(back)
        counts = word_counts(back)
        ts = text_stats(back)
        top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        lines = ["%s:%d" % (t, len(ids)) for t, ids in sorted(by_tag.items())]
        report = ";".join(lines)
        digest = (digest * 31 + len(text) + ts + sum(r["score"] for r in back[:100])) % 1000000007
        print("round %d: %d records, %d json bytes, first %s, top %s, tags %s"
              % (rnd, len(back), len(text), back[0]["name"], top, report[:60]))
    print("digest %d" % digest)


if __name__ == "__main__":
    main()
