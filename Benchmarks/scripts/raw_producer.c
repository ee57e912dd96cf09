/*
 * The Kafka sink benchmark's baseline: a plain librdkafka C producer sending the lines of an NDJSON file with the
 * same keys, headers and settings as threatpipe's Kafka sink, waiting for every delivery report. Timed from the
 * first produce to the producer destroyed, like the sink from its first write to its close.
 *
 * Usage: raw_producer BROKERS TOPIC RECORDS.ndjson [transactional]      Prints "records_per_second N".
 * With "transactional": a transactional producer committing every 1000 records, each transaction with one small
 * record to TOPIC.checkpoints — the anchor of threatpipe's exactly-once sink.
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
    if (argc != 4 && argc != 5) { fprintf(stderr, "usage: raw_producer BROKERS TOPIC RECORDS.ndjson [transactional]\n"); return 64; }
    int transactional = argc == 5 && strcmp(argv[4], "transactional") == 0;
    char checkpoint_topic[256];
    snprintf(checkpoint_topic, sizeof checkpoint_topic, "%s.checkpoints", argv[2]);
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
    if (transactional && (rd_kafka_conf_set(conf, "transactional.id", argv[2], error, sizeof error) != RD_KAFKA_CONF_OK
                          || rd_kafka_conf_set(conf, "message.timeout.ms", "60000", error, sizeof error) != RD_KAFKA_CONF_OK)) {
        fprintf(stderr, "%s\n", error);
        return 64;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_t *producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
    if (!producer) { fprintf(stderr, "%s\n", error); return 69; }

    long records = 0, extra = 0;
    rd_kafka_error_t *txn_error = NULL;
    if (transactional) {
        /* Registering the id and a first transaction to each topic (about a second against the mock cluster, which
         * creates the topics then and answers their metadata at librdkafka's next one-second scan) are a run's
         * start-up, not its throughput: done before the clock starts, as the sink's is. */
        if ((txn_error = rd_kafka_init_transactions(producer, 30000)) || (txn_error = rd_kafka_begin_transaction(producer))) {
            fprintf(stderr, "transactions: %s\n", rd_kafka_error_string(txn_error));
            return 74;
        }
        rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(checkpoint_topic), RD_KAFKA_V_KEY("bench", 5),
                          RD_KAFKA_V_VALUE("warm-up", 7), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(argv[2]), RD_KAFKA_V_KEY("warm-up", 7),
                          RD_KAFKA_V_VALUE("{}", 2), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        extra += 2;
        if ((txn_error = rd_kafka_commit_transaction(producer, 60000)) || (txn_error = rd_kafka_begin_transaction(producer))) {
            fprintf(stderr, "transactions: %s\n", rd_kafka_error_string(txn_error));
            return 74;
        }
    }
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
        if (transactional && (records % 1000 == 0 || line >= data + size)) {
            rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(checkpoint_topic), RD_KAFKA_V_KEY("bench", 5),
                              RD_KAFKA_V_VALUE(key, (size_t)key_length), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
            extra++;
            if ((txn_error = rd_kafka_commit_transaction(producer, 60000))
                || (line < data + size && (txn_error = rd_kafka_begin_transaction(producer)))) {
                fprintf(stderr, "commit: %s\n", rd_kafka_error_string(txn_error));
                return 74;
            }
        }
    }
    rd_kafka_flush(producer, 300000);
    rd_kafka_destroy(producer); /* timed too: threatpipe's sink is done only once its producer is closed */
    double elapsed = now_seconds() - started;
    if (delivered != records + extra) { fprintf(stderr, "delivered %ld of %ld (%ld failed)\n", delivered, records, failed); return 74; }
    printf("records_per_second %ld queue_full_waits %ld\n", (long)(records / elapsed), queue_full_waits);
    return 0;
}
