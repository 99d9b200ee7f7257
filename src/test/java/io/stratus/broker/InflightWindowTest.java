package io.stratus.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.stratus.device.Credential;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The in-flight window of one session: its bounds, its packet ids, the acknowledgements and the resend. */
class InflightWindowTest {
    private static final Session.Rules RULES = new Session.Rules(3, 100, 10, 1_000, 60_000, 30_000);

    private final RecordingStorage storage = new RecordingStorage();
    private final ListOutbox outbox = new ListOutbox();

    private InflightWindow window(boolean persistent) {
        return new InflightWindow(RULES, persistent, storage.ledger);
    }

    @ParameterizedTest(name = "sizes {0} -> open {1}")
    @CsvSource(delimiter = '|', textBlock = """
            # payload sizes in flight | open (max 3 messages, 100 bytes)
            ''                        | true
            500                       | false
            10                        | true
            99                        | true
            100                       | false
            10 10                     | true
            50 49                     | true
            50 50                     | false
            10 10 10                  | false
            """)
    void is_open_under_max_inflight_messages_and_bytes_and_one_always_fits(String sizes, boolean open) {
        InflightWindow w = window(false);
        long seq = 1;
        for (String size : sizes.isBlank() ? new String[0] : sizes.split(" ")) {
            w.send(storage.held(seq++, 1, Integer.parseInt(size), 0), outbox);
        }

        assertThat(w.open()).isEqualTo(open);
    }

    @Test
    void packet_ids_count_from_1_wrap_after_65535_and_skip_ids_still_in_flight() {
        InflightWindow w = window(false);
        IdOutbox ids = new IdOutbox();
        w.send(storage.held(1, 1, 1, 0), ids); // id 1 stays in flight
        for (int id = 2; id <= 65535; id++) {
            w.send(storage.held(id, 1, 1, 0), ids);
            assertThat(w.puback(id)).isNotNull();
        }

        w.send(storage.held(65536, 1, 1, 0), ids);

        assertThat(ids.count).isEqualTo(65536);
        assertThat(ids.first).isEqualTo(1);
        assertThat(ids.last).isEqualTo(2);
    }

    @Test
    void puback_acknowledges_only_a_qos_1_message_in_flight_MQTT_4_3_2() {
        InflightWindow w = window(false);
        Owed qos1 = storage.held(1, 1, 80, 0);
        w.send(qos1, outbox);
        w.send(storage.held(2, 2, 30, 0), outbox);
        assertThat(w.open()).isFalse();

        assertThat(w.puback(2)).as("the QoS 2 message's id").isNull();
        assertThat(w.puback(7)).as("an id not in flight").isNull();
        assertThat(w.puback(1)).isSameAs(qos1);
        assertThat(w.puback(1)).as("acknowledged twice").isNull();
        assertThat(w.size()).isEqualTo(1);
        assertThat(w.open()).isTrue();
    }

    @Test
    void pubrec_releases_a_qos_2_message_once_and_pubcomp_then_frees_its_id_MQTT_4_3_3() {
        InflightWindow w = window(false);
        Owed qos2 = storage.held(1, 2, 100, 0);
        w.send(qos2, outbox);

        assertThat(w.pubcomp(1)).as("PUBCOMP before PUBREC").isFalse();
        assertThat(w.pubrec(1)).isSameAs(qos2);
        assertThat(qos2.released).isTrue();
        assertThat(w.pubrec(1)).as("PUBREC twice").isNull();
        assertThat(w.size()).as("the id is kept until PUBCOMP").isEqualTo(1);
        assertThat(w.open()).as("its bytes no longer count").isTrue();
        assertThat(w.pubcomp(1)).isTrue();
        assertThat(w.size()).isZero();
        assertThat(w.pubcomp(1)).isFalse();
    }

    @Test
    void resend_sends_in_order_with_dup_a_pubrel_for_released_ones_and_drops_missing_ones_MQTT_4_4_0_1() {
        InflightWindow w = window(true);
        w.send(storage.held(11, 2, 10, 0), outbox);
        Owed missing = storage.held(12, 1, 10, 0);
        w.send(missing, outbox);
        w.send(storage.held(13, 1, 10, 0), outbox);
        w.pubrec(1);
        storage.ledger.release(missing);
        missing.missing = true;
        ListOutbox next = new ListOutbox();

        w.resend(next);

        assertThat(next.pubrels()).containsExactly(1);
        assertThat(next.published()).extracting(s -> s.message().topic(), ListOutbox.Sent::packetId, ListOutbox.Sent::dup)
                .containsExactly(tuple("t/13", 3, true));
        assertThat(w.size()).isEqualTo(2);
        assertThat(storage.settled).containsExactly(12L);
        assertThat(storage.ledger.dropped()).isEqualTo(1);
    }

    @Test
    void a_sent_message_keeps_its_payload_only_when_persistent_and_not_yet_stored() {
        InflightWindow clean = window(false);
        InflightWindow persistent = window(true);
        Owed toClean = storage.held(0, 1, 10, 0);
        Owed unstored = storage.held(1, 1, 20, 0);
        Owed stored = storage.held(2, 1, 40, 0);
        stored.stored = true;

        clean.send(toClean, outbox);
        persistent.send(unstored, outbox);
        persistent.send(stored, outbox);

        assertThat(toClean.message).isNull();
        assertThat(unstored.message).isNotNull();
        assertThat(stored.message).isNull();
        assertThat(storage.stats.queuedHeapByteCount()).isEqualTo(20);
        assertThat(persistent.stubsToResend()).containsExactly(stored);
    }

    /** Keeps only the packet ids of the first and the last PUBLISH: a ListOutbox would copy its list 65,536 times. */
    private static final class IdOutbox implements Outbox {
        int count;
        int first;
        int last;

        @Override
        public void publish(Message message, int packetId, boolean dup) {
            if (count++ == 0) {
                first = packetId;
            }
            last = packetId;
        }

        @Override
        public CompletableFuture<Void> sendDirect(Message message) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void pubrel(int packetId) {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean isWritable() {
            return true;
        }

        @Override
        public void close(String reason) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void close(String reason, boolean publishWill) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Credential credential() {
            throw new UnsupportedOperationException();
        }
    }
}
