package io.stratus.e2e;

import static io.stratus.e2e.Points.json;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import com.fasterxml.jackson.databind.JsonNode;
import io.stratus.e2e.TestPlatform.Reply;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The datastream API (API §6.2, docs/decisions.md): create, duplicate, read, update, list, delete; and that deleting a
 * stream or a device removes its history.
 */
class DatastreamApiTest {
    private static final String UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
    private static final String SECONDS = "\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}";

    @RegisterExtension
    static final TestPlatform platform = TestPlatform.perClass();
    static TestProduct product;
    static String key;

    @BeforeAll
    static void start() {
        product = platform.createProduct("streams");
        key = product.masterKey();
    }

    private static Reply call(String method, String path, Object body) {
        return platform.withKey(key, method, path, body);
    }

    private static String streams(TestDevice device) {
        return "/devices/" + device.id() + "/datastreams";
    }

    @Test
    void create_returns_a_ds_uuid_and_a_duplicate_is_errno_11() {
        TestDevice device = Clients.device(platform, product, "create");

        Reply created = call("POST", streams(device), Map.of("id", "speed", "tags", List.of("car"), "unit", "m/s", "unit_symbol", "m/s"));

        assertThat(created.errno()).as("%s", created.body()).isZero();
        String uuid = created.data().path("ds_uuid").asText();
        assertThat(uuid).matches(UUID);
        Reply again = call("POST", streams(device), Map.of("id", "speed"));
        assertThat(again.errno()).isEqualTo(11);
        JsonNode stream = call("GET", streams(device) + "/speed", null).data();
        assertThat(stream.path("id").asText()).isEqualTo("speed");
        assertThat(stream.path("uuid").asText()).isEqualTo(uuid);
        assertThat(stream.path("unit").asText()).isEqualTo("m/s");
        assertThat(stream.path("unit_symbol").asText()).isEqualTo("m/s");
        assertThat(stream.path("tags")).isEqualTo(json("[\"car\"]"));
        assertThat(stream.path("create_time").asText()).matches(SECONDS);
        assertThat(stream.path("update_at").asText()).matches(SECONDS);
        assertThat(stream.has("current_value")).as("no point yet").isFalse();
    }

    @Test
    void a_stream_created_by_a_data_point_is_a_duplicate_too() {
        TestDevice device = Clients.device(platform, product, "by-point");
        Points.upload(platform, key, device.id(), "{\"datastreams\":[{\"id\":\"temperature\",\"datapoints\":[{\"value\":1}]}]}");

        assertThat(call("POST", streams(device), Map.of("id", "temperature")).errno()).isEqualTo(11);
        assertThat(call("GET", streams(device) + "/temperature", null).data().path("current_value")).isEqualTo(json("1"));
    }

    @Test
    void a_created_stream_takes_data_points_and_keeps_its_unit() {
        TestDevice device = Clients.device(platform, product, "then-points");
        call("POST", streams(device), Map.of("id", "speed", "unit", "km/h"));

        Points.upload(platform, key, device.id(), "{\"datastreams\":[{\"id\":\"speed\",\"datapoints\":[{\"value\":88}]}]}");

        JsonNode stream = call("GET", streams(device) + "/speed", null).data();
        assertThat(stream.path("unit").asText()).isEqualTo("km/h");
        assertThat(stream.path("current_value")).isEqualTo(json("88"));
    }

    @Test
    void a_stream_without_points_has_no_current_value_anywhere() {
        TestDevice device = Clients.device(platform, product, "empty-stream");
        call("POST", streams(device), Map.of("id", "empty"));
        Points.upload(platform, key, device.id(), "{\"datastreams\":[{\"id\":\"full\",\"datapoints\":[{\"value\":1}]}]}");

        Reply list = call("GET", streams(device), null);
        assertThat(list.errno()).as("%s", list.body()).isZero();
        assertThat(list.data()).extracting(s -> s.path("id").asText(), s -> s.has("current_value"))
                .containsExactlyInAnyOrder(tuple("empty", false), tuple("full", true));
        assertThat(Points.points(Points.history(platform, key, device.id(), ""))).extracting(Points.Point::stream)
                .as("newest point of each stream").containsExactly("full");
        Reply latest = call("GET", "/devices/datapoints?devIds=" + device.id(), null);
        assertThat(latest.errno()).as("%s", latest.body()).isZero();
        assertThat(latest.data().path("devices").get(0).path("datastreams")).extracting(s -> s.path("id").asText())
                .containsExactly("full");
    }

    @Test
    void update_changes_the_unit_and_keeps_the_rest() {
        TestDevice device = Clients.device(platform, product, "update");
        call("POST", streams(device), Map.of("id", "speed", "unit", "m/s", "unit_symbol", "m/s", "tags", List.of("a")));

        Reply r = call("PUT", streams(device) + "/speed", Map.of("unit", "km/h"));

        assertThat(r.errno()).as("%s", r.body()).isZero();
        JsonNode stream = call("GET", streams(device) + "/speed", null).data();
        assertThat(stream.path("unit").asText()).isEqualTo("km/h");
        assertThat(stream.path("unit_symbol").asText()).isEqualTo("m/s");
        assertThat(stream.path("tags")).isEqualTo(json("[\"a\"]"));
    }

    @Test
    void list_returns_all_streams_or_those_named_with_current_values() {
        TestDevice device = Clients.device(platform, product, "list");
        Points.upload(platform, key, device.id(), "{\"datastreams\":[{\"id\":\"a\",\"datapoints\":[{\"value\":1}]},"
                + "{\"id\":\"b\",\"datapoints\":[{\"value\":\"two\"}]},{\"id\":\"c\",\"datapoints\":[{\"value\":{\"x\":3}}]}]}");

        Reply all = call("GET", streams(device), null);
        Reply named = call("GET", streams(device) + "?datastream_ids=a,c,missing", null);

        assertThat(all.data()).extracting(s -> s.path("id").asText()).containsExactlyInAnyOrder("a", "b", "c");
        assertThat(named.data()).extracting(s -> s.path("id").asText(), s -> s.path("current_value"))
                .containsExactlyInAnyOrder(tuple("a", json("1")),
                        tuple("c", json("{\"x\":3}")));
    }

    @Test
    void unknown_streams_are_errno_8() {
        TestDevice device = Clients.device(platform, product, "unknown");

        assertThat(call("GET", streams(device) + "/nope", null).errno()).isEqualTo(8);
        assertThat(call("PUT", streams(device) + "/nope", Map.of("unit", "x")).errno()).isEqualTo(8);
        assertThat(call("DELETE", streams(device) + "/nope", null).errno()).isEqualTo(8);
        assertThat(call("GET", "/devices/999999999/datastreams", null).errno()).isEqualTo(8);
        assertThat(call("POST", "/devices/999999999/datastreams", Map.of("id", "x")).errno()).isEqualTo(8);
    }

    @Test
    void create_refuses_an_id_that_makes_no_topic_level_with_errno_6() {
        TestDevice device = Clients.device(platform, product, "bad-id");

        for (String id : List.of("a#b", "+", "a/b", "nul\u0000", "x".repeat(129))) {
            Reply r = call("POST", streams(device), Map.of("id", id));
            assertThat(r.errno()).as(id).isEqualTo(6);
        }
        assertThat(call("POST", streams(device), Map.of("id", "x".repeat(128))).errno()).isZero();
    }

    @Test
    void create_needs_an_id() {
        TestDevice device = Clients.device(platform, product, "no-id");

        assertThat(call("POST", streams(device), Map.of("unit", "x")).errno()).isEqualTo(7);
        assertThat(call("POST", streams(device), "{\"id\":").errno()).isEqualTo(4);
        assertThat(call("POST", streams(device), null).errno()).isEqualTo(9);
        assertThat(call("GET", streams(device), null).data()).isEmpty();
    }

    @Test
    void delete_removes_the_stream_and_its_history() {
        TestDevice device = Clients.device(platform, product, "delete");
        Points.upload(platform, key, device.id(), "{\"datastreams\":[{\"id\":\"gone\",\"datapoints\":[{\"at\":\"2024-01-01T00:00:00\",\"value\":1},"
                + "{\"value\":2}]},{\"id\":\"kept\",\"datapoints\":[{\"value\":3}]}]}");
        String index = Points.parse(Points.rawHttp(platform, key, "POST", "/bindata?device_id=" + device.id() + "&datastream_id=gone",
                new byte[] {1, 2, 3}).body()).path("data").path("index").asText();

        Reply r = call("DELETE", streams(device) + "/gone", null);

        assertThat(r.errno()).as("%s", r.body()).isZero();
        assertThat(call("GET", streams(device) + "/gone", null).errno()).isEqualTo(8);
        assertThat(Points.all(platform, key, device)).extracting(Points.Point::stream).containsExactly("kept");
        assertThat(Points.points(Points.history(platform, key, device.id(), "datastream_id=gone"))).isEmpty();
        assertThat(new String(Points.rawHttp(platform, key, "GET", "/bindata/" + index, null).body(), UTF_8))
                .as("the stream's binary points go with it").contains("\"errno\":8");

        // a new point starts the stream afresh, without the old history
        Points.upload(platform, key, device.id(), "{\"datastreams\":[{\"id\":\"gone\",\"datapoints\":[{\"value\":4}]}]}");
        assertThat(Points.points(Points.history(platform, key, device.id(), Points.SINCE_2000 + "&datastream_id=gone")))
                .extracting(Points.Point::value).containsExactly(json("4"));
    }

    @Test
    void deleting_a_device_removes_its_streams_and_history() {
        TestDevice device = platform.createDevice(product, "doomed", "doomed-sn");
        Points.upload(platform, key, device.id(), "{\"datastreams\":[{\"id\":\"t\",\"datapoints\":[{\"value\":1}]}]}");

        Reply r = call("DELETE", "/devices/" + device.id(), null);

        assertThat(r.errno()).as("%s", r.body()).isZero();
        assertThat(call("GET", streams(device), null).errno()).isEqualTo(8);
        assertThat(call("GET", streams(device) + "/t", null).errno()).isEqualTo(8);
        assertThat(call("GET", "/devices/" + device.id() + "/datapoints", null).errno()).isEqualTo(8);
        assertThat(call("GET", "/devices/" + device.id() + "/datapoints?start=2000-01-01T00:00:00", null).errno()).isEqualTo(8);
        assertThat(call("GET", "/devices/datapoints?devIds=" + device.id(), null).data().path("devices")).isEmpty();

        TestDevice again = platform.createDevice(product, "doomed", "doomed-sn");
        assertThat(again.id()).as("IDs are not reused").isNotEqualTo(device.id());
        assertThat(call("GET", streams(again), null).data()).isEmpty();
    }

    @Test
    void a_key_of_another_product_is_errno_3() {
        TestDevice device = Clients.device(platform, product, "guarded");
        call("POST", streams(device), Map.of("id", "s"));
        TestProduct other = platform.createProduct("intruder");

        for (String[] request : List.of(new String[] {"POST", streams(device)}, new String[] {"PUT", streams(device) + "/s"},
                new String[] {"DELETE", streams(device) + "/s"}, new String[] {"GET", streams(device) + "/s"})) {
            Reply r = platform.withKey(other.masterKey(), request[0], request[1], Map.of("id", "x", "unit", "y"));
            assertThat(r.status()).as("%s %s", request[0], request[1]).isEqualTo(200);
            assertThat(r.errno()).isEqualTo(3);
        }
        assertThat(call("GET", streams(device), null).data()).extracting(s -> s.path("id").asText()).containsExactly("s");
    }
}
