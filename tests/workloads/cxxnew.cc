// cxxnew.cc — C++ new/delete: the allocation site is the C++ function, not operator new.
//
// make_widget does `new Widget` (48 bytes) N times; main deletes each one at once. new reaches
// malloc through libstdc++'s operator new, which the analyzer must skip: the site's frames[0] is
// make_widget(unsigned long) (demangled). Expected: allocs N, frees N, size min = max = 48.
//
// Usage: cxxnew [N]   (default 100000). Prints one deterministic line.
#include <cstdint>
#include <cstdio>
#include <cstdlib>

struct Widget {
    std::uint64_t id;
    double weight[5];
    explicit Widget(std::uint64_t i) : id(i), weight{1.0 * i, 2.0, 3.0, 4.0, 5.0} {}
};
static_assert(sizeof(Widget) == 48, "make_widget is a 48-byte site");

static inline void escape(void *p)
{
    __asm__ volatile("" : : "g"(p) : "memory");
}

__attribute__((noinline)) Widget *make_widget(unsigned long i)
{
    return new Widget(i);
}

__attribute__((noinline)) void destroy_widget(Widget *w)
{
    delete w;
}

int main(int argc, char **argv)
{
    unsigned long n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 100000;
    std::uint64_t sum = 0;
    for (unsigned long i = 0; i < n; i++) {
        Widget *w = make_widget(i);
        escape(w);
        sum += w->id + static_cast<std::uint64_t>(w->weight[1]);
        destroy_widget(w);
    }
    std::printf("cxxnew: make_widget=%lu sum=%llu\n", n, static_cast<unsigned long long>(sum));
    return 0;
}
