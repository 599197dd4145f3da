/* prodcons.c — producer/consumer across two threads: every block is freed by another thread.
 *
 * The producer thread allocates N messages at produce_msg (malloc(MSG_SIZE) = 64 bytes each) and
 * pushes them through a bounded ring (static storage, QUEUE_CAP slots, so at most QUEUE_CAP + 2
 * messages are live at once); the consumer thread pops and frees each one at consume_msg.
 * Expected for produce_msg: allocs N, frees N, all N frees cross-thread, live at exit 0,
 * size min = max = 64. Nothing else in this file allocates (pthread_create may, inside libc).
 *
 * Usage: prodcons [messages]   (default 100000). Prints one deterministic line.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MSG_SIZE 64
#define QUEUE_CAP 64

struct msg {
    uint64_t seq;
    unsigned char body[MSG_SIZE - sizeof(uint64_t)];
};
_Static_assert(sizeof(struct msg) == MSG_SIZE, "produce_msg is a 64-byte site");

static struct msg *ring[QUEUE_CAP];
static unsigned long head, tail; /* head: next to pop; tail: next to push */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
static unsigned long messages = 100000;
static uint64_t consumed_sum;

__attribute__((noinline)) struct msg *produce_msg(uint64_t seq)
{
    struct msg *m = malloc(sizeof *m);
    if (!m)
        abort();
    m->seq = seq;
    memset(m->body, (int)(seq & 0xff), sizeof m->body);
    return m;
}

__attribute__((noinline)) uint64_t consume_msg(struct msg *m)
{
    uint64_t v = m->seq + m->body[0] + m->body[sizeof m->body - 1];
    free(m);
    return v;
}

static void push(struct msg *m)
{
    pthread_mutex_lock(&lock);
    while (tail - head == QUEUE_CAP)
        pthread_cond_wait(&not_full, &lock);
    ring[tail++ % QUEUE_CAP] = m;
    pthread_cond_signal(&not_empty);
    pthread_mutex_unlock(&lock);
}

static struct msg *pop(void)
{
    pthread_mutex_lock(&lock);
    while (tail == head)
        pthread_cond_wait(&not_empty, &lock);
    struct msg *m = ring[head++ % QUEUE_CAP];
    pthread_cond_signal(&not_full);
    pthread_mutex_unlock(&lock);
    return m;
}

static void *producer(void *arg)
{
    (void)arg;
    for (unsigned long i = 0; i < messages; i++)
        push(produce_msg(i));
    return NULL;
}

static void *consumer(void *arg)
{
    (void)arg;
    uint64_t sum = 0;
    for (unsigned long i = 0; i < messages; i++)
        sum += consume_msg(pop());
    consumed_sum = sum;
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        messages = strtoul(argv[1], NULL, 10);
    pthread_t prod, cons;
    if (pthread_create(&cons, NULL, consumer, NULL) != 0 ||
        pthread_create(&prod, NULL, producer, NULL) != 0) {
        fprintf(stderr, "prodcons: pthread_create failed\n");
        return 1;
    }
    pthread_join(prod, NULL);
    pthread_join(cons, NULL);
    printf("prodcons: messages=%lu produce_msg=%lu cross_thread_frees=%lu sum=%llu\n", messages,
           messages, messages, (unsigned long long)consumed_sum);
    return 0;
}
