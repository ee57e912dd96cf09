// ThreadSanitizer in this toolchain intercepts pthread_create but not C11 thrd_create, which librdkafka 2.0.2 uses
// for its broker, main and mock-cluster threads: a TSan test binary that starts a producer dies inside TSan's
// interceptors on an rdk: thread. Defining thrd_create in the test binary interposes glibc's (the linker exports it
// because librdkafka.so references it), and starting the thread with pthread_create lets TSan see it. glibc's own
// thrd_create is a pthread_create with the same calling convention adapted, so nothing else changes.
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <threads.h>

#include "CThreadsForSanitizers.h"

struct start_routine {
    thrd_start_t function;
    void *argument;
};

static void *start(void *context) {
    struct start_routine routine = *(struct start_routine *)context;
    free(context);
    return (void *)(intptr_t)routine.function(routine.argument);
}

int thrd_create(thrd_t *thread, thrd_start_t function, void *argument) {
    struct start_routine *routine = malloc(sizeof *routine);
    if (routine == NULL) return thrd_nomem;
    routine->function = function;
    routine->argument = argument;
    int result = pthread_create((pthread_t *)thread, NULL, start, routine);
    if (result == 0) return thrd_success;
    free(routine);
    return result == ENOMEM ? thrd_nomem : thrd_error;
}

// glibc's thrd_join, mtx_* and cnd_* call pthread's internals directly, past TSan's interceptors: TSan would never
// see a librdkafka thread joined (and would abort when glibc reuses its id) nor its locks. The same calls through
// the public pthread functions, which TSan intercepts. mtx_t and cnd_t are glibc's pthread types in a union.
static int map_error(int result) {
    switch (result) {
    case 0: return thrd_success;
    case EBUSY: return thrd_busy;
    case ETIMEDOUT: return thrd_timedout;
    case ENOMEM: return thrd_nomem;
    default: return thrd_error;
    }
}

int thrd_join(thrd_t thread, int *result) {
    void *value = NULL;
    int joined = pthread_join((pthread_t)thread, &value);
    if (joined == 0 && result != NULL) *result = (int)(intptr_t)value;
    return map_error(joined);
}

int thrd_detach(thrd_t thread) { return map_error(pthread_detach((pthread_t)thread)); }

int mtx_lock(mtx_t *mutex) { return map_error(pthread_mutex_lock((pthread_mutex_t *)mutex)); }
int mtx_trylock(mtx_t *mutex) { return map_error(pthread_mutex_trylock((pthread_mutex_t *)mutex)); }
int mtx_unlock(mtx_t *mutex) { return map_error(pthread_mutex_unlock((pthread_mutex_t *)mutex)); }

int cnd_signal(cnd_t *condition) { return map_error(pthread_cond_signal((pthread_cond_t *)condition)); }
int cnd_broadcast(cnd_t *condition) { return map_error(pthread_cond_broadcast((pthread_cond_t *)condition)); }
int cnd_wait(cnd_t *condition, mtx_t *mutex) {
    return map_error(pthread_cond_wait((pthread_cond_t *)condition, (pthread_mutex_t *)mutex));
}
int cnd_timedwait(cnd_t *restrict condition, mtx_t *restrict mutex, const struct timespec *restrict deadline) {
    return map_error(pthread_cond_timedwait((pthread_cond_t *)condition, (pthread_mutex_t *)mutex, deadline));
}

int threatpipe_threads_for_sanitizers_linked(void) { return 1; }
