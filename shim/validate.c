/* validate.c — libunwind checks memory without holding a file descriptor of the program's.
 *
 * Where a frame has no unwind information, libunwind (1.6, src/x86_64/Ginit.c) walks the frame
 * pointer chain and first checks that each address it will read is mapped and readable: mincore
 * or msync, then a one-byte write(2) from that address into a pipe it keeps open for the life of
 * the process. That pipe took fds 3 and 4 of every traced program (it is made when libunwind
 * initialises), and when the program closed them (daemons close every descriptor), libunwind's
 * next check saw read() fail, closed 3 and 4 again -- by then the program's own files -- and
 * reopened its pipe on whatever numbers were free.
 *
 * libunwind has no switch for this, and Debian ships no position-independent libunwind.a that
 * could be linked in with its calls redirected (-Wl,--wrap). So at start, before libunwind
 * initialises, we point four entries of libunwind.so's own import table (its GOT) at the
 * functions below; the program's own calls to pipe2, read, write and syscall are not touched:
 *   - pipe2() makes no pipe: both ends are -1, so libunwind holds no descriptor and never closes
 *     one (it closes only ends that are not -1);
 *   - read(-1) says EAGAIN (an empty pipe), so libunwind never asks for a new pipe;
 *   - write(-1, addr, 1), its readability probe (syscall(SYS_write, ...) in upstream's code),
 *     becomes process_vm_readv() of that one byte from our own process: the kernel copies it
 *     or says EFAULT, as the write would.
 *     Where process_vm_readv is refused (a seccomp filter may forbid it) the probe falls back to
 *     a pipe made for that one check and closed at once: a descriptor in the program's range
 *     then exists only inside an unwind, never between the shim's operations. Any other
 *     read(), write() or syscall() goes to the C library unchanged.
 * If the entries cannot be found or written, libunwind keeps its pipe (as before); the README's
 * Limits says so.
 *
 * Both replacements are async-signal-safe and allocate nothing. pp_validate_init runs once, in
 * pp_start, before anything calls libunwind.
 */
#define _GNU_SOURCE
#define UNW_LOCAL_ONLY
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <libunwind.h>
#include <link.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "shim.h"

#define NO_PIPE (-1)

static int no_pipe2(int fds[2], int flags)
{
    (void)flags;
    fds[0] = fds[1] = NO_PIPE;
    return 0;
}

/* 1 once process_vm_readv was refused: then the one-check pipe. */
static atomic_int vm_readv_refused;

/* 1 when the byte at addr can be read. */
static int readable(const void *addr)
{
    char byte;
    if (!atomic_load_explicit(&vm_readv_refused, memory_order_relaxed)) {
        struct iovec local = {&byte, 1}, remote = {(void *)addr, 1};
        if (process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == 1)
            return 1;
        if (errno == EFAULT)
            return 0;
        atomic_store_explicit(&vm_readv_refused, 1, memory_order_relaxed);
    }
    int p[2];
    if (pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0)
        return 0; /* cannot tell: unreadable, and the unwind stops at this frame */
    ssize_t w;
    do
        w = write(p[1], addr, 1);
    while (w < 0 && errno == EINTR);
    close(p[0]);
    close(p[1]);
    return w == 1;
}

/* libunwind first drains the pipe with read(); for our non-pipe "nothing to read" (EAGAIN) is
 * what keeps it from asking for a new pipe, at no cost. */
static ssize_t draining_read(int fd, void *buf, size_t n)
{
    if (fd == NO_PIPE) {
        errno = EAGAIN;
        return -1;
    }
    return read(fd, buf, n);
}

/* Debian's libunwind 1.6 probes with write() itself; upstream's code with syscall(SYS_write). */
static ssize_t probing_write(int fd, const void *buf, size_t n)
{
    if (fd == NO_PIPE && n == 1) {
        if (readable(buf))
            return 1;
        errno = EFAULT;
        return -1;
    }
    return write(fd, buf, n);
}

static long probing_syscall(long number, ...)
{
    va_list ap;
    va_start(ap, number);
    long a[6];
    for (int i = 0; i < 6; i++)
        a[i] = va_arg(ap, long);
    va_end(ap);
    if (number == SYS_write)
        return probing_write((int)a[0], (const void *)a[1], (size_t)a[2]);
    return syscall(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}

/* ---- finding and rewriting libunwind's import slots ---- */

struct patch {
    uintptr_t inside; /* an address inside libunwind's code */
    int done;         /* slots rewritten */
};

/* The dynamic section's pointers: relocated in place by some loaders, not by others. */
static uintptr_t dyn_ptr(uintptr_t bias, uintptr_t v)
{
    return v < bias ? bias + v : v;
}

static void rewrite(uintptr_t slot, void *to, const struct dl_phdr_info *info)
{
    uintptr_t page = slot & ~(uintptr_t)4095;
    int relro = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_GNU_RELRO && slot >= lo && slot < lo + ph->p_memsz)
            relro = 1;
    }
    /* A slot under full RELRO is read-only once relocated: open it for this one store. */
    if (relro && mprotect((void *)page, 4096, PROT_READ | PROT_WRITE) != 0)
        return;
    __atomic_store_n((void **)slot, to, __ATOMIC_RELEASE);
    if (relro)
        mprotect((void *)page, 4096, PROT_READ);
}

static void patch_table(const struct dl_phdr_info *info, const ElfW(Rela) *rela, size_t bytes,
                        const ElfW(Sym) *symtab, const char *strtab, struct patch *p)
{
    for (size_t i = 0; i < bytes / sizeof *rela; i++) {
        unsigned type = ELF64_R_TYPE(rela[i].r_info);
        if (type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT)
            continue;
        const char *name = strtab + symtab[ELF64_R_SYM(rela[i].r_info)].st_name;
        void *to = !strcmp(name, "pipe2")     ? (void *)no_pipe2
                   : !strcmp(name, "read")    ? (void *)draining_read
                   : !strcmp(name, "write")   ? (void *)probing_write
                   : !strcmp(name, "syscall") ? (void *)probing_syscall
                                              : NULL;
        if (to) {
            rewrite(info->dlpi_addr + rela[i].r_offset, to, info);
            p->done++;
        }
    }
}

static int on_object(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct patch *p = arg;
    const ElfW(Dyn) *dyn = NULL;
    int contains = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && p->inside >= lo && p->inside < lo + ph->p_memsz)
            contains = 1;
        if (ph->p_type == PT_DYNAMIC)
            dyn = (const ElfW(Dyn) *)lo;
    }
    if (!contains || !dyn)
        return 0;
    uintptr_t bias = info->dlpi_addr, jmprel = 0, rela = 0, symtab = 0, strtab = 0;
    size_t jmprel_bytes = 0, rela_bytes = 0;
    for (; dyn->d_tag != DT_NULL; dyn++) {
        switch (dyn->d_tag) {
        case DT_JMPREL: jmprel = dyn_ptr(bias, dyn->d_un.d_ptr); break;
        case DT_PLTRELSZ: jmprel_bytes = dyn->d_un.d_val; break;
        case DT_RELA: rela = dyn_ptr(bias, dyn->d_un.d_ptr); break;
        case DT_RELASZ: rela_bytes = dyn->d_un.d_val; break;
        case DT_SYMTAB: symtab = dyn_ptr(bias, dyn->d_un.d_ptr); break;
        case DT_STRTAB: strtab = dyn_ptr(bias, dyn->d_un.d_ptr); break;
        }
    }
    if (!symtab || !strtab)
        return 1;
    if (jmprel)
        patch_table(info, (const ElfW(Rela) *)jmprel, jmprel_bytes,
                    (const ElfW(Sym) *)symtab, (const char *)strtab, p);
    if (rela)
        patch_table(info, (const ElfW(Rela) *)rela, rela_bytes, (const ElfW(Sym) *)symtab,
                    (const char *)strtab, p);
    return 1;
}

int pp_validate_init(void)
{
    struct patch p = {(uintptr_t)&unw_backtrace, 0};
    dl_iterate_phdr(on_object, &p);
    return p.done;
}
