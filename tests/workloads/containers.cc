// containers.cc — C++ containers growing in user functions: the site must be the function that
// owns the container, with the C++ advice (reserve, rehash, a pool), not libstdc++'s code.
//
// Each function runs ROUNDS times (argument 1, default 200):
//   fill_points   std::vector<Point> (16-byte elements) push_back of 1000 points, no reserve:
//                 11 growth allocations per round (1, 2, 4 ... 1024 elements; largest 16 KiB)
//   build_label   std::string appended 300 times with "ab" (600 characters): growth past SSO
//   count_words   std::unordered_map<int, long> of 500 keys: one node per key, bucket rehashes
//   make_orders   std::make_shared<Order> 100 times, each dropped at once
//   churn_session new Session / delete 100 times (a plain object churned in a loop)
// Prints one deterministic line (a checksum of what it built).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

struct Point {
    double x, y;
};
static_assert(sizeof(Point) == 16, "fill_points grows a vector of 16-byte elements");

struct Order {
    std::uint64_t id;
    double amount[7];
    explicit Order(std::uint64_t i) : id(i), amount{1.0 * i, 2, 3, 4, 5, 6, 7} {}
};

struct Session {
    std::uint64_t user;
    char token[56];
};

static inline void escape(const void *p)
{
    __asm__ volatile("" : : "g"(p) : "memory");
}

__attribute__((noinline)) std::uint64_t fill_points(unsigned n)
{
    std::vector<Point> points;
    for (unsigned i = 0; i < n; i++)
        points.push_back(Point{1.0 * i, 2.0 * i});
    escape(points.data());
    return points.size();
}

__attribute__((noinline)) std::uint64_t build_label(unsigned n)
{
    std::string label;
    for (unsigned i = 0; i < n; i++)
        label += "ab";
    escape(label.data());
    return label.size();
}

__attribute__((noinline)) std::uint64_t count_words(unsigned n)
{
    std::unordered_map<int, long> counts;
    for (unsigned i = 0; i < n; i++)
        counts[static_cast<int>(i * 7919 % 100003)] += i;
    return counts.size();
}

__attribute__((noinline)) std::uint64_t make_orders(unsigned n)
{
    std::uint64_t sum = 0;
    for (unsigned i = 0; i < n; i++) {
        std::shared_ptr<Order> order = std::make_shared<Order>(i);
        escape(order.get());
        sum += order->id;
    }
    return sum;
}

__attribute__((noinline)) std::uint64_t churn_session(unsigned n)
{
    std::uint64_t sum = 0;
    for (unsigned i = 0; i < n; i++) {
        Session *s = new Session{i, {}};
        escape(s);
        sum += s->user;
        delete s;
    }
    return sum;
}

int main(int argc, char **argv)
{
    unsigned rounds = argc > 1 ? static_cast<unsigned>(std::strtoul(argv[1], nullptr, 10)) : 200;
    std::uint64_t sum = 0;
    for (unsigned r = 0; r < rounds; r++) {
        sum += fill_points(1000);
        sum += build_label(300);
        sum += count_words(500);
        sum += make_orders(100);
        sum += churn_session(100);
    }
    std::printf("containers: %u rounds, checksum %llu\n", rounds,
                static_cast<unsigned long long>(sum));
    return 0;
}
