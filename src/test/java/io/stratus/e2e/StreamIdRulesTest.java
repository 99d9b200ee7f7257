package io.stratus.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.stratus.e2e.TestPlatform.Reply;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.io.IOException;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A data-stream id becomes the topic level {@code /{device}/{stream}} its points are forwarded to, so every ingest
 * path refuses an id that would not make one (StreamIds): over HTTP with errno 6 naming the rule, over MQTT as a
 * malformed {@code $dp}; nothing is stored and no subscriber is disconnected by a forward it cannot be sent.
 */
class StreamIdRulesTest {
    @RegisterExtension
    static final TestPlatform platform = TestPlatform.perClass();
    static TestProduct product;
    static TestDevice device;

    @BeforeAll
    static void start() {
        product = platform.createProduct("stream-ids");
        device = platform.createDevice(product, "sensor", "SN-IDS");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "a#b | wildcard '#'",
            "a+b | wildcard '+'",
            "a/b | '/'",
            "a\tb | control character"})
    void http_uploads_refuse_ids_that_make_no_topic_level(String id, String reason) {
        Reply r = upload(id);
        assertThat(r.errno()).isEqualTo(6);
        assertThat(r.body().path("error").asText()).contains(reason);
        assertThat(platform.withKey(product.masterKey(), "GET", "/devices/" + device.id() + "/datastreams", null)
                .data().toString()).doesNotContain(id);
    }

    @Test
    void http_uploads_refuse_ids_with_nul_or_longer_than_128_characters() {
        assertThat(upload("a\u0000b").errno()).isEqualTo(6);
        assertThat(upload("s".repeat(129)).errno()).isEqualTo(6);
        assertThat(upload("s".repeat(128)).errno()).isZero();
    }

    @Test
    void binary_uploads_refuse_them_too() {
        Reply r = platform.withKey(product.masterKey(), "POST", "/bindata?device_id=" + device.id() + "&datastream_id=a%23b",
                new byte[] {1, 2, 3});
        assertThat(r.errno()).isEqualTo(6);
        assertThat(r.body().path("error").asText()).contains("wildcard '#'");
    }

    @Test
    void a_dp_with_a_wildcard_id_is_malformed_and_a_follower_stays_connected() throws IOException {
        try (RawMqtt follower = new RawMqtt(platform.mqttPort()); RawMqtt sender = new RawMqtt(platform.mqttPort())) {
            TestDevice other = platform.createDevice(product, "follower", "SN-IDS-F");
            assertThat(follower.connect(other.id(), product.id(), "SN-IDS-F", 30, true)).isZero();
            follower.send(RawMqtt.subscribePacket(1, "/" + device.id() + "/#", 0));
            assertThat(follower.read().header()).isEqualTo(0x90);
            assertThat(sender.connect(device.id(), product.id(), "SN-IDS", 30, true)).isZero();

            sender.send(RawMqtt.publishPacket("$dp", 1, 1, Points.dp(3, "{\"a#b\":1}")));

            assertThat(sender.packetsUntilClosed(5000)).as("no PUBACK for a malformed $dp").isEmpty();
            follower.send(RawMqtt.packet(0xC0, new byte[0]));
            assertThat(follower.read().header()).as("PINGRESP: the follower is still connected").isEqualTo(0xD0);
        }
    }

    private static Reply upload(String id) {
        return platform.withKey(product.masterKey(), "POST", "/devices/" + device.id() + "/datapoints?type=3", Map.of(id, 1));
    }
}
