/*
 * The Kafka sink benchmark's baseline: a plain librdkafka C producer sending the lines of an NDJSON file with the
 * same keys, headers and settings as threatpipe's Kafka sink, waiting for every delivery report. Timed from the
 * first produce to the producer destroyed, like the sink from its first write to its close.
 *
 * Usage: raw_producer BROKERS TOPIC RECORDS.ndjson      Prints "records_per_second N".
 * Built by Benchmarks/scripts/bench.sh: cc -O2 raw_producer.c -o raw_producer $(pkg-config --cflags --libs rdkafka)
 */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long delivered = 0, failed = 0, queue_full_waits = 0;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *message, void *opaque) {
    (void)rk; (void)opaque;
    if (message->err) failed++; else delivered++;
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: raw_producer BROKERS TOPIC RECORDS.ndjson\n"); return 64; }
    FILE *file = fopen(argv[3], "rb");
    if (!file) { perror(argv[3]); return 66; }
    fseek(file, 0, SEEK_END);
    long size = ftell(file);
    fseek(file, 0, SEEK_SET);
    char *data = malloc(size);
    if (fread(data, 1, size, file) != (size_t)size) { perror("read"); return 66; }
    fclose(file);

    const char *settings[][2] = {
        {"bootstrap.servers", argv[1]}, {"acks", "all"}, {"enable.idempotence", "true"},
        {"max.in.flight.requests.per.connection", "1"},
        {"compression.codec", "lz4"}, {"linger.ms", "5"}, {"message.timeout.ms", "300000"},
        {"queue.buffering.max.kbytes", "32768"}, {"queue.buffering.max.messages", "10000"},
        {"message.max.bytes", "16777216"},
    };
    char error[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
        if (rd_kafka_conf_set(conf, settings[i][0], settings[i][1], error, sizeof error) != RD_KAFKA_CONF_OK) {
            fprintf(stderr, "%s\n", error);
            return 64;
        }
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_t *producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
    if (!producer) { fprintf(stderr, "%s\n", error); return 69; }

    long records = 0;
    double started = now_seconds();
    for (char *line = data; line < data + size;) {
        char *end = memchr(line, '\n', data + size - line);
        if (!end) end = data + size;
        char key[32];
        int key_length = snprintf(key, sizeof key, "%ld", records);
        for (;;) {
            rd_kafka_resp_err_t err = rd_kafka_producev(
                producer, RD_KAFKA_V_TOPIC(argv[2]), RD_KAFKA_V_KEY(key, (size_t)key_length),
                RD_KAFKA_V_VALUE(line, (size_t)(end - line)), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_HEADER("content-type", "application/json", -1),
                RD_KAFKA_V_HEADER("threatpipe-format", "raw", -1),
                RD_KAFKA_V_HEADER("threatpipe-schema", "threatpipe.enriched-threat.v1", -1), RD_KAFKA_V_END);
            if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) { queue_full_waits++; rd_kafka_poll(producer, 10); continue; }
            if (err) { fprintf(stderr, "produce: %s\n", rd_kafka_err2str(err)); return 74; }
            break;
        }
        rd_kafka_poll(producer, 0);
        records++;
        line = end + 1;
    }
    rd_kafka_flush(producer, 300000);
    rd_kafka_destroy(producer); /* timed too: threatpipe's sink is done only once its producer is closed */
    double elapsed = now_seconds() - started;
    if (delivered != records) { fprintf(stderr, "delivered %ld of %ld (%ld failed)\n", delivered, records, failed); return 74; }
    printf("records_per_second %ld queue_full_waits %ld\n", (long)(records / elapsed), queue_full_waits);
    return 0;
}
