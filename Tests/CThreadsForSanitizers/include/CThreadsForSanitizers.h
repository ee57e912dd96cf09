// Linked into the test binary only: routes C11 thrd_create (which librdkafka starts its threads with) through
// pthread_create, so that ThreadSanitizer registers those threads. Same semantics; see thrd_create.c.
#pragma once
int threatpipe_threads_for_sanitizers_linked(void);
