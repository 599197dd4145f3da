/* arena_counted.h — for a unit test that includes a shim table's source: arena_bytes counts what
 * the table takes from the arena, at the size class the arena carves (a request past the
 * largest class is mapped pages of its own and not counted). Include it after
 * ../../shim/arena.c and right before the table's .c, then #undef pp_arena_alloc.
 */
static uint64_t arena_bytes;
static void *counted_alloc(size_t size)
{
    if (size <= MAX_BYTES)
        arena_bytes += class_bytes(size_class(size));
    return pp_arena_alloc(size);
}
#define pp_arena_alloc counted_alloc
