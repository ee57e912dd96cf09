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

int threatpipe_threads_for_sanitizers_linked(void) { return 1; }
