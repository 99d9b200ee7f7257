package io.stratus.e2e;

import static io.stratus.e2e.Clients.PUBACK;
import static io.stratus.e2e.Clients.expectAck;
import static io.stratus.e2e.Points.binary;
import static io.stratus.e2e.Points.concat;
import static io.stratus.e2e.Points.dp;
import static io.stratus.e2e.Points.hex;
import static io.stratus.e2e.Points.json;
import static io.stratus.e2e.Points.lengthPrefixed;
import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import com.fasterxml.jackson.databind.JsonNode;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import io.stratus.e2e.Points.Point;
import io.stratus.e2e.TestPlatform.Reply;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code $dp} uploads by real MQTT clients (protocol §3, docs/decisions.md): every type at every QoS lands in the
 * history and the latest values with its stream, time and value; malformed payloads disconnect (D6, D24) and store
 * nothing; equal times replace (D21), late points do not (D22), streams appear with their first point (D13), and
 * everything survives a restart.
 */
class DatapointIngestTest {
    @RegisterExtension
    static final TestPlatform platform = TestPlatform.perClass();
    static TestProduct product;

    @RegisterExtension
    final LogCapture log = LogCapture.mqttConnection();

    @BeforeAll
    static void start() {
        product = platform.createProduct("ingest");
    }

    /** A point an upload must produce: {@code at} null means the server's receive time; {@code blob} for type 2. */
    record Expected(String stream, String at, JsonNode value, byte[] blob) {
        static Expected point(String stream, String at, String valueJson) {
            return new Expected(stream, at, json(valueJson), null);
        }

        static Expected blob(String stream, String at, byte[] blob) {
            return new Expected(stream, at, null, blob);
        }
    }

    /** One {@code $dp} payload and the points it must produce, in payload order. */
    record Upload(String name, byte[] payload, List<Expected> points) {
        @Override
        public String toString() {
            return name;
        }
    }

    /** One payload of each type, built as in the §3.3 hex examples. */
    static List<Upload> uploads() {
        return List.of(
                new Upload("type 1 full JSON", dp(1, "{\"datastreams\":[{\"id\":\"temperature\",\"datapoints\":["
                        + "{\"at\":\"2013-04-22 22:22:22\",\"value\":36.5},{\"at\":\"2013-04-22T22:22:23.250\",\"value\":36.6}]},"
                        + "{\"id\":\"status\",\"datapoints\":[{\"value\":\"ok\"}]}]}"),
                        List.of(Expected.point("temperature", "2013-04-22 22:22:22.000", "36.5"),
                                Expected.point("temperature", "2013-04-22 22:22:23.250", "36.6"),
                                Expected.point("status", null, "\"ok\""))),
                new Upload("type 2 binary", binary("{\"ds_id\":\"image\",\"at\":\"2016-12-22 22:22:22\",\"desc\":\"pic\"}",
                        hex("DE AD BE EF 00 0A FF")),
                        List.of(Expected.blob("image", "2016-12-22 22:22:22.000", hex("DE AD BE EF 00 0A FF")))),
                new Upload("type 3 simple JSON", dp(3, "{\"temperature\":22.5,\"humidity\":\"95.2%\",\"count\":102,"
                        + "\"loc\":{\"lon\":117.48,\"lat\":39.96}}"),
                        List.of(Expected.point("temperature", null, "22.5"),
                                Expected.point("humidity", null, "\"95.2%\""),
                                Expected.point("count", null, "102"),
                                Expected.point("loc", null, "{\"lon\":117.48,\"lat\":39.96}"))),
                new Upload("type 4 JSON with time", dp(4, "{\"temperature\":{\"2015-03-22 22:31:12\":22.5,"
                        + "\"2015-03-22 22:31:13\":{\"a\":[1,2]}}}"),
                        List.of(Expected.point("temperature", "2015-03-22 22:31:12.000", "22.5"),
                                Expected.point("temperature", "2015-03-22 22:31:13.000", "{\"a\":[1,2]}"))),
                // §3.2: a bare value's stream is the field's index, counted from 0 (D12: numbers when they parse)
                new Upload("type 5 separated string", dp(5, ",;temperature,2015-03-22 22:31:12,22.5;102;pm2.5,89;10"),
                        List.of(Expected.point("temperature", "2015-03-22 22:31:12.000", "22.5"),
                                Expected.point("1", null, "102"),
                                Expected.point("pm2.5", null, "89"),
                                Expected.point("3", null, "10"))),
                // 86 + 2016-12-22 10:30:00, packed in UTC as OneNET's C SDK does (gmtime, dp.binary-timezone, D2), so
                // 18:30 in the API's UTC+8; fields without a time take the header's, a string time is UTC+8 (dp.timezone)
                new Upload("type 6 separated string with time", concat(hex("86 10 0C 16 0A 1E 00"),
                        lengthPrefixed(",;temperature,22.5;pm2.5,89;status,2017-01-01 08:00:00,on")),
                        List.of(Expected.point("temperature", "2016-12-22 18:30:00.000", "22.5"),
                                Expected.point("pm2.5", "2016-12-22 18:30:00.000", "89"),
                                Expected.point("status", "2017-01-01 08:00:00.000", "\"on\""))),
                // §3.3 t7: stream 1 group of (34.0, -20.3) -> streams 1 and 2 (D1), stream 9271 = 1.5; D23: -20.3, not -20.29999
                new Upload("type 7 floats", hex("87 10 0C 16 0A 1E 00 | 00 01 00 02 00 00 08 42 66 66 A2 C1 | 24 37 00 01 00 00 C0 3F"
                        .replace("|", "")),
                        List.of(Expected.point("1", "2016-12-22 18:30:00.000", "34.0"),
                                Expected.point("2", "2016-12-22 18:30:00.000", "-20.3"),
                                Expected.point("9271", "2016-12-22 18:30:00.000", "1.5"))));
    }

    static Stream<Arguments> uploadsAtEachQos() {
        return uploads().stream().flatMap(u -> Stream.of(0, 1, 2).map(qos -> arguments(u, qos)));
    }

    @ParameterizedTest(name = "{0} at QoS {1}")
    @MethodSource("uploadsAtEachQos")
    void each_dp_type_is_stored_with_stream_time_and_value(Upload upload, int qos) {
        TestDevice device = Clients.device(platform, product, "dp");
        Mqtt3BlockingClient client = Clients.hivemq(platform, device);
        Clients.connect(client, true);
        try {
            long before = System.currentTimeMillis();
            client.publishWith().topic("$dp").qos(MqttQos.fromCode(qos)).payload(upload.payload()).send();
            if (qos == 0) {
                await().atMost(5, SECONDS).untilAsserted(() -> assertThat(all(device)).hasSize(upload.points().size()));
            }
            // QoS 1/2: PUBACK/PUBREC go out only after the commit (§3), so the points are there as soon as send() returns
            assertStored(device, upload.points(), before, System.currentTimeMillis());
        } finally {
            client.disconnect();
        }
    }

    /** History and latest values of {@code device} hold exactly {@code expected}; receive times lie in [before, after]. */
    private static void assertStored(TestDevice device, List<Expected> expected, long before, long after) {
        Map<String, List<Point>> stored = all(device).stream()
                .collect(Collectors.groupingBy(Point::stream, LinkedHashMap::new, Collectors.toList()));
        Map<String, List<Expected>> wanted = expected.stream()
                .collect(Collectors.groupingBy(Expected::stream, LinkedHashMap::new, Collectors.toList()));
        assertThat(stored.keySet()).containsExactlyInAnyOrderElementsOf(wanted.keySet());
        Map<String, JsonNode> streams = Points.streams(platform, product.masterKey(), device.id());
        assertThat(streams.keySet()).as("D13: streams created by their first point").containsExactlyInAnyOrderElementsOf(wanted.keySet());
        wanted.forEach((stream, points) -> {
            List<Point> got = stored.get(stream);
            assertThat(got).as("points of stream %s", stream).hasSize(points.size());
            for (int i = 0; i < points.size(); i++) {
                Expected e = points.get(i);
                Point p = got.get(i);
                if (e.at() != null) {
                    assertThat(p.at()).as("time of %s", p).isEqualTo(e.at());
                } else {
                    // D3: no time in the payload -> the receive time (D21 may add a few ms per stream)
                    assertThat(p.millis()).as("receive time of %s", p).isBetween(before, after + 100);
                }
                if (e.blob() != null) {
                    // D16: the value is {"index": ...} and GET /bindata/{index} returns the exact bytes
                    assertThat(p.value().size()).as("value of %s", p).isEqualTo(1);
                    String index = p.value().path("index").asText();
                    HttpResponse<byte[]> r = Points.rawHttp(platform, product.masterKey(), "GET", "/bindata/" + index, null);
                    assertThat(r.statusCode()).isEqualTo(200);
                    assertThat(r.body()).isEqualTo(e.blob());
                } else {
                    assertThat(p.value()).as("value of %s", p).isEqualTo(e.value());
                }
            }
            Point latest = got.get(got.size() - 1);
            assertThat(streams.get(stream).path("current_value")).as("current_value of %s", stream).isEqualTo(latest.value());
            assertThat(streams.get(stream).path("at").asText()).as("time of the current value of %s", stream).isEqualTo(latest.at());
        });
    }

    private static List<Point> all(TestDevice device) {
        return Points.all(platform, product.masterKey(), device);
    }

    // ---- D6 / D24: malformed payloads ------------------------------------------------------------------

    static Stream<Named<byte[]>> malformed() {
        return Stream.of(
                Named.of("invalid JSON", dp(3, "{\"temperature\":")),
                Named.of("time flag on type 3 (D24)", dp(0x83, "{\"temperature\":22.5}")),
                Named.of("reserved bit 6 set (D24)", dp(0x43, "{\"temperature\":22.5}")),
                Named.of("a byte after the declared length (D24)", concat(dp(3, "{\"temperature\":22.5}"), hex("00"))),
                Named.of("type-7 group with stream id 0 (D24)", hex("07 00 00 00 01 00 00 08 42")),
                Named.of("unknown type 8", dp(8, "{\"temperature\":22.5}")),
                Named.of("type 1 whose second stream has an empty id", dp(1, "{\"datastreams\":["
                        + "{\"id\":\"temperature\",\"datapoints\":[{\"value\":22.5}]},{\"id\":\"\",\"datapoints\":[{\"value\":1}]}]}")),
                Named.of("type 2 length beyond the payload", concat(dp(2, "{\"ds_id\":\"image\"}"), hex("00 00 00 09 DE AD"))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformed")
    void malformed_dp_disconnects_the_device_and_stores_nothing_D6(byte[] payload) throws Exception {
        TestDevice device = Clients.device(platform, product, "malformed");
        try (RawMqtt raw = Clients.raw(platform, device, true, 30)) {
            raw.send(RawMqtt.publishPacket("$dp", 1, 1, payload));

            assertThat(raw.packetsUntilClosed(5000)).as("closed without a PUBACK").isEmpty();
        }
        log.await("[" + device.id() + "]", "closed", "$dp"); // D6: logged with the reason
        assertThat(Points.streams(platform, product.masterKey(), device.id())).isEmpty();
        assertThat(all(device)).isEmpty();
    }

    @ParameterizedTest(name = "QoS {0}")
    @MethodSource("qos0and2")
    void malformed_dp_disconnects_at_qos_0_and_2_D6(int qos) throws Exception {
        TestDevice device = Clients.device(platform, product, "malformed-qos");
        try (RawMqtt raw = Clients.raw(platform, device, true, 30)) {
            raw.send(RawMqtt.publishPacket("$dp", qos, 1, dp(0x83, "{\"temperature\":22.5}")));

            assertThat(raw.packetsUntilClosed(5000)).as("closed without an acknowledgement").isEmpty();
        }
        await().atMost(5, SECONDS).until(() -> !Clients.online(platform, product, device));
        assertThat(Points.streams(platform, product.masterKey(), device.id())).isEmpty();
    }

    static Stream<Integer> qos0and2() {
        return Stream.of(0, 2);
    }

    @Test
    void with_on_error_drop_a_malformed_dp_is_dropped_and_the_device_stays_connected_D6(@TempDir Path dir) throws Exception {
        try (TestPlatform dropping = TestPlatform.start(dir, Map.of("dp.on-error", "drop"))) {
            TestProduct p = dropping.createProduct("drop");
            TestDevice device = Clients.device(dropping, p, "dropper");
            try (RawMqtt raw = Clients.raw(dropping, device, true, 30)) {
                int packetId = 1;
                for (byte[] payload : malformed().map(Named::getPayload).toList()) {
                    raw.send(RawMqtt.publishPacket("$dp", 1, packetId, payload));
                    expectAck(raw, PUBACK, packetId++);
                }
                raw.send(RawMqtt.publishPacket("$dp", 0, 0, dp(0x83, "{\"temperature\":22.5}")));
                Clients.ping(raw);
                assertThat(Points.streams(dropping, p.masterKey(), device.id())).isEmpty();
                assertThat(Points.all(dropping, p.masterKey(), device)).isEmpty();

                raw.send(RawMqtt.publishPacket("$dp", 1, packetId, dp(3, "{\"after\":1}")));
                expectAck(raw, PUBACK, packetId);
                assertThat(Points.all(dropping, p.masterKey(), device)).extracting(Point::stream, Point::value)
                        .containsExactly(tuple("after", json("1")));
                assertThat(raw.closedWithin(100)).isFalse();
            }
        }
    }

    // ---- D21, D22, D13 ---------------------------------------------------------------------------------

    @Test
    void republished_qos1_dp_with_a_time_creates_no_duplicate_D21() throws Exception {
        TestDevice device = Clients.device(platform, product, "redelivery");
        try (RawMqtt raw = Clients.raw(platform, device, true, 30)) {
            byte[] publish = RawMqtt.publishPacket("$dp", 1, 7, dp(4, "{\"level\":{\"2024-05-01 12:00:00\":1}}"));
            raw.send(publish);
            expectAck(raw, PUBACK, 7);
            publish[0] |= 0x08; // the same PUBLISH again with DUP, as a client does after a lost PUBACK [MQTT-4.3.2-1]
            raw.send(publish);
            expectAck(raw, PUBACK, 7);

            assertThat(all(device)).containsExactly(new Point("level", "2024-05-01 12:00:00.000", json("1")));

            // a new point at the same time replaces the stored one (history keyed by device, stream, ms)
            raw.send(RawMqtt.publishPacket("$dp", 1, 8, dp(1, "{\"datastreams\":[{\"id\":\"level\",\"datapoints\":"
                    + "[{\"at\":\"2024-05-01T12:00:00.000+08:00\",\"value\":2}]}]}")));
            expectAck(raw, PUBACK, 8);
        }
        assertThat(all(device)).containsExactly(new Point("level", "2024-05-01 12:00:00.000", json("2")));
        assertThat(Points.streams(platform, product.masterKey(), device.id()).get("level").path("current_value")).isEqualTo(json("2"));
    }

    @Test
    void points_of_one_message_with_the_same_time_keep_the_last_D21() throws Exception {
        TestDevice device = Clients.device(platform, product, "same-time");
        try (RawMqtt raw = Clients.raw(platform, device, true, 30)) {
            raw.send(RawMqtt.publishPacket("$dp", 1, 9, dp(1, "{\"datastreams\":[{\"id\":\"level\",\"datapoints\":["
                    + "{\"at\":\"2024-05-01T12:00:00.000+08:00\",\"value\":1},{\"at\":\"2024-05-01T12:00:00.000+08:00\",\"value\":2},"
                    + "{\"at\":\"2024-05-01T12:00:01.000+08:00\",\"value\":5},{\"at\":\"2024-05-01T12:00:01.000+08:00\",\"value\":6}]}]}")));
            expectAck(raw, PUBACK, 9);
        }
        assertThat(all(device)).containsExactly(new Point("level", "2024-05-01 12:00:00.000", json("2")),
                new Point("level", "2024-05-01 12:00:01.000", json("6")));
    }

    @Test
    void points_without_time_in_one_message_do_not_collide_D21() throws Exception {
        TestDevice device = Clients.device(platform, product, "no-time");
        Mqtt3BlockingClient client = Clients.hivemq(platform, device);
        Clients.connect(client, true);
        try {
            StringBuilder points = new StringBuilder();
            for (int i = 0; i < 50; i++) {
                points.append(i == 0 ? "" : ",").append("{\"value\":").append(i).append('}');
            }
            client.publishWith().topic("$dp").qos(MqttQos.AT_LEAST_ONCE)
                    .payload(dp(1, "{\"datastreams\":[{\"id\":\"n\",\"datapoints\":[" + points + "]}]}")).send();
            client.publishWith().topic("$dp").qos(MqttQos.AT_LEAST_ONCE).payload(dp(5, ",;m,a;m,b;m,c")).send();
        } finally {
            client.disconnect();
        }
        List<Point> stored = all(device);
        List<Point> n = stored.stream().filter(p -> p.stream().equals("n")).toList();
        assertThat(n).extracting(p -> p.value().asInt()).containsExactlyElementsOf(Stream.iterate(0, i -> i + 1).limit(50).toList());
        assertThat(n).extracting(Point::millis).isSorted().doesNotHaveDuplicates();
        List<Point> m = stored.stream().filter(p -> p.stream().equals("m")).toList();
        assertThat(m).extracting(p -> p.value().asText()).containsExactly("a", "b", "c");
        assertThat(m).extracting(Point::millis).doesNotHaveDuplicates();
        assertThat(Points.streams(platform, product.masterKey(), device.id()).get("n").path("current_value")).isEqualTo(json("49"));
    }

    @Test
    void a_late_older_point_does_not_replace_the_latest_value_D22() {
        TestDevice device = Clients.device(platform, product, "late");
        Mqtt3BlockingClient client = Clients.hivemq(platform, device);
        Clients.connect(client, true);
        try {
            client.publishWith().topic("$dp").qos(MqttQos.AT_LEAST_ONCE).payload(dp(4, "{\"t\":{\"2024-05-01 12:00:10\":2}}")).send();
            client.publishWith().topic("$dp").qos(MqttQos.AT_LEAST_ONCE).payload(dp(4, "{\"t\":{\"2024-05-01 12:00:00\":1}}")).send();
        } finally {
            client.disconnect();
        }
        JsonNode stream = Points.streams(platform, product.masterKey(), device.id()).get("t");
        assertThat(stream.path("current_value")).isEqualTo(json("2"));
        assertThat(stream.path("at").asText()).isEqualTo("2024-05-01 12:00:10.000");
        assertThat(all(device)).containsExactly(new Point("t", "2024-05-01 12:00:00.000", json("1")),
                new Point("t", "2024-05-01 12:00:10.000", json("2")));
        Reply latest = platform.withKey(product.masterKey(), "GET", "/devices/datapoints?devIds=" + device.id(), null);
        assertThat(latest.data().path("devices").get(0).path("datastreams").get(0).path("value")).isEqualTo(json("2"));
    }

    @Test
    void a_stream_is_created_by_its_first_point_D13() {
        TestDevice device = Clients.device(platform, product, "first-point");
        assertThat(platform.withKey(product.masterKey(), "GET", "/devices/" + device.id() + "/datastreams/humidity", null).errno())
                .as("no such stream yet").isEqualTo(8);
        Mqtt3BlockingClient client = Clients.hivemq(platform, device);
        Clients.connect(client, true);
        try {
            client.publishWith().topic("$dp").qos(MqttQos.AT_LEAST_ONCE).payload(dp(3, "{\"humidity\":\"95.2%\"}")).send();
        } finally {
            client.disconnect();
        }
        Reply r = platform.withKey(product.masterKey(), "GET", "/devices/" + device.id() + "/datastreams/humidity", null);
        assertThat(r.errno()).isZero();
        assertThat(r.data().path("id").asText()).isEqualTo("humidity");
        assertThat(r.data().path("create_time").asText()).matches("\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}");
        assertThat(r.data().path("current_value")).isEqualTo(json("\"95.2%\""));
    }

    // ---- D16: binary points ---------------------------------------------------------------------------

    @Test
    void binary_points_of_different_streams_at_the_same_time_keep_their_own_bytes_D16() {
        TestDevice device = Clients.device(platform, product, "blobs");
        Mqtt3BlockingClient client = Clients.hivemq(platform, device);
        Clients.connect(client, true);
        try {
            // "Aa" and "BB" have the same String.hashCode(); "image" and "photo" do not
            for (String stream : List.of("Aa", "BB", "image", "photo")) {
                client.publishWith().topic("$dp").qos(MqttQos.AT_LEAST_ONCE)
                        .payload(binary("{\"ds_id\":\"" + stream + "\",\"at\":\"2024-01-01 00:00:00\"}", stream.getBytes(UTF_8))).send();
            }
        } finally {
            client.disconnect();
        }
        Map<String, JsonNode> streams = Points.streams(platform, product.masterKey(), device.id());
        assertThat(streams).containsOnlyKeys("Aa", "BB", "image", "photo");
        streams.forEach((stream, s) -> {
            String index = s.path("current_value").path("index").asText();
            assertThat(Points.rawHttp(platform, product.masterKey(), "GET", "/bindata/" + index, null).body())
                    .as("bytes of %s (index %s)", stream, index).isEqualTo(stream.getBytes(UTF_8));
        });
    }

    @Test
    void a_binary_point_of_3_mib_is_stored_whole() {
        TestDevice device = Clients.device(platform, product, "big-blob");
        byte[] blob = Points.blob(3 * 1024 * 1024);
        Mqtt3BlockingClient client = Clients.hivemq(platform, device);
        Clients.connect(client, true);
        try {
            client.publishWith().topic("$dp").qos(MqttQos.AT_LEAST_ONCE).payload(binary("{\"ds_id\":\"big\"}", blob)).send();
        } finally {
            client.disconnect();
        }
        String index = Points.streams(platform, product.masterKey(), device.id()).get("big").path("current_value").path("index").asText();
        assertThat(Points.rawHttp(platform, product.masterKey(), "GET", "/bindata/" + index, null).body()).isEqualTo(blob);
    }

    // ---- durability ------------------------------------------------------------------------------------

    @Test
    void history_and_latest_values_survive_a_restart(@TempDir Path dir) throws Exception {
        try (TestPlatform restarting = TestPlatform.start(dir)) {
            TestProduct p = restarting.createProduct("restart");
            TestDevice device = Clients.device(restarting, p, "durable");
            try (PahoClient client = PahoClient.connected(restarting, device, true)) {
                client.client().publish("$dp", dp(4, "{\"t\":{\"2024-05-01 12:00:00\":1,\"2024-05-01 12:00:01\":2}}"), 1, false);
                client.client().publish("$dp", dp(3, "{\"s\":\"text\",\"o\":{\"k\":[1,2.5]}}"), 2, false);
                client.client().publish("$dp", binary("{\"ds_id\":\"image\"}", Points.blob(1000)), 1, false);
            }
            Points.upload(restarting, p.masterKey(), device.id(), "{\"datastreams\":[{\"id\":\"h\",\"datapoints\":[{\"value\":7}]}]}");
            List<Point> history = Points.all(restarting, p.masterKey(), device);
            Map<String, JsonNode> streams = Points.streams(restarting, p.masterKey(), device.id());
            assertThat(history).hasSize(6);

            restarting.restart();

            assertThat(Points.all(restarting, p.masterKey(), device)).isEqualTo(history);
            assertThat(Points.streams(restarting, p.masterKey(), device.id())).isEqualTo(streams);
            String index = streams.get("image").path("current_value").path("index").asText();
            assertThat(Points.rawHttp(restarting, p.masterKey(), "GET", "/bindata/" + index, null).body()).isEqualTo(Points.blob(1000));
            // and the device can carry on uploading to its streams
            try (PahoClient client = PahoClient.connected(restarting, device, true)) {
                client.client().publish("$dp", dp(4, "{\"t\":{\"2024-05-01 12:00:02\":3}}"), 1, false);
            }
            assertThat(Points.streams(restarting, p.masterKey(), device.id()).get("t").path("current_value")).isEqualTo(json("3"));
        }
    }
}
