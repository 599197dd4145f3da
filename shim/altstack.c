/* altstack.c — the shim's deep work runs on a stack of its own, not on the program's.
 *
 * A hook runs on whatever stack the program called malloc from, and threads may have small
 * ones (coroutines on 16-64 KiB makecontext stacks, musl's 128 KiB default). The hot path (the
 * frame cache or the site walk hits) takes a few hundred bytes there. Some paths need far more:
 * a frame-cache miss (libunwind's cursor, context and DWARF state, our ips buffer, the stack
 * table; it took 9 KiB of a coroutine's stack before this file), in site mode a site walk that
 * must learn from libunwind and a sampled full unwind, and the periodic snapshot (the writer's
 * paths and encoder). All run here instead, on a per-thread stack of ALT_BYTES mapped on first
 * use, with a guard page below it; the deepest use measured here was 10,024 bytes (cppcheck,
 * python3 and tests/workloads/host_stack with a snapshot every 0.1 ms, before site mode), so a
 * signal handler that lands here has over 50 KiB. The program's stack only holds the frames
 * down to the switch: 496 bytes below the caller of malloc in the worst case measured, in site
 * mode (tests/t_host_stack.sh).
 *
 * The switch (pp_altstack_switch, below) copies its own return address and the caller's frame
 * pointer to the top of the new stack and points the frame pointer at that copy, so the CFI of
 * an ordinary frame-pointer frame describes it: libunwind, started on the new stack, walks on
 * into the shim's frames on the program's stack (all built with frame pointers, so their CFA is
 * rbp + 16 whatever the stack pointer was) and from there into the program's, on its fast path.
 *
 * A signal that arrives while a thread is on this stack runs its handler here (unless the
 * program gave it a sigaltstack): ALT_BYTES leaves room for that. If the stack cannot be mapped,
 * the work runs on the program's stack as before. Not reentrant per thread, and it need not be:
 * the thread's busy flag keeps nested hooks out of the shim.
 */
#define _GNU_SOURCE
#include <sys/mman.h>

#include "shim.h"

/* Under valgrind, a stack switch it was not told about looks like a 2 MiB frame: every access
 * then reports. Registering the stack is a few no-op instructions when not under valgrind. */
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#else
#define VALGRIND_STACK_REGISTER(lo, hi) ((void)(lo), (void)(hi), 0u)
#define VALGRIND_STACK_DEREGISTER(id) ((void)(id))
#endif

#define ALT_BYTES (64u << 10)
#define GUARD_BYTES 4096u

/* pp_altstack_switch(top, fn, arg): calls fn(arg) with the stack pointer just below top (16-byte
 * aligned), returns on the original stack. */
void pp_altstack_switch(void *top, void (*fn)(void *), void *arg);
__asm__(".text\n"
        ".globl pp_altstack_switch\n"
        ".hidden pp_altstack_switch\n"
        ".type pp_altstack_switch, @function\n"
        "pp_altstack_switch:\n"
        "    .cfi_startproc\n"
        "    push %rbp\n"
        "    .cfi_def_cfa_offset 16\n"
        "    .cfi_offset %rbp, -16\n"
        "    mov %rsp, %rbp\n"
        "    .cfi_def_cfa_register %rbp\n"
        /* The new stack's top: [top-8] our return address, [top-16] the caller's rbp (so CFA =
         * rbp + 16 still holds once rbp = top - 16), [top-24] our real rbp, to come back. */
        "    mov 8(%rbp), %rax\n"
        "    mov %rax, -8(%rdi)\n"
        "    mov (%rbp), %rax\n"
        "    mov %rax, -16(%rdi)\n"
        "    mov %rbp, -24(%rdi)\n"
        "    lea -16(%rdi), %rbp\n"
        "    lea -32(%rdi), %rsp\n"
        "    mov %rdx, %rdi\n"
        "    call *%rsi\n"
        "    mov -8(%rbp), %rbp\n"
        "    mov %rbp, %rsp\n"
        "    pop %rbp\n"
        "    .cfi_def_cfa %rsp, 8\n"
        "    ret\n"
        "    .cfi_endproc\n"
        ".size pp_altstack_switch, .-pp_altstack_switch\n");

void pp_altstack_run(struct pp_thread *t, void (*fn)(void *), void *arg)
{
    if (PP_UNLIKELY(!t->altstack) && !t->altstack_failed && !t->exiting) {
        unsigned char *map = pp_arena_map(GUARD_BYTES + ALT_BYTES);
        if (map && mprotect(map, GUARD_BYTES, PROT_NONE) == 0) {
            t->altstack = map;
            t->altstack_id = VALGRIND_STACK_REGISTER(map + GUARD_BYTES,
                                                     map + GUARD_BYTES + ALT_BYTES);
        } else {
            if (map)
                pp_arena_unmap(map, GUARD_BYTES + ALT_BYTES);
            t->altstack_failed = 1;
        }
    }
    if (!t->altstack || t->on_altstack) {
        fn(arg);
        return;
    }
    t->on_altstack = 1;
    pp_altstack_switch((unsigned char *)t->altstack + GUARD_BYTES + ALT_BYTES, fn, arg);
    t->on_altstack = 0;
}

void pp_altstack_release(struct pp_thread *t)
{
    if (t->altstack) {
        VALGRIND_STACK_DEREGISTER(t->altstack_id);
        pp_arena_unmap(t->altstack, GUARD_BYTES + ALT_BYTES);
    }
    t->altstack = NULL;
}
