package io.stratus.e2e;

import static io.stratus.e2e.Points.concat;
import static io.stratus.e2e.Points.dp;
import static io.stratus.e2e.Points.hex;
import static io.stratus.e2e.Points.lengthPrefixed;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import io.stratus.e2e.Points.Point;
import io.stratus.e2e.TestPlatform.Reply;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The three zones: {@code dp.timezone} reads datetime strings without an offset in uploads, {@code dp.binary-timezone}
 * the six-byte times of {@code $dp} types 6 and 7, and {@code api.timezone} is the zone the API writes times in and
 * reads offset-less query times in. Each setting changes only its own part.
 */
class TimezoneTest {
    /** The instant every upload below names, each in its own way. */
    static final Instant SENT = Instant.parse("2024-05-06T23:30:15Z");
    /** {@link #SENT} as a device in Beijing writes it: already the next day. */
    static final String BEIJING = "2024-05-07 07:30:15";
    static final String UTC = "2024-05-06 23:30:15";

    private record Server(TestPlatform platform, TestProduct product, TestDevice device) implements AutoCloseable {
        static Server start(Path dir, Map<String, String> settings) {
            TestPlatform platform = TestPlatform.start(dir, settings);
            TestProduct product = platform.createProduct("zones");
            return new Server(platform, product, Clients.device(platform, product, "zones"));
        }

        /** Type 6 and type 7 with {@link #SENT} packed as OneNET's C SDK packs it: gmtime(), UTC. */
        void publishSixByteTimes() {
            LocalDateTime gmtime = LocalDateTime.ofInstant(SENT, ZoneOffset.UTC);
            byte[] time = {(byte) (gmtime.getYear() - 2000), (byte) gmtime.getMonthValue(), (byte) gmtime.getDayOfMonth(),
                (byte) gmtime.getHour(), (byte) gmtime.getMinute(), (byte) gmtime.getSecond()};
            Mqtt3BlockingClient client = Clients.hivemq(platform, device);
            Clients.connect(client, true);
            try {
                // QoS 1: the PUBACK follows the commit, so the points are stored when send() returns
                client.publishWith().topic("$dp").qos(MqttQos.AT_LEAST_ONCE)
                        .payload(concat(hex("86"), time, lengthPrefixed(",;six,1"))).send();
                client.publishWith().topic("$dp").qos(MqttQos.AT_LEAST_ONCE)
                        .payload(concat(hex("87"), time, hex("00 07 00 01 00 00 C0 3F"))).send();
                client.publishWith().topic("$dp").qos(MqttQos.AT_LEAST_ONCE)
                        .payload(dp(1, "{\"datastreams\":[{\"id\":\"mqtt\",\"datapoints\":[{\"at\":\"" + stringTime() + "\",\"value\":2}]}]}"))
                        .send();
            } finally {
                client.disconnect();
            }
        }

        void uploadOverHttp() {
            Points.upload(platform, product.masterKey(), device.id(),
                    "{\"datastreams\":[{\"id\":\"http\",\"datapoints\":[{\"at\":\"" + stringTime() + "\",\"value\":3}]}]}");
            Reply r = platform.withKey(product.masterKey(), "POST", "/devices/" + device.id() + "/datapoints?type=5",
                    ",;five," + stringTime() + ",4");
            assertThat(r.errno()).as("%s", r.body()).isZero();
        }

        /** {@link #SENT} as this server's devices write it: in dp.timezone. */
        String stringTime() {
            return platform.platform().config().timezone().normalized().equals(ZoneOffset.UTC) ? UTC : BEIJING;
        }

        List<Point> history(String query) {
            return Points.points(Points.history(platform, product.masterKey(), device.id(), query));
        }

        String infoTimezone() {
            return platform.withKey(product.masterKey(), "GET", "/info", null).data().path("timezone").asText();
        }

        @Override
        public void close() {
            platform.close();
        }
    }

    private static void assertAllAt(List<Point> points, String apiTime) {
        assertThat(points).extracting(Point::stream, Point::at).containsExactlyInAnyOrder(tuple("six", apiTime),
                tuple("7", apiTime), tuple("mqtt", apiTime), tuple("http", apiTime), tuple("five", apiTime));
    }

    @Test
    void by_default_six_byte_times_are_utc_strings_are_utc_plus_8_and_the_api_writes_utc_plus_8(@TempDir Path dir) {
        try (Server s = Server.start(dir, Map.of())) {
            s.publishSixByteTimes();
            s.uploadOverHttp();

            assertAllAt(s.history("start=2024-05-07T07:30:15&end=2024-05-07T07:30:15"), BEIJING + ".000");
            assertThat(s.history("start=2024-05-06T23:30:15Z&end=2024-05-06T23:30:15Z")).hasSize(5);
            assertThat(s.infoTimezone()).isEqualTo("+08:00");
        }
    }

    @Test
    void dp_timezone_changes_how_upload_strings_are_read_and_nothing_the_api_writes(@TempDir Path dir) {
        try (Server s = Server.start(dir, Map.of("dp.timezone", "UTC"))) {
            s.publishSixByteTimes();
            s.uploadOverHttp(); // the same instant, written in UTC

            assertAllAt(s.history("start=2024-05-07T07:30:15&end=2024-05-07T07:30:15"), BEIJING + ".000");
            assertThat(s.infoTimezone()).isEqualTo("+08:00");
        }
    }

    @Test
    void api_timezone_changes_only_what_the_api_writes_and_reads(@TempDir Path dir) {
        try (Server s = Server.start(dir, Map.of("api.timezone", "UTC"))) {
            s.publishSixByteTimes();
            s.uploadOverHttp(); // upload strings are still read in UTC+8

            assertAllAt(s.history("start=2024-05-06T23:30:15&end=2024-05-06T23:30:15"), UTC + ".000");
            assertThat(s.history("start=2024-05-06T23:30:16")).isEmpty();
            assertThat(s.infoTimezone()).isEqualTo("UTC");
        }
    }
}
