package io.stratus.e2e;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;
import io.stratus.e2e.TestPlatform.Reply;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Commands (protocol §4, docs/decisions.md) with a real device client and the HTTP API: {@code $creq/{uuid}} pushed
 * unsubscribed with the exact body, {@code $crsp/{uuid}} stored before it is acknowledged, statuses 1-6,
 * online-only commands, delivery and re-delivery at login, expiry, history and the errno of every refusal.
 */
class CommandTest {
    private static final HexFormat HEX = HexFormat.of();

    @RegisterExtension
    static final TestPlatform platform = TestPlatform.perClass();
    static TestProduct product;
    static String key;

    @BeforeAll
    static void start() {
        product = platform.createProduct("commands");
        key = product.masterKey();
    }

    private static TestDevice device(String title) {
        return Clients.device(platform, product, title);
    }

    /** Every byte value, so that nothing on the way may treat the body as text. */
    private static byte[] allBytes(int extra) {
        byte[] b = new byte[256 + extra];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) i;
        }
        return b;
    }

    private static int status(String uuid) {
        return Cmds.status(platform, key, uuid);
    }

    @Test
    void stored_command_goes_created_then_sent_then_answered_with_exact_bytes() throws Exception {
        TestDevice dev = device("round-trip");
        byte[] body = allBytes(7);
        String uuid = Cmds.send(platform, key, dev, "qos=1&timeout=60", body);
        assertThat(status(uuid)).isEqualTo(1);

        try (Cmds.Device d = Cmds.Device.connect(platform, dev)) {
            // Subscribed to nothing: $creq is pushed anyway (S7 Q34).
            Mqtt3Publish p = d.nextCommand(uuid);
            assertThat(p.getPayloadAsBytes()).isEqualTo(body);
            await().atMost(5, SECONDS).until(() -> status(uuid) == 2);

            byte[] response = allBytes(3);
            d.answer(uuid, response, MqttQos.AT_LEAST_ONCE);
            // The PUBACK follows the commit: status 4 is there as soon as publish returns.
            assertThat(status(uuid)).isEqualTo(4);
            Cmds.Raw r = Cmds.response(platform, key, uuid);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.contentType()).startsWith("application/octet-stream");
            assertThat(r.body()).isEqualTo(response);

            JsonNode item = history(dev, "").path("items").get(0);
            assertThat(item.path("cmd_uuid").asText()).isEqualTo(uuid);
            assertThat(item.path("device_id").asText()).isEqualTo(dev.id());
            assertThat(item.path("status").asInt()).isEqualTo(4);
            assertThat(item.path("body").asText()).isEqualTo(HEX.formatHex(body));
            assertThat(item.path("confirm_body").asText()).isEqualTo(HEX.formatHex(response));
            for (String time : List.of("expire_time", "send_time", "confirm_time")) {
                assertThat(item.path(time).asText()).as(time).matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d");
            }
        }
    }

    @Test
    void online_command_to_a_connected_device_is_sent_and_answered_as_in_the_spec_example() throws Exception {
        TestDevice dev = device("online");
        try (Cmds.Device d = Cmds.Device.connect(platform, dev)) {
            String uuid = Cmds.send(platform, key, dev, "", "LED:1");
            assertThat(new String(d.nextCommand(uuid).getPayloadAsBytes(), UTF_8)).isEqualTo("LED:1");
            await().atMost(5, SECONDS).until(() -> status(uuid) == 2);
            d.answer(uuid, "OK".getBytes(UTF_8), MqttQos.AT_MOST_ONCE);
            await().atMost(5, SECONDS).until(() -> status(uuid) == 4);
            assertThat(Cmds.response(platform, key, uuid).text()).isEqualTo("OK");
        }
    }

    @Test
    void online_command_to_an_offline_device_is_errno_10_and_leaves_no_history() {
        TestDevice dev = device("offline");
        Reply r = Cmds.post(platform, key, "device_id=" + dev.id() + "&timeout=0", "LED:1".getBytes(UTF_8));
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body().toString()).isEqualTo("{\"errno\":10,\"error\":\"device not online: " + dev.id() + "\"}");
        assertThat(history(dev, "").path("total_count").asInt()).isZero();
        assertThat(history(dev, "").path("items")).isEmpty();
    }

    @Test
    void qos1_command_left_unanswered_is_sent_again_at_the_next_login_and_qos0_is_not() throws Exception {
        TestDevice dev = device("resend");
        String qos0;
        String qos1;
        try (Cmds.Device d = Cmds.Device.connect(platform, dev)) {
            qos0 = Cmds.send(platform, key, dev, "qos=0&timeout=60", "once");
            d.nextCommand(qos0);
            await().atMost(5, SECONDS).until(() -> status(qos0) == 2);
            qos1 = Cmds.send(platform, key, dev, "qos=1&timeout=60", "until answered");
            d.nextCommand(qos1);
            await().atMost(5, SECONDS).until(() -> status(qos1) == 2);
        }
        try (Cmds.Device d = Cmds.Device.connect(platform, dev)) {
            // Deliveries at login go oldest first: had the QoS 0 command come again, it would be first.
            assertThat(new String(d.nextCommand(qos1).getPayloadAsBytes(), UTF_8)).isEqualTo("until answered");
            String marker = Cmds.send(platform, key, dev, "", "marker");
            d.nextCommand(marker);
            d.answer(qos1, "done");
            assertThat(status(qos1)).isEqualTo(4);
        }
        try (Cmds.Device d = Cmds.Device.connect(platform, dev)) {
            // Answered: not sent again.
            String marker = Cmds.send(platform, key, dev, "", "marker 2");
            d.nextCommand(marker);
        }
        assertThat(status(qos0)).isEqualTo(2);
    }

    @Test
    void stored_command_expires_after_its_timeout_and_a_late_response_is_acknowledged_and_ignored() throws Exception {
        TestDevice dev = device("expiry");
        String uuid = Cmds.send(platform, key, dev, "qos=1&timeout=1", "too late");
        assertThat(status(uuid)).isEqualTo(1);
        await().atMost(5, SECONDS).until(() -> status(uuid) == 5);
        try (Cmds.Device d = Cmds.Device.connect(platform, dev)) {
            d.answer(uuid, "late");
            assertThat(status(uuid)).isEqualTo(5);
            // Expired commands are not delivered; the connection is still open and serves the next command.
            String next = Cmds.send(platform, key, dev, "", "next");
            d.nextCommand(next);
        }
        Cmds.Raw r = Cmds.response(platform, key, uuid);
        assertThat(Points.JSON.readTree(r.body()).path("errno").asInt()).isEqualTo(8);
    }

    @Test
    void response_over_64_KiB_ends_in_status_6_and_exactly_64_KiB_is_kept() throws Exception {
        TestDevice dev = device("large");
        try (Cmds.Device d = Cmds.Device.connect(platform, dev)) {
            String tooLarge = Cmds.send(platform, key, dev, "", "big");
            d.nextCommand(tooLarge);
            d.answer(tooLarge, new byte[64 * 1024 + 1], MqttQos.AT_LEAST_ONCE);
            assertThat(status(tooLarge)).isEqualTo(6);
            JsonNode refused = Points.JSON.readTree(Cmds.response(platform, key, tooLarge).body());
            assertThat(refused.path("errno").asInt()).isEqualTo(6);

            String limit = Cmds.send(platform, key, dev, "", "limit");
            d.nextCommand(limit);
            byte[] response = allBytes(64 * 1024 - 256);
            d.answer(limit, response, MqttQos.EXACTLY_ONCE);
            assertThat(status(limit)).isEqualTo(4);
            assertThat(Cmds.response(platform, key, limit).body()).isEqualTo(response);
        }
    }

    @Test
    void response_to_an_unknown_command_or_another_devices_command_is_acknowledged_and_ignored() throws Exception {
        TestDevice target = device("target");
        TestDevice other = device("other");
        try (Cmds.Device d = Cmds.Device.connect(platform, target); Cmds.Device o = Cmds.Device.connect(platform, other)) {
            String uuid = Cmds.send(platform, key, target, "", "for target");
            d.nextCommand(uuid);
            await().atMost(5, SECONDS).until(() -> status(uuid) == 2);

            o.answer("00000000-0000-0000-0000-000000000000", "who?");
            o.answer(uuid, "not mine");
            assertThat(status(uuid)).isEqualTo(2);
            assertThat(o.client.getState().isConnected()).isTrue();

            d.answer(uuid, "mine");
            assertThat(status(uuid)).isEqualTo(4);
            assertThat(Cmds.response(platform, key, uuid).text()).isEqualTo("mine");
        }
    }

    @Test
    void many_commands_answered_as_fast_as_they_arrive_all_end_answered() throws Exception {
        TestDevice dev = device("busy");
        int n = 100;
        List<String> uuids = new ArrayList<>();
        try (Cmds.Device d = Cmds.Device.connect(platform, dev)) {
            for (int i = 0; i < n; i++) {
                // Half online-only, half stored; answered at once, racing the server's "sent" bookkeeping.
                String uuid = Cmds.send(platform, key, dev, i % 2 == 0 ? "" : "qos=1&timeout=60", "cmd " + i);
                uuids.add(uuid);
                Mqtt3Publish p = d.nextCommand(uuid);
                d.answer(uuid, p.getPayloadAsBytes(), i % 3 == 0 ? MqttQos.AT_MOST_ONCE : MqttQos.AT_LEAST_ONCE);
            }
            await().atMost(5, SECONDS).until(() -> uuids.stream().allMatch(u -> status(u) == 4));
        }
        assertThat(Cmds.response(platform, key, uuids.get(n - 1)).text()).isEqualTo("cmd " + (n - 1));
        JsonNode items = history(dev, "per_page=100").path("items");
        assertThat(items).hasSize(n).allMatch(i -> i.path("status").asInt() == 4);
        // An answered command was sent: its send time is never missing, nor after its answer.
        assertThat(items).allSatisfy(i -> {
            assertThat(i.path("send_time").isTextual()).as("send_time of %s", i.path("cmd_uuid")).isTrue();
            assertThat(i.path("send_time").asText()).isLessThanOrEqualTo(i.path("confirm_time").asText());
        });
    }

    @Test
    void commands_answered_from_the_receive_callback_all_have_a_send_time() throws Exception {
        TestDevice dev = device("instant");
        int n = 60;
        Mqtt3BlockingClient client = Clients.hivemq(platform, dev);
        // Answers on the client's own thread the moment a command arrives, before the server may have noted it sent.
        client.toAsync().publishes(MqttGlobalPublishFilter.ALL, p -> client.toAsync().publishWith()
                .topic("$crsp/" + p.getTopic().getLevels().get(1)).qos(MqttQos.AT_MOST_ONCE).payload(p.getPayloadAsBytes()).send());
        Clients.connect(client, true);
        try {
            List<String> uuids = IntStream.range(0, n).parallel()
                    .mapToObj(i -> Cmds.send(platform, key, dev, "timeout=60", "fast " + i)).toList();
            await().atMost(10, SECONDS).until(() -> uuids.stream().allMatch(u -> status(u) == 4));
        } finally {
            client.disconnect();
        }
        JsonNode items = history(dev, "per_page=100").path("items");
        assertThat(items).hasSize(n).allSatisfy(i -> assertThat(i.path("send_time").isTextual()).as("send_time of %s", i.path("cmd_uuid")).isTrue());
    }

    @Test
    void history_is_paged_newest_first_and_filtered_by_creation_time() {
        TestDevice dev = device("history");
        List<String> uuids = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            uuids.add(Cmds.send(platform, key, dev, "timeout=600", "c" + i));
        }
        JsonNode first = history(dev, "page=1&per_page=2");
        assertThat(first.path("page").asInt()).isEqualTo(1);
        assertThat(first.path("per_page").asInt()).isEqualTo(2);
        assertThat(first.path("total_count").asInt()).isEqualTo(5);
        List<String> seen = new ArrayList<>();
        for (int page = 1; page <= 3; page++) {
            history(dev, "page=" + page + "&per_page=2").path("items").forEach(i -> seen.add(i.path("cmd_uuid").asText()));
        }
        assertThat(seen).containsExactlyInAnyOrderElementsOf(uuids);
        JsonNode last = history(dev, "page=3&per_page=2").path("items");
        assertThat(last).hasSize(1);
        assertThat(last.get(0).path("body").asText()).isEqualTo(HEX.formatHex("c0".getBytes(UTF_8)));
        assertThat(last.get(0).path("status").asInt()).isEqualTo(1);
        assertThat(last.get(0).path("send_time").isNull()).isTrue();
        assertThat(last.get(0).path("confirm_body").isNull()).isTrue();

        assertThat(history(dev, "start=2000-01-01T00:00:00").path("total_count").asInt()).isEqualTo(5);
        assertThat(history(dev, "start=2999-01-01T00:00:00").path("total_count").asInt()).isZero();
        assertThat(history(dev, "end=2000-01-01T00:00:00").path("total_count").asInt()).isZero();
        assertThat(history(dev, "page=9&per_page=2").path("items")).isEmpty();
    }

    @ParameterizedTest(name = "GET /cmds/history/..?{0} -> errno {1}")
    @CsvSource(delimiter = '|', value = {
            "per_page=101|6", "per_page=0|6", "page=0|6", "page=x|6", "start=yesterday|6",
            "start=2020-01-02T00:00:00&end=2020-01-01T00:00:00|6"})
    void bad_history_queries_get_errno_6(String query, int errno) {
        TestDevice dev = device("bad-history");
        Reply r = platform.withKey(key, "GET", "/cmds/history/" + dev.id() + "?" + query, null);
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.errno()).as("%s", r.body()).isEqualTo(errno);
    }

    @ParameterizedTest(name = "POST /cmds?{0} -> errno {1}")
    @CsvSource(delimiter = '|', value = {
            "device_id=abc|6", "qos=1|7", "device_id=DEV&qos=2|6", "device_id=DEV&qos=x|6",
            "device_id=DEV&timeout=-1|6", "device_id=DEV&timeout=2678401|6", "device_id=DEV&timeout=1.5|6",
            "device_id=999999999999|8", "device_id=DEV&timeout=0|10"})
    void bad_command_parameters_get_the_right_errno(String query, int errno) {
        TestDevice dev = device("bad-params");
        Reply r = Cmds.post(platform, key, query.replace("DEV", dev.id()), "x".getBytes(UTF_8));
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.errno()).as("%s", r.body()).isEqualTo(errno);
    }

    @Test
    void body_must_be_1_byte_to_64_KiB_minus_1() {
        TestDevice dev = device("body-size");
        String query = "device_id=" + dev.id() + "&timeout=60";
        assertThat(Cmds.post(platform, key, query, new byte[0]).errno()).isEqualTo(9);
        Reply tooLarge = Cmds.post(platform, key, query, new byte[64 * 1024]);
        assertThat(tooLarge.status()).isEqualTo(200);
        assertThat(tooLarge.errno()).isEqualTo(5);
        assertThat(Cmds.post(platform, key, query, new byte[64 * 1024 - 1]).errno()).isZero();
        assertThat(history(dev, "").path("total_count").asInt()).isEqualTo(1);
    }

    @Test
    void another_products_key_gets_errno_3_and_unknown_commands_errno_8() {
        TestDevice dev = device("owned");
        String uuid = Cmds.send(platform, key, dev, "timeout=60", "mine");
        String otherKey = platform.createProduct("other").masterKey();

        Reply send = Cmds.post(platform, otherKey, "device_id=" + dev.id() + "&timeout=60", "x".getBytes(UTF_8));
        assertThat(send.errno()).isEqualTo(3);
        assertThat(send.status()).isEqualTo(200);
        assertThat(platform.withKey(otherKey, "GET", "/cmds/" + uuid, null).errno()).isEqualTo(3);
        assertThat(platform.withKey(otherKey, "GET", "/cmds/history/" + dev.id(), null).errno()).isEqualTo(3);
        Cmds.Raw foreignResponse = Cmds.response(platform, otherKey, uuid);
        assertThat(foreignResponse.status()).isEqualTo(200);
        assertThat(foreignResponse.text()).contains("\"errno\":3");
        assertThat(Cmds.post(platform, null, "device_id=" + dev.id(), "x".getBytes(UTF_8)).errno()).isEqualTo(2);

        assertThat(platform.withKey(key, "GET", "/cmds/not-a-command", null).errno()).isEqualTo(8);
        assertThat(platform.withKey(key, "GET", "/cmds/" + "x".repeat(100), null).errno()).isEqualTo(8);
        assertThat(platform.withKey(key, "GET", "/cmds/history/abc", null).errno()).isEqualTo(8);
        assertThat(platform.withKey(key, "GET", "/cmds/history/999999999", null).errno()).isEqualTo(8);
        // Created, not answered: no response to read.
        Cmds.Raw none = Cmds.response(platform, key, uuid);
        assertThat(none.status()).isEqualTo(200);
        assertThat(none.text()).contains("\"errno\":8");

        // The admin may send to any product's device.
        Reply admin = platform.asAdmin("POST", "/cmds?device_id=" + dev.id() + "&timeout=60", "x".getBytes(UTF_8));
        assertThat(admin.errno()).isZero();
    }

    @Test
    void deleting_a_device_deletes_its_commands() {
        TestDevice dev = device("deleted");
        String uuid = Cmds.send(platform, key, dev, "qos=1&timeout=600", "gone soon");
        assertThat(platform.withKey(key, "DELETE", "/devices/" + dev.id(), null).errno()).isZero();
        assertThat(platform.withKey(key, "GET", "/cmds/" + uuid, null).errno()).isEqualTo(8);
    }

    private static JsonNode history(TestDevice dev, String query) {
        Reply r = platform.withKey(key, "GET", "/cmds/history/" + dev.id() + (query.isEmpty() ? "" : "?" + query), null);
        assertThat(r.errno()).as("history: %s", r.body()).isZero();
        return r.data();
    }
}
