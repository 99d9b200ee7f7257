package io.stratus.e2e;

import static io.stratus.e2e.Points.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import com.fasterxml.jackson.databind.JsonNode;
import io.stratus.e2e.Points.Point;
import io.stratus.e2e.TestPlatform.Reply;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The datapoint API (API §6.3 and "Stratus extensions and decisions", docs/decisions.md): history windows, limits,
 * sorting and cursors; uploads; latest values of many devices; binary points.
 */
class DatapointApiTest {
    /** 2024-01-01 00:00:00 UTC+8. */
    static final long BASE = Points.millis("2024-01-01 00:00:00.000");
    static final long MINUTE = 60_000;

    @RegisterExtension
    static final TestPlatform platform = TestPlatform.perClass();
    static TestProduct product;
    static TestProduct otherProduct;
    static String key;
    /** Stream "a": value i at BASE + i min; stream "b": value 100 + i at BASE + i min + 30 s (i = 0..9). */
    static TestDevice ten;
    /** 250 points: streams p (84), q (83) and r (83) sharing the times BASE + i s. */
    static TestDevice paged;
    static List<Point> pagedPoints;

    @BeforeAll
    static void start() {
        product = platform.createProduct("history");
        otherProduct = platform.createProduct("other");
        key = product.masterKey();

        ten = Clients.device(platform, product, "ten");
        StringBuilder a = new StringBuilder();
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 10; i++) {
            a.append(i == 0 ? "" : ",").append(point(BASE + i * MINUTE, String.valueOf(i)));
            b.append(i == 0 ? "" : ",").append(point(BASE + i * MINUTE + 30_000, String.valueOf(100 + i)));
        }
        Points.upload(platform, key, ten.id(), "{\"datastreams\":[{\"id\":\"a\",\"datapoints\":[" + a + "]},"
                + "{\"id\":\"b\",\"datapoints\":[" + b + "]}]}");

        paged = Clients.device(platform, product, "paged");
        pagedPoints = new ArrayList<>();
        StringBuilder body = new StringBuilder("{\"datastreams\":[");
        for (String stream : List.of("p", "q", "r")) {
            int n = stream.equals("p") ? 84 : 83;
            body.append(stream.equals("p") ? "" : ",").append("{\"id\":\"").append(stream).append("\",\"datapoints\":[");
            for (int i = 0; i < n; i++) {
                body.append(i == 0 ? "" : ",").append(point(BASE + i * 1000L, String.valueOf(i)));
                pagedPoints.add(new Point(stream, Points.apiTime(BASE + i * 1000L), json(String.valueOf(i))));
            }
            body.append("]}");
        }
        Points.upload(platform, key, paged.id(), body.append("]}").toString());
        pagedPoints.sort(Comparator.comparing(Point::at).thenComparing(Point::stream));
    }

    /** A type-1 datapoint with a query-style time ({@code yyyy-MM-ddTHH:mm:ss}, UTC+8). */
    private static String point(long at, String valueJson) {
        return "{\"at\":\"" + Points.queryTime(at) + "\",\"value\":" + valueJson + "}";
    }

    private static List<Point> history(TestDevice device, String query) {
        return Points.points(Points.history(platform, key, device.id(), query));
    }

    private static Reply get(String path) {
        return platform.withKey(key, "GET", path, null);
    }

    private static List<Integer> values(List<Point> points) {
        return points.stream().map(p -> p.value().asInt()).toList();
    }

    // ---- windows ---------------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
            "start=2024-01-01T00:03:00                                 | 3,4,5,6,7,8,9",
            "end=2024-01-01T00:03:00                                   | 0,1,2,3",
            "start=2024-01-01T00:02:00&duration=120                    | 2,3,4",
            "end=2024-01-01T00:05:00&duration=120                      | 3,4,5",
            "start=2024-01-01T00:01:00&end=2024-01-01T00:04:00&duration=1 | 1,2,3,4",
            "start=2024-01-01T00:01:00&end=2024-01-01T00:04:00         | 1,2,3,4",
            "start=2024-01-01 00:08:00.000                             | 8,9",
            "start=2023-12-31T16:08:00Z                                | 8,9"})
    void history_window_rules(String window, String expected) {
        List<Point> points = history(ten, "datastream_id=a&" + window.replace(" ", "%20"));

        assertThat(values(points)).map(String::valueOf).containsExactly(expected.split(","));
        assertThat(points).allSatisfy(p -> assertThat(p.at()).matches("\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}\\.\\d{3}"));
    }

    @Test
    void an_empty_range_returns_no_points_and_no_cursor() {
        Reply r = platform.withKey(key, "GET", "/devices/" + ten.id() + "/datapoints?datastream_id=a&start=2030-01-01T00:00:00", null);

        assertThat(r.errno()).isZero();
        assertThat(r.data().path("count").asInt()).isZero();
        assertThat(r.data().has("cursor")).isFalse();
        assertThat(Points.points(r)).isEmpty();
    }

    @Test
    void without_a_window_the_newest_point_of_each_stream_is_returned() {
        assertThat(history(ten, "")).containsExactly(
                new Point("a", "2024-01-01 00:09:00.000", json("9")),
                new Point("b", "2024-01-01 00:09:30.000", json("109")));
        assertThat(history(ten, "datastream_id=b")).containsExactly(new Point("b", "2024-01-01 00:09:30.000", json("109")));
        assertThat(history(ten, "datastream_id=a,b&sort=DESC")).extracting(Point::stream).containsExactly("b", "a");
    }

    @Test
    void limit_counts_points_across_streams_in_time_order() {
        Reply r = Points.history(platform, key, ten.id(), "start=2024-01-01T00:00:00&limit=5");

        assertThat(r.data().path("count").asInt()).isEqualTo(5);
        assertThat(Points.points(r)).extracting(Point::stream, p -> p.value().asInt())
                .containsExactlyInAnyOrder(tuple("a", 0), tuple("a", 1), tuple("a", 2), tuple("b", 100), tuple("b", 101));
        assertThat(r.data().path("cursor").isTextual()).as("more remain").isTrue();
    }

    @Test
    void sort_desc_returns_the_newest_first_and_its_cursor_continues_backwards() {
        Reply first = Points.history(platform, key, ten.id(), "datastream_id=a&start=2024-01-01T00:00:00&sort=DESC&limit=3");
        assertThat(values(Points.points(first))).containsExactly(9, 8, 7);

        Reply second = Points.history(platform, key, ten.id(), "datastream_id=a&start=2024-01-01T00:00:00&sort=DESC&limit=3&cursor="
                + first.data().path("cursor").asText());
        assertThat(values(Points.points(second))).containsExactly(6, 5, 4);
        assertThat(values(history(ten, "datastream_id=a&start=2024-01-01T00:00:00&sort=asc&limit=2"))).containsExactly(0, 1);
    }

    @Test
    void default_limit_is_100() {
        Reply r = Points.history(platform, key, paged.id(), "start=2024-01-01T00:00:00");

        assertThat(r.data().path("count").asInt()).isEqualTo(100);
        assertThat(r.data().path("cursor").isTextual()).isTrue();
    }

    @Test
    void limit_6000_is_accepted() {
        Reply r = Points.history(platform, key, paged.id(), "start=2024-01-01T00:00:00&limit=6000");

        assertThat(r.data().path("count").asInt()).isEqualTo(250);
        assertThat(r.data().has("cursor")).as("nothing remains").isFalse();
    }

    @ParameterizedTest(name = "sort={0}")
    @ValueSource(strings = {"ASC", "DESC"})
    void cursor_pages_return_every_point_exactly_once_in_order(String sort) {
        List<Point> all = new ArrayList<>();
        List<Integer> pageSizes = new ArrayList<>();
        String cursor = null;
        do {
            Reply r = Points.history(platform, key, paged.id(), "start=2024-01-01T00:00:00&limit=100&sort=" + sort
                    + (cursor == null ? "" : "&cursor=" + cursor));
            List<Point> page = Points.points(r);
            // within a page the reply groups points by stream; restore the (time, stream) order to compare
            page.sort(Comparator.comparing(Point::at).thenComparing(Point::stream));
            if (sort.equals("DESC")) {
                Collections.reverse(page);
            }
            all.addAll(page);
            pageSizes.add(page.size());
            cursor = r.data().has("cursor") ? r.data().path("cursor").asText() : null;
        } while (cursor != null && pageSizes.size() < 10);

        assertThat(pageSizes).containsExactly(100, 100, 50);
        List<Point> expected = new ArrayList<>(pagedPoints);
        if (sort.equals("DESC")) {
            Collections.reverse(expected);
        }
        assertThat(all).containsExactlyElementsOf(expected);
    }

    // ---- errors ----------------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"limit=6001", "limit=0", "limit=-1", "limit=ten", "start=2024/01/01", "start=yesterday",
            "end=2024-13-01T00:00:00", "start=2024-01-01T00:00:00&duration=-5", "sort=UP", "cursor=not-a-cursor",
            "cursor=%25%25%25", "start=2024-01-01T00:00:00&cursor=MTIz"})
    void invalid_query_parameters_are_errno_6(String query) {
        Reply r = get("/devices/" + ten.id() + "/datapoints?" + query);

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.errno()).as("%s", r.body()).isEqualTo(6);
    }

    @Test
    void a_key_of_another_product_is_errno_3() {
        for (String path : List.of("/devices/" + ten.id() + "/datapoints", "/devices/" + ten.id() + "/datastreams",
                "/devices/" + ten.id() + "/datastreams/a")) {
            Reply r = platform.withKey(otherProduct.masterKey(), "GET", path, null);
            assertThat(r.status()).as(path).isEqualTo(200);
            assertThat(r.errno()).as(path).isEqualTo(3);
        }
        Reply upload = platform.withKey(otherProduct.masterKey(), "POST", "/devices/" + ten.id() + "/datapoints", "{\"x\":1}");
        assertThat(upload.status()).isEqualTo(200);
        assertThat(upload.errno()).isEqualTo(3);
        assertThat(Points.streams(platform, key, ten.id())).containsOnlyKeys("a", "b");
    }

    @Test
    void an_unknown_device_is_errno_8() {
        assertThat(get("/devices/999999999/datapoints").errno()).isEqualTo(8);
        assertThat(get("/devices/999999999/datapoints?start=2024-01-01T00:00:00").errno()).isEqualTo(8);
        assertThat(get("/devices/not-a-number/datapoints").errno()).isEqualTo(8);
    }

    // ---- uploads ---------------------------------------------------------------------------------------

    @Test
    void upload_accepts_the_type_1_body() {
        TestDevice device = Clients.device(platform, product, "upload-1");
        long before = System.currentTimeMillis();

        Reply r = platform.withKey(key, "POST", "/devices/" + device.id() + "/datapoints",
                "{\"datastreams\":[{\"id\":\"temperature\",\"datapoints\":[{\"at\":\"2013-04-22T00:35:43\",\"value\":\"bacd\"},"
                        + "{\"value\":84}]}]}");

        assertThat(r.errno()).as("%s", r.body()).isZero();
        assertThat(r.data().isMissingNode()).as("no data for a write").isTrue();
        List<Point> points = Points.all(platform, key, device);
        assertThat(points).hasSize(2);
        assertThat(points.get(0)).isEqualTo(new Point("temperature", "2013-04-22 00:35:43.000", json("\"bacd\"")));
        assertThat(points.get(1).value()).isEqualTo(json("84"));
        assertThat(points.get(1).millis()).isBetween(before, System.currentTimeMillis());
        assertThat(Points.streams(platform, key, device.id()).get("temperature").path("current_value")).isEqualTo(json("84"));
    }

    @Test
    void upload_accepts_the_type_3_simple_body() {
        TestDevice device = Clients.device(platform, product, "upload-3");

        Reply r = platform.withKey(key, "POST", "/devices/" + device.id() + "/datapoints?type=3",
                "{\"temperature\":22.5,\"humidity\":\"95.2%\",\"loc\":{\"lon\":117.48,\"lat\":39.96}}");

        assertThat(r.errno()).as("%s", r.body()).isZero();
        assertThat(Points.all(platform, key, device)).extracting(Point::stream, Point::value).containsExactlyInAnyOrder(
                tuple("temperature", json("22.5")), tuple("humidity", json("\"95.2%\"")),
                tuple("loc", json("{\"lon\":117.48,\"lat\":39.96}")));
    }

    @ParameterizedTest(name = "{0} -> errno {2}")
    @CsvSource(delimiter = '|', value = {
            "invalid JSON                 | {\"datastreams\":[                                  | 4 | ",
            "invalid JSON, type 3         | {temperature:22.5}                                 | 4 | ?type=3",
            "missing body                 |                                                    | 9 | ",
            "datastreams not an array     | {\"datastreams\":{\"id\":\"x\"}}                   | 6 | ",
            "datapoint without a value    | {\"datastreams\":[{\"id\":\"x\",\"datapoints\":[{}]}]} | 6 | ",
            "binary type                  | {\"x\":1}                                          | 6 | ?type=2",
            "unknown type                 | {\"x\":1}                                          | 6 | ?type=6",
            "JSON array, not an object    | [{\"x\":1}]                                      | 6 | ?type=3",
            "blank body                   | '   '                                              | 9 | ?type=3"})
    void bad_uploads_are_refused_and_store_nothing(String name, String body, int errno, String query) {
        TestDevice device = Clients.device(platform, product, "bad-upload");

        Reply r = platform.withKey(key, "POST", "/devices/" + device.id() + "/datapoints" + (query == null ? "" : query),
                body == null ? null : body);

        assertThat(r.errno()).as("%s", r.body()).isEqualTo(errno);
        assertThat(Points.streams(platform, key, device.id())).isEmpty();
    }

    /** The same five points as a type 1 body and as type 4 and type 5 bodies (times without an offset: UTC+8). */
    static final String TYPE_1_TIMED = "{\"datastreams\":["
            + "{\"id\":\"temperature\",\"datapoints\":[{\"at\":\"2015-03-22T22:31:12\",\"value\":22.5},"
            + "{\"at\":\"2015-03-22T22:31:13.250\",\"value\":23}]},"
            + "{\"id\":\"pm2.5\",\"datapoints\":[{\"at\":\"2015-03-22T22:31:12\",\"value\":89}]},"
            + "{\"id\":\"status\",\"datapoints\":[{\"at\":\"2015-03-22 22:31:12\",\"value\":\"ok\"}]},"
            + "{\"id\":\"温度\",\"datapoints\":[{\"at\":\"2015-03-22T14:31:14Z\",\"value\":-1.5e3}]}]}";

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            "type 4                       | 4 | `{\"temperature\":{\"2015-03-22T22:31:12\":22.5,\"2015-03-22T22:31:13.250\":23},"
                    + "\"pm2.5\":{\"2015-03-22T22:31:12\":89},\"status\":{\"2015-03-22 22:31:12\":\"ok\"},"
                    + "\"温度\":{\"2015-03-22T14:31:14Z\":-1.5e3}}`",
            "type 5                       | 5 | `,;temperature,2015-03-22T22:31:12,22.5;temperature,2015-03-22T22:31:13.250,23;"
                    + "pm2.5,2015-03-22T22:31:12,89;status,2015-03-22 22:31:12,ok;温度,2015-03-22T14:31:14Z,-1.5e3`",
            "`type 5, separators | and #` | 5 | `|#temperature|2015-03-22T22:31:12|22.5#temperature|2015-03-22T22:31:13.250|23#"
                    + "pm2.5|2015-03-22T22:31:12|89#status|2015-03-22 22:31:12|ok#温度|2015-03-22T14:31:14Z|-1.5e3`",
            "type 5, separators ， and ； | 5 | `，；temperature，2015-03-22T22:31:12，22.5；temperature，2015-03-22T22:31:13.250，23；"
                    + "pm2.5，2015-03-22T22:31:12，89；status，2015-03-22 22:31:12，ok；温度，2015-03-22T14:31:14Z，-1.5e3`"})
    void upload_types_4_and_5_store_the_same_points_as_type_1(String name, int type, String body) {
        TestDevice viaType1 = Clients.device(platform, product, "type-1");
        TestDevice device = Clients.device(platform, product, "type-" + type);
        Points.upload(platform, key, viaType1.id(), TYPE_1_TIMED);

        Reply r = platform.withKey(key, "POST", "/devices/" + device.id() + "/datapoints?type=" + type, body);

        assertThat(r.errno()).as("%s", r.body()).isZero();
        List<Point> expected = sorted(Points.all(platform, key, viaType1));
        assertThat(expected).hasSize(5).contains(new Point("temperature", "2015-03-22 22:31:12.000", json("22.5")));
        assertThat(sorted(Points.all(platform, key, device))).containsExactlyElementsOf(expected);
        assertThat(Points.streams(platform, key, device.id()).keySet())
                .containsExactlyInAnyOrderElementsOf(Points.streams(platform, key, viaType1.id()).keySet());
    }

    @Test
    void upload_type_5_points_without_a_time_take_the_arrival_time_as_in_type_1() {
        TestDevice viaType1 = Clients.device(platform, product, "type-1-now");
        TestDevice device = Clients.device(platform, product, "type-5-now");
        long before = System.currentTimeMillis();
        Points.upload(platform, key, viaType1.id(), "{\"datastreams\":[{\"id\":\"temperature\",\"datapoints\":[{\"value\":22.5}]},"
                + "{\"id\":\"1\",\"datapoints\":[{\"value\":102}]},{\"id\":\"pm2.5\",\"datapoints\":[{\"value\":89}]},"
                + "{\"id\":\"at\",\"datapoints\":[{\"at\":\"2015-03-22T22:31:12\",\"value\":\"x\"}]}]}");

        // §3.2: a bare value's stream is its field's index, counted from 0
        Reply r = platform.withKey(key, "POST", "/devices/" + device.id() + "/datapoints?type=5",
                ",;temperature,22.5;102;pm2.5,89;at,2015-03-22T22:31:12,x");

        long after = System.currentTimeMillis();
        assertThat(r.errno()).as("%s", r.body()).isZero();
        List<Point> expected = sorted(Points.all(platform, key, viaType1));
        List<Point> stored = sorted(Points.all(platform, key, device));
        assertThat(stored).extracting(Point::stream, Point::value)
                .containsExactlyElementsOf(expected.stream().map(p -> tuple(p.stream(), p.value())).toList());
        assertThat(stored).filteredOn(p -> !p.stream().equals("at")).hasSize(3)
                .allSatisfy(p -> assertThat(p.millis()).as("arrival time of %s", p).isBetween(before, after));
        assertThat(stored).filteredOn(p -> p.stream().equals("at")).extracting(Point::at)
                .containsExactly("2015-03-22 22:31:12.000");
    }

    @ParameterizedTest(name = "{0} -> errno {2}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            "type 4 value not an object     | 4 | 6 | {\"t\":22.5}                       | `value of \"t\" must be an object of datetime -> value`",
            "type 4 key not a datetime      | 4 | 6 | {\"t\":{\"yesterday\":1}}           | `key \"yesterday\" of \"t\" is not a datetime`",
            "type 4 null value              | 4 | 6 | {\"t\":{\"2015-03-22 22:31:12\":null}} | `is missing or null`",
            "type 4 not an object           | 4 | 6 | [1]                                | JSON must be an object",
            "type 4 invalid JSON            | 4 | 4 | {\"t\":{                           | invalid JSON",
            "type 5 same separators         | 5 | 6 | `,,a,1`                            | `separators must differ (both \",\")`",
            "type 5 one separator only      | 5 | 6 | `,`                                | string needs two separator characters",
            "type 5 no fields               | 5 | 6 | `,;`                               | no fields after the separators",
            "type 5 bad datetime            | 5 | 6 | `,;a,1;b,2015-13-40 00:00:00,2`    | `field 1: \"2015-13-40 00:00:00\" is not a datetime at byte 6`",
            "type 5 four parts              | 5 | 6 | `,;a,1;b,2,3,4`                    | field 1 has more than 3 parts",
            "type 5 empty field             | 5 | 6 | `,;a,1;;b,2`                       | field 1 has an empty part",
            "type 5 blank                   | 5 | 9 | `  `                               | ",
            "type 5 invalid UTF-8           | 5 | 6 |                                    | string is not valid UTF-8"})
    void bad_type_4_and_5_uploads_name_the_problem_and_store_nothing(String name, int type, int errno, String body,
            String problem) {
        TestDevice device = Clients.device(platform, product, "bad-type-" + type);
        byte[] bytes = body == null ? new byte[] {',', ';', 'a', ',', (byte) 0xFF} : body.getBytes(StandardCharsets.UTF_8);

        HttpResponse<byte[]> r = Points.rawHttp(platform, key, "POST", "/devices/" + device.id() + "/datapoints?type=" + type, bytes);

        JsonNode reply = Points.parse(r.body());
        assertThat(reply.path("errno").asInt()).as("%s", reply).isEqualTo(errno);
        if (problem != null) {
            assertThat(reply.path("error").asText()).contains("type " + type + ": ", problem);
        }
        assertThat(Points.streams(platform, key, device.id())).isEmpty();
    }

    @ParameterizedTest(name = "type {0}")
    @ValueSource(ints = {1, 4, 5})
    void upload_body_limit_is_the_same_for_every_type(int type) {
        TestDevice device = Clients.device(platform, product, "large-" + type);
        String filler = "x".repeat(64 * 1024);
        String body = switch (type) {
            case 1 -> "{\"datastreams\":[{\"id\":\"s\",\"datapoints\":[{\"value\":\"" + filler + "\"}]}]}";
            case 4 -> "{\"s\":{\"2024-01-01 00:00:00\":\"" + filler + "\"}}";
            default -> ",;s," + filler;
        };

        Reply r = platform.withKey(key, "POST", "/devices/" + device.id() + "/datapoints?type=" + type, body);

        assertThat(r.errno()).as("%s", r.body()).isEqualTo(5);
        assertThat(Points.streams(platform, key, device.id())).isEmpty();
    }

    @ParameterizedTest(name = "type {0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            "1 | `{\"datastreams\":[{\"id\":\"a\",\"datapoints\":[{\"value\":1}]},{\"id\":\"b\",\"datapoints\":[{\"value\":2}]}]}`",
            "4 | `{\"a\":{\"2024-01-01 00:00:00\":1},\"b\":{\"2024-01-01 00:00:00\":2}}`",
            "5 | `,;a,1;b,2`",
            "5 | `,;1;2`"})
    void a_key_granting_one_stream_uploads_all_or_nothing_whatever_the_type(int type, String body) {
        TestDevice device = Clients.device(platform, product, "one-stream-" + type);
        Reply created = platform.withKey(key, "POST", "/keys", Map.of("title", "stream a",
                "permissions", List.of(Map.of("resources", List.of(Map.of("dev_id", device.id(), "ds_id", "a"))))));
        assertThat(created.errno()).as("%s", created.body()).isZero();
        String streamKey = created.data().path("key").asText();

        Reply r = platform.withKey(streamKey, "POST", "/devices/" + device.id() + "/datapoints?type=" + type, body);

        assertThat(r.errno()).as("%s", r.body()).isEqualTo(3);
        assertThat(Points.streams(platform, key, device.id())).isEmpty();
        String onlyA = type == 1 ? "{\"datastreams\":[{\"id\":\"a\",\"datapoints\":[{\"value\":1}]}]}"
                : type == 4 ? "{\"a\":{\"2024-01-01 00:00:00\":1}}" : ",;a,1";
        assertThat(platform.withKey(streamKey, "POST", "/devices/" + device.id() + "/datapoints?type=" + type, onlyA).errno())
                .isZero();
    }

    /** Points by stream, then time: history replies group by stream in an order of their own. */
    private static List<Point> sorted(List<Point> points) {
        return points.stream().sorted(Comparator.comparing(Point::stream).thenComparing(Point::at)).toList();
    }

    // ---- latest values of many devices -----------------------------------------------------------------

    @Test
    void latest_values_of_many_devices_skip_devices_of_other_products() {
        TestDevice first = Clients.device(platform, product, "latest-1");
        TestDevice second = Clients.device(platform, product, "latest-2");
        TestDevice foreign = Clients.device(platform, otherProduct, "foreign");
        Points.upload(platform, key, first.id(), "{\"datastreams\":[{\"id\":\"t\",\"datapoints\":["
                + point(BASE, "1") + "," + point(BASE + MINUTE, "2") + "]},{\"id\":\"s\",\"datapoints\":[" + point(BASE, "\"x\"") + "]}]}");
        Points.upload(platform, key, second.id(), "{\"datastreams\":[{\"id\":\"t\",\"datapoints\":[" + point(BASE, "3") + "]}]}");
        Points.upload(platform, otherProduct.masterKey(), foreign.id(), "{\"datastreams\":[{\"id\":\"t\",\"datapoints\":[{\"value\":9}]}]}");

        Reply r = get("/devices/datapoints?devIds=" + first.id() + "," + foreign.id() + "," + second.id());

        assertThat(r.errno()).isZero();
        JsonNode devices = r.data().path("devices");
        assertThat(devices).extracting(d -> d.path("id").asText()).containsExactly(first.id(), second.id());
        assertThat(devices.get(0).path("title").asText()).isEqualTo("latest-1");
        assertThat(devices.get(0).path("datastreams")).extracting(s -> s.path("id").asText(), s -> s.path("at").asText(), s -> s.path("value"))
                .containsExactlyInAnyOrder(tuple("t", "2024-01-01 00:01:00.000", json("2")), tuple("s", "2024-01-01 00:00:00.000", json("\"x\"")));
        assertThat(devices.get(1).path("datastreams")).extracting(s -> s.path("value")).containsExactly(json("3"));

        Reply admin = platform.asAdmin("GET", "/devices/datapoints?devIds=" + first.id() + "," + foreign.id(), null);
        assertThat(admin.data().path("devices")).extracting(d -> d.path("id").asText()).containsExactly(first.id(), foreign.id());
    }

    // ---- binary points ---------------------------------------------------------------------------------

    @Test
    void bindata_upload_returns_an_index_that_reads_back_the_exact_bytes() {
        TestDevice device = Clients.device(platform, product, "bindata");
        byte[] content = Points.blob(800 * 1024);

        HttpResponse<byte[]> post = Points.rawHttp(platform, key, "POST",
                "/bindata?device_id=" + device.id() + "&datastream_id=pic&desc=photo", content);

        JsonNode reply = Points.parse(post.body());
        assertThat(reply.path("errno").asInt()).as("%s", reply).isZero();
        String index = reply.path("data").path("index").asText();
        assertThat(index).isNotEmpty();
        HttpResponse<byte[]> get = Points.rawHttp(platform, key, "GET", "/bindata/" + index, null);
        assertThat(get.statusCode()).isEqualTo(200);
        assertThat(get.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("application/octet-stream"));
        assertThat(get.body()).isEqualTo(content);
        // D16: the upload is also a point of its stream, whose value names the blob
        assertThat(Points.streams(platform, key, device.id()).get("pic").path("current_value"))
                .isEqualTo(json("{\"index\":\"" + index + "\"}"));

        HttpResponse<byte[]> foreign = Points.rawHttp(platform, otherProduct.masterKey(), "GET", "/bindata/" + index, null);
        assertThat(foreign.statusCode()).isEqualTo(200);
        assertThat(Points.parse(foreign.body()).path("errno").asInt()).isEqualTo(3);
    }

    @Test
    void bindata_over_800_kib_is_errno_5() {
        TestDevice device = Clients.device(platform, product, "bindata-large");

        HttpResponse<byte[]> post = Points.rawHttp(platform, key, "POST",
                "/bindata?device_id=" + device.id() + "&datastream_id=pic", Points.blob(800 * 1024 + 1));

        assertThat(Points.parse(post.body()).path("errno").asInt()).isEqualTo(5);
        assertThat(Points.streams(platform, key, device.id())).isEmpty();
    }

    @Test
    void bindata_errors() {
        TestDevice device = Clients.device(platform, product, "bindata-errors");
        assertThat(errno(Points.rawHttp(platform, key, "GET", "/bindata/" + device.id() + "_1_0_bin", null))).isEqualTo(8);
        assertThat(errno(Points.rawHttp(platform, key, "POST", "/bindata?device_id=" + device.id() + "&datastream_id=pic", new byte[0])))
                .isEqualTo(9);
        assertThat(errno(Points.rawHttp(platform, key, "POST", "/bindata?device_id=" + device.id(), new byte[] {1}))).isEqualTo(7);
        assertThat(errno(Points.rawHttp(platform, key, "POST", "/bindata?device_id=999999999&datastream_id=pic", new byte[] {1})))
                .isEqualTo(8);
        assertThat(errno(Points.rawHttp(platform, otherProduct.masterKey(), "POST",
                "/bindata?device_id=" + device.id() + "&datastream_id=pic", new byte[] {1}))).isEqualTo(3);
        assertThat(Points.streams(platform, key, device.id())).isEmpty();
    }

    // ---- binary points as multipart/form-data ---------------------------------------------------------

    static final String BOUNDARY = "lZ2dVGb6y-Qz_3sDf4mJ0gXfkIpC1Nj";
    static final String MULTIPART = "multipart/form-data; boundary=" + BOUNDARY;

    /** A part as Apache HttpClient's MultipartEntityBuilder writes a file body (OneNET's Java SDK), or a text field. */
    static byte[] part(String name, String filename, byte[] content) {
        String headers = "--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"" + name + "\""
                + (filename == null ? "\r\nContent-Type: text/plain; charset=UTF-8\r\n"
                        : "; filename=\"" + filename + "\"\r\nContent-Type: application/octet-stream\r\n")
                + "Content-Transfer-Encoding: binary\r\n\r\n";
        return Points.concat(headers.getBytes(StandardCharsets.UTF_8), content, "\r\n".getBytes(StandardCharsets.UTF_8));
    }

    static byte[] multipart(byte[]... parts) {
        return Points.concat(Points.concat(parts), ("--" + BOUNDARY + "--\r\n").getBytes(StandardCharsets.UTF_8));
    }

    private static HttpResponse<byte[]> postMultipart(TestDevice device, byte[] body) {
        return Points.rawHttp(platform, key, "POST", "/bindata?device_id=" + device.id() + "&datastream_id=pic", body, MULTIPART);
    }

    private static byte[] readBack(HttpResponse<byte[]> post) {
        JsonNode reply = Points.parse(post.body());
        assertThat(reply.path("errno").asInt()).as("%s", reply).isZero();
        HttpResponse<byte[]> get = Points.rawHttp(platform, key, "GET", "/bindata/" + reply.path("data").path("index").asText(), null);
        assertThat(get.statusCode()).isEqualTo(200);
        return get.body();
    }

    @Test
    void bindata_as_multipart_form_data_stores_the_file_part_only() {
        TestDevice device = Clients.device(platform, product, "bindata-multipart");
        // Every byte value, CR LF and "--" included, at the full 800 KiB.
        byte[] file = Points.blob(800 * 1024);

        byte[] stored = readBack(postMultipart(device, multipart(part("photo.jpg", "photo.jpg", file))));

        assertThat(stored).isEqualTo(file);
    }

    @Test
    void bindata_multipart_with_several_parts_takes_the_one_with_a_filename() {
        TestDevice device = Clients.device(platform, product, "bindata-parts");
        byte[] file = Points.blob(5000);

        byte[] stored = readBack(postMultipart(device, multipart(part("desc", null, "a photo".getBytes(StandardCharsets.UTF_8)),
                part("file", "photo.jpg", file), part("other", null, "x".getBytes(StandardCharsets.UTF_8)))));

        assertThat(stored).isEqualTo(file);
    }

    @Test
    void bindata_multipart_without_a_filename_takes_the_first_part() {
        TestDevice device = Clients.device(platform, product, "bindata-first");
        byte[] first = Points.blob(300);

        byte[] stored = readBack(postMultipart(device, multipart(part("data", null, first),
                part("other", null, "x".getBytes(StandardCharsets.UTF_8)))));

        assertThat(stored).isEqualTo(first);
    }

    @Test
    void bindata_multipart_refusals_store_nothing() {
        TestDevice device = Clients.device(platform, product, "bindata-multipart-errors");
        byte[] over = Points.blob(800 * 1024 + 1);

        assertThat(Points.parse(postMultipart(device, multipart(part("big.bin", "big.bin", over))).body()).path("error").asText())
                .as("file over 800 KiB").contains("file part over 819200 bytes");
        assertThat(errno(postMultipart(device, multipart(part("big.bin", "big.bin", over))))).isEqualTo(5);
        assertThat(errno(postMultipart(device, multipart(part("a", "a.bin", Points.blob(500 * 1024)),
                part("b", "b.bin", Points.blob(500 * 1024)))))).as("envelope over 800 + 64 KiB").isEqualTo(5);
        JsonNode none = Points.parse(postMultipart(device, ("--" + BOUNDARY + "--\r\n").getBytes(StandardCharsets.UTF_8)).body());
        assertThat(none.path("errno").asInt()).as("%s", none).isEqualTo(9);
        assertThat(none.path("error").asText()).contains("no part");
        JsonNode empty = Points.parse(postMultipart(device, multipart(part("f", "f.bin", new byte[0]))).body());
        assertThat(empty.path("errno").asInt()).as("%s", empty).isEqualTo(9);
        JsonNode truncated = Points.parse(postMultipart(device, part("f", "f.bin", Points.blob(10))).body());
        assertThat(truncated.path("errno").asInt()).as("no closing boundary: %s", truncated).isEqualTo(6);
        assertThat(truncated.path("error").asText()).contains("multipart");
        JsonNode noBoundary = Points.parse(Points.rawHttp(platform, key, "POST", "/bindata?device_id=" + device.id()
                + "&datastream_id=pic", multipart(part("f", "f.bin", Points.blob(10))), "multipart/form-data").body());
        assertThat(noBoundary.path("errno").asInt()).as("%s", noBoundary).isEqualTo(6);
        assertThat(noBoundary.path("error").asText()).contains("boundary");
        assertThat(Points.streams(platform, key, device.id())).isEmpty();
    }

    private static int errno(HttpResponse<byte[]> r) {
        return Points.parse(r.body()).path("errno").asInt(-1);
    }
}
