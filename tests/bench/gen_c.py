"""gen_c.py — write the C file that `make bench` feeds to cppcheck (a static analyzer is a
C++ program that allocates heavily: tokens, symbol tables, value-flow lists).

The file is a few thousand lines of varied, valid C: structs and their accessors, loops over
arrays, switch-heavy parsers, string handling, small state machines and linked lists, repeated
with different names and constants. Deterministic: the same arguments give the same bytes.

Usage: python3 gen_c.py [functions-per-kind (default 60)] > big.c
"""
import sys

KINDS = []


def kind(fn):
    KINDS.append(fn)
    return fn


@kind
def struct_accessors(i):
    return """
struct rec%(i)d {
    int id;
    long total;
    char name[%(n)d];
    struct rec%(i)d *next;
};

static int rec%(i)d_sum(const struct rec%(i)d *head, int limit)
{
    int sum = 0, k = 0;
    for (const struct rec%(i)d *r = head; r && k < limit; r = r->next, k++) {
        if (r->id %% %(m)d == 0)
            sum += (int)(r->total & 0xff);
        else
            sum -= r->id;
    }
    return sum;
}

static struct rec%(i)d *rec%(i)d_new(int id, const char *name)
{
    struct rec%(i)d *r = malloc(sizeof *r);
    if (!r)
        return NULL;
    r->id = id;
    r->total = (long)id * %(m)d;
    strncpy(r->name, name, sizeof r->name - 1);
    r->name[sizeof r->name - 1] = 0;
    r->next = NULL;
    return r;
}
""" % {"i": i, "n": 8 + i % 24, "m": 3 + i % 11}


@kind
def array_loops(i):
    return """
static double stats%(i)d(const double *v, size_t n, double *out_var)
{
    double mean = 0, m2 = 0;
    size_t k;
    for (k = 0; k < n; k++) {
        double d = v[k] - mean;
        mean += d / (double)(k + 1);
        m2 += d * (v[k] - mean);
    }
    if (out_var)
        *out_var = n > 1 ? m2 / (double)(n - 1) : 0.0;
    return mean;
}

static int histogram%(i)d(const int *v, int n, int buckets[%(b)d])
{
    int overflow = 0;
    for (int k = 0; k < %(b)d; k++)
        buckets[k] = 0;
    for (int k = 0; k < n; k++) {
        int b = v[k] / %(w)d;
        if (b >= 0 && b < %(b)d)
            buckets[b]++;
        else
            overflow++;
    }
    return overflow;
}
""" % {"i": i, "b": 4 + i % 13, "w": 5 + i % 17}


@kind
def parser(i):
    cases = "\n".join(
        "        case '%s': state = %d; acc = acc * %d + %d; break;" % (c, (j + i) % 5, 3 + j, j)
        for j, c in enumerate("abcdefghij"[: 4 + i % 7]))
    return """
static int parse%(i)d(const char *s, int *err)
{
    int state = 0, acc = 0;
    *err = 0;
    for (; *s; s++) {
        switch (*s) {
%(cases)s
        case ' ':
            if (state == 4)
                return acc;
            break;
        default:
            if (*s >= '0' && *s <= '9')
                acc = acc * 10 + (*s - '0');
            else {
                *err = (int)(unsigned char)*s;
                return -1;
            }
        }
    }
    return state == %(fin)d ? acc : -acc;
}
""" % {"i": i, "cases": cases, "fin": i % 5}


@kind
def strings(i):
    return """
static char *join%(i)d(const char *const *parts, int n, char sep)
{
    size_t len = 1;
    for (int k = 0; k < n; k++)
        len += strlen(parts[k]) + 1;
    char *out = malloc(len);
    if (!out)
        return NULL;
    char *p = out;
    for (int k = 0; k < n; k++) {
        size_t l = strlen(parts[k]);
        memcpy(p, parts[k], l);
        p += l;
        if (k + 1 < n)
            *p++ = sep;
    }
    *p = 0;
    return out;
}

static int count_words%(i)d(const char *s)
{
    int n = 0, in_word = 0;
    char buf[%(b)d];
    snprintf(buf, sizeof buf, "%%s", s);
    for (const char *p = buf; *p; p++) {
        if (isspace((unsigned char)*p))
            in_word = 0;
        else if (!in_word) {
            in_word = 1;
            n++;
        }
    }
    return n;
}
""" % {"i": i, "b": 32 + 16 * (i % 5)}


@kind
def state_machine(i):
    return """
enum st%(i)d { ST%(i)d_IDLE, ST%(i)d_RUN, ST%(i)d_WAIT, ST%(i)d_DONE };

struct machine%(i)d {
    enum st%(i)d state;
    int ticks;
    int budget;
};

static enum st%(i)d step%(i)d(struct machine%(i)d *m, int input)
{
    switch (m->state) {
    case ST%(i)d_IDLE:
        if (input > %(t)d)
            m->state = ST%(i)d_RUN;
        break;
    case ST%(i)d_RUN:
        m->ticks++;
        if (m->ticks > m->budget)
            m->state = ST%(i)d_WAIT;
        else if (input < 0)
            m->state = ST%(i)d_DONE;
        break;
    case ST%(i)d_WAIT:
        if (input == 0)
            m->state = ST%(i)d_RUN, m->ticks = 0;
        break;
    case ST%(i)d_DONE:
        break;
    }
    return m->state;
}

static int drive%(i)d(const int *inputs, int n)
{
    struct machine%(i)d m = { ST%(i)d_IDLE, 0, %(b)d };
    int k;
    for (k = 0; k < n && step%(i)d(&m, inputs[k]) != ST%(i)d_DONE; k++)
        ;
    return k;
}
""" % {"i": i, "t": i % 9, "b": 10 + i % 50}


@kind
def list_ops(i):
    return """
struct node%(i)d {
    int key;
    struct node%(i)d *left, *right;
};

static struct node%(i)d *insert%(i)d(struct node%(i)d *root, int key)
{
    if (!root) {
        struct node%(i)d *n = calloc(1, sizeof *n);
        if (n)
            n->key = key;
        return n;
    }
    if (key < root->key)
        root->left = insert%(i)d(root->left, key);
    else if (key > root->key)
        root->right = insert%(i)d(root->right, key);
    return root;
}

static int depth%(i)d(const struct node%(i)d *n)
{
    if (!n)
        return 0;
    int l = depth%(i)d(n->left), r = depth%(i)d(n->right);
    return 1 + (l > r ? l : r);
}

static void release%(i)d(struct node%(i)d *n)
{
    if (!n)
        return;
    release%(i)d(n->left);
    release%(i)d(n->right);
    free(n);
}

int tree_demo%(i)d(int n)
{
    struct node%(i)d *root = NULL;
    for (int k = 0; k < n; k++)
        root = insert%(i)d(root, (k * %(m)d) %% 1009);
    int d = depth%(i)d(root);
    release%(i)d(root);
    return d;
}
""" % {"i": i, "m": 7 + 2 * (i % 40)}


def main():
    per_kind = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    out = ["/* generated by tests/bench/gen_c.py %d */" % per_kind,
           "#include <ctype.h>", "#include <stdio.h>", "#include <stdlib.h>",
           "#include <string.h>", ""]
    for i in range(per_kind):
        for fn in KINDS:
            out.append(fn(i))
    # One caller per index so nothing is unused and value flow has something to follow.
    out.append("int bench_main(void);\nint bench_main(void)\n{\n    int total = 0, err = 0;")
    out.append("    static const int inputs[] = { 3, 9, 1, 0, -1 };")
    out.append("    static const double v[] = { 1.0, 2.5, 4.0 };")
    out.append("    int buckets[32];")
    for i in range(per_kind):
        out.append("    total += parse%d(\"ab12 \", &err) + err;" % i)
        out.append("    total += drive%d(inputs, 5) + tree_demo%d(%d);" % (i, i, 10 + i))
        out.append("    total += histogram%d(inputs, 5, buckets) + (int)stats%d(v, 3, NULL);"
                   % (i, i))
        out.append("    total += count_words%d(\"a b c\");" % i)
        out.append("    { struct rec%d *r = rec%d_new(%d, \"x\"); total += rec%d_sum(r, 4); free(r); }"
                   % (i, i, i, i))
        out.append("    { const char *p[] = { \"a\", \"b\" }; char *j = join%d(p, 2, ','); "
                   "total += j ? (int)strlen(j) : 0; free(j); }" % i)
    out.append("    return total;\n}")
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
