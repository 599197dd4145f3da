/* robust_dlopen.c — loads, uses and unloads a plugin over and over.
 *
 * robust_dlopen LIB ITER K [deepbind]
 *     ITER times: dlopen(LIB, RTLD_NOW | RTLD_LOCAL [| RTLD_DEEPBIND]), call its
 *     `unsigned long plugin_work(unsigned k)` (the plugin the tests build allocates k blocks
 *     and frees them), dlclose. Prints the sum of the results and whether the plugin really was
 *     unloaded each time (dlopen RTLD_NOLOAD finds it gone).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: robust_dlopen LIB ITER K [deepbind]\n");
        return 2;
    }
    int flags = RTLD_NOW | RTLD_LOCAL;
    if (argc > 4 && !strcmp(argv[4], "deepbind"))
        flags |= RTLD_DEEPBIND;
    unsigned long iter = strtoul(argv[2], NULL, 10), sum = 0, unloaded = 0;
    unsigned k = (unsigned)strtoul(argv[3], NULL, 10);
    for (unsigned long i = 0; i < iter; i++) {
        void *h = dlopen(argv[1], flags);
        if (!h) {
            fprintf(stderr, "robust_dlopen: %s\n", dlerror());
            return 1;
        }
        unsigned long (*work)(unsigned);
        *(void **)&work = dlsym(h, "plugin_work");
        if (!work) {
            fprintf(stderr, "robust_dlopen: %s\n", dlerror());
            return 1;
        }
        sum += work(k);
        dlclose(h);
        void *again = dlopen(argv[1], RTLD_NOW | RTLD_NOLOAD);
        if (again)
            dlclose(again);
        else
            unloaded++;
    }
    printf("dlopen: iterations=%lu sum=%lu unloaded=%lu\n", iter, sum, unloaded);
    return 0;
}
