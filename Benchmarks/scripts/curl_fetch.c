/* The CPU anchor of `make bench`: the requests of an export — list pages, then every threat's analysis and explore
 * events — made with libcurl's multi interface, keep-alive, CONCURRENCY at once, bodies read and dropped. It does no
 * JSON work at all: what it costs is the floor of HTTP on this machine.
 *
 *   curl_fetch URLS_FILE CONCURRENCY TOKEN     prints "requests N seconds S"
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static size_t drop(char *data, size_t size, size_t count, void *user) {
    (void)data; (void)user;
    return size * count;
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: curl_fetch URLS_FILE CONCURRENCY TOKEN\n"); return 64; }
    FILE *file = fopen(argv[1], "r");
    if (!file) { perror(argv[1]); return 66; }
    size_t capacity = 1024, count = 0;
    char **urls = malloc(capacity * sizeof *urls);
    char line[8192];
    while (fgets(line, sizeof line, file)) {
        line[strcspn(line, "\n")] = 0;
        if (!*line) continue;
        if (count == capacity) urls = realloc(urls, (capacity *= 2) * sizeof *urls);
        urls[count++] = strdup(line);
    }
    fclose(file);
    int concurrency = atoi(argv[2]);
    char authorization[512];
    snprintf(authorization, sizeof authorization, "Authorization: ApiToken %s", argv[3]);
    struct curl_slist *headers = curl_slist_append(NULL, authorization);
    headers = curl_slist_append(headers, "Accept: application/json");

    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)concurrency);
    CURL **handles = calloc(concurrency, sizeof *handles);
    size_t next = 0, done = 0;
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int slot = 0; slot < concurrency && next < count; slot++) {
        handles[slot] = curl_easy_init();
        curl_easy_setopt(handles[slot], CURLOPT_WRITEFUNCTION, drop);
        curl_easy_setopt(handles[slot], CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(handles[slot], CURLOPT_ACCEPT_ENCODING, "gzip");
        curl_easy_setopt(handles[slot], CURLOPT_URL, urls[next++]);
        curl_multi_add_handle(multi, handles[slot]);
    }
    int running = 1;
    while (done < count) {
        curl_multi_perform(multi, &running);
        int left;
        CURLMsg *message;
        while ((message = curl_multi_info_read(multi, &left))) {
            if (message->msg != CURLMSG_DONE) continue;
            CURL *easy = message->easy_handle;
            if (message->data.result != CURLE_OK) {
                fprintf(stderr, "curl_fetch: %s\n", curl_easy_strerror(message->data.result));
                return 69;
            }
            done++;
            curl_multi_remove_handle(multi, easy);
            if (next < count) {   /* the same handle again: its connection is kept alive */
                curl_easy_setopt(easy, CURLOPT_URL, urls[next++]);
                curl_multi_add_handle(multi, easy);
            }
        }
        if (done < count) curl_multi_poll(multi, NULL, 0, 100, NULL);
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    printf("requests %zu seconds %.3f\n", count, (end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) / 1e9);
    return 0;
}
