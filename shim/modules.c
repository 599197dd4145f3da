/* modules.c — the module map: which file was mapped where, with its build-id.
 *
 * The analyzer symbolizes offline, so the trace must say, for every address in a stack, which
 * file it came from and at which load bias. We scan dl_iterate_phdr at start, whenever a new
 * stack has an address outside every known module (something was dlopen'ed), and before
 * writing. Modules are never forgotten, so code that was dlclose'd before exit still
 * symbolizes. The list is append-only (head insertion, release-published): readers take no lock;
 * the lock only serialises insertions.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <link.h>
#include <string.h>

#include "shim.h"

static _Atomic(struct pp_module *) head;
static pp_spinlock lock;
static uintptr_t self_lo, self_hi;

struct pp_module *pp_modules_list(void)
{
    return atomic_load_explicit(&head, memory_order_acquire);
}

int pp_modules_self_contains(uintptr_t ip)
{
    return ip >= self_lo && ip < self_hi;
}

int pp_modules_cover(uintptr_t ip)
{
    for (struct pp_module *m = pp_modules_list(); m; m = m->next)
        if (ip >= m->lo && ip < m->hi)
            return 1;
    return 0;
}

const unsigned char *pp_modules_build_id(const struct dl_phdr_info *info, uint32_t *len)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE)
            continue;
        const unsigned char *p = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
        const unsigned char *end = p + ph->p_memsz;
        while (p + sizeof(ElfW(Nhdr)) <= end) {
            const ElfW(Nhdr) *n = (const ElfW(Nhdr) *)p;
            const unsigned char *name = p + sizeof *n;
            const unsigned char *desc = name + ((n->n_namesz + 3) & ~3u);
            const unsigned char *next = desc + ((n->n_descsz + 3) & ~3u);
            if (next > end)
                break;
            if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 && !memcmp(name, "GNU", 4)) {
                *len = n->n_descsz;
                return desc;
            }
            p = next;
        }
    }
    return NULL;
}

static void read_build_id(const struct dl_phdr_info *info, struct pp_module *m)
{
    uint32_t len;
    const unsigned char *id = pp_modules_build_id(info, &len);
    if (id && len <= sizeof m->build_id) {
        memcpy(m->build_id, id, len);
        m->build_id_len = len;
    }
}

static int known(uint64_t lo, const char *path)
{
    for (struct pp_module *m = pp_modules_list(); m; m = m->next)
        if (m->lo == lo && !strcmp(m->path, path))
            return 1;
    return 0;
}

static int on_object(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    int *first = arg;
    uint64_t lo = UINT64_MAX, hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uint64_t a = info->dlpi_addr + ph->p_vaddr;
        if (a < lo)
            lo = a;
        if (a + ph->p_memsz > hi)
            hi = a + ph->p_memsz;
    }
    /* The first object is the main program; the loader names it "". */
    const char *path = info->dlpi_name;
    if (*first && (!path || !*path) && pp_process.exe)
        path = pp_process.exe;
    *first = 0;
    if (!path)
        path = "";
    if (lo >= hi)
        return 0;
    uintptr_t probe = (uintptr_t)&pp_modules_init;
    if (probe >= lo && probe < hi && (self_lo != lo || self_hi != hi)) {
        self_lo = lo;
        self_hi = hi;
    }
    /* The rescan before every write finds the modules it knows: it reads, and writes no page
     * a forked child shares with its parent (the lock's included) unless a module is new. */
    if (known(lo, path))
        return 0;
    pp_spin_lock(&lock);
    if (known(lo, path)) {
        pp_spin_unlock(&lock);
        return 0;
    }
    struct pp_module *m = pp_arena_alloc(sizeof *m);
    size_t len = strlen(path);
    char *copy = pp_arena_alloc(len + 1);
    if (!m || !copy) {
        pp_spin_unlock(&lock);
        return 1; /* out of memory: stop the scan; those addresses stay unsymbolized */
    }
    memcpy(copy, path, len + 1);
    m->bias = info->dlpi_addr;
    m->lo = lo;
    m->hi = hi;
    m->path = copy;
    read_build_id(info, m);
    m->next = atomic_load_explicit(&head, memory_order_relaxed);
    atomic_store_explicit(&head, m, memory_order_release);
    pp_spin_unlock(&lock);
    return 0;
}

void pp_modules_scan(void)
{
    /* No lock of ours may be held across dl_iterate_phdr: it takes the loader's lock, and a
     * thread inside dlopen holding that lock may be waiting in our malloc hook. */
    int first = 1;
    dl_iterate_phdr(on_object, &first);
}

void pp_modules_init(void)
{
    pp_modules_scan();
}
