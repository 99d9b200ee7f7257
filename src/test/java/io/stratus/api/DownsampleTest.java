package io.stratus.api;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.DoubleNode;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.stratus.e2e.TestPlatform;
import io.stratus.e2e.TestPlatform.Reply;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import io.stratus.telemetry.Datapoint;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongFunction;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The {@code downsample=N} extension of {@code GET /devices/{id}/datapoints}: at most N buckets per stream,
 * each keeping its minimum and maximum point, and the reply says so.
 */
class DownsampleTest {
    private static final DateTimeFormatter API_TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS").withZone(ZoneOffset.ofHours(8));
    private static final DateTimeFormatter QUERY_TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss").withZone(ZoneOffset.ofHours(8));
    /** Whole seconds, one point per second from here on. */
    private static final long BASE = Instant.parse("2026-01-01T00:00:00Z").toEpochMilli();
    private static final int POINTS = 10_000;
    private static final int SPIKE_UP = 1234;
    private static final int SPIKE_DOWN = 7777;

    @RegisterExtension
    static final TestPlatform platform = TestPlatform.perClass();
    static TestProduct product;
    static TestDevice device;

    @BeforeAll
    static void start() throws Exception {
        product = platform.createProduct("charts");
        device = platform.createDevice(product, "meter", "SN-DS-1");
        store("wave", POINTS, i -> wave((int) i));
        store("state", POINTS, i -> "s" + i);
        store("small", 100, i -> i);
    }

    @Test
    void ten_thousand_points_come_back_as_at_most_two_per_bucket_with_min_and_max_kept() {
        JsonNode data = query("wave", 500, "").data();
        JsonNode stream = data.path("datastreams").get(0);
        List<Double> values = new ArrayList<>();
        stream.path("datapoints").forEach(p -> values.add(p.path("value").asDouble()));

        assertThat(data.path("downsampled").asBoolean()).isTrue();
        assertThat(data.path("bucket_ms").asLong()).isPositive();
        assertThat(stream.path("total").asLong()).isEqualTo(POINTS);
        assertThat(values).hasSizeLessThanOrEqualTo(2 * 500).hasSizeGreaterThan(500);
        assertThat(data.path("count").asInt()).isEqualTo(values.size());
        assertThat(values).contains(1000.0, -1000.0);
        assertThat(times(stream)).contains(API_TIME.format(Instant.ofEpochMilli(BASE + SPIKE_UP * 1000L)),
                API_TIME.format(Instant.ofEpochMilli(BASE + SPIKE_DOWN * 1000L)));
        assertThat(times(stream)).isSorted();
    }

    @Test
    void every_bucket_keeps_exactly_the_minimum_and_maximum_of_its_raw_points() {
        JsonNode data = query("wave", 20, "").data();
        long width = data.path("bucket_ms").asLong();
        Map<Long, List<Double>> keptByBucket = new TreeMap<>();
        data.path("datastreams").get(0).path("datapoints").forEach(p -> keptByBucket
                .computeIfAbsent((millis(p.path("at").asText()) - BASE) / width, b -> new ArrayList<>())
                .add(p.path("value").asDouble()));
        Map<Long, List<Double>> rawByBucket = new TreeMap<>();
        for (int i = 0; i < POINTS; i++) {
            rawByBucket.computeIfAbsent(i * 1000L / width, b -> new ArrayList<>()).add(wave(i));
        }

        // 10,000 s in 20 buckets of about 500 s.
        assertThat(width).isBetween(499_000L, 500_000L);
        assertThat(keptByBucket.keySet()).isEqualTo(rawByBucket.keySet()).hasSize(20);
        rawByBucket.forEach((bucket, raw) -> assertThat(keptByBucket.get(bucket))
                .containsExactlyInAnyOrder(Collections.min(raw), Collections.max(raw)));
    }

    @Test
    void streams_without_numbers_keep_the_first_and_last_point_of_each_bucket() {
        JsonNode data = query("state", 100, "").data();
        List<String> values = new ArrayList<>();
        data.path("datastreams").get(0).path("datapoints").forEach(p -> values.add(p.path("value").asText()));

        assertThat(data.path("downsampled").asBoolean()).isTrue();
        assertThat(values).hasSizeLessThanOrEqualTo(200).startsWith("s0").endsWith("s" + (POINTS - 1));
    }

    @Test
    void a_window_with_few_points_comes_back_whole_and_not_marked() {
        JsonNode data = query("small", 500, "").data();

        assertThat(data.path("downsampled").asBoolean()).isFalse();
        assertThat(data.has("bucket_ms")).isFalse();
        assertThat(data.path("datastreams").get(0).path("datapoints")).hasSize(100);
    }

    @Test
    void the_window_limits_what_is_reduced_and_sort_desc_reverses_it() {
        String window = "&start=" + QUERY_TIME.format(Instant.ofEpochMilli(BASE + 2000_000)) + "&end="
                + QUERY_TIME.format(Instant.ofEpochMilli(BASE + 2999_000)) + "&sort=DESC";
        JsonNode data = platform.withKey(product.masterKey(), "GET", "/devices/" + device.id()
                + "/datapoints?datastream_id=wave&downsample=100" + window, null).data();
        JsonNode stream = data.path("datastreams").get(0);

        assertThat(stream.path("total").asLong()).isEqualTo(1000);
        assertThat(times(stream)).hasSizeLessThanOrEqualTo(200).isSortedAccordingTo((a, b) -> b.compareTo(a));
        assertThat(times(stream).get(0)).isEqualTo(API_TIME.format(Instant.ofEpochMilli(BASE + 2999_000)));
    }

    @Test
    void several_streams_each_stay_within_the_bound() {
        JsonNode data = platform.withKey(product.masterKey(), "GET", "/devices/" + device.id()
                + "/datapoints?downsample=50&start=2000-01-01T00:00:00", null).data();

        assertThat(data.path("datastreams")).hasSize(3);
        data.path("datastreams").forEach(s -> assertThat(s.path("datapoints").size()).isLessThanOrEqualTo(100));
    }

    @Test
    void out_of_range_bucket_counts_are_errno_6() {
        assertThat(query("wave", 0, "").errno()).isEqualTo(6);
        assertThat(query("wave", 2001, "").errno()).isEqualTo(6);
        assertThat(query("wave", 10, "&cursor=abc").errno()).isEqualTo(6);
    }

    // ---- helpers -----------------------------------------------------------------------------------

    private static Reply query(String stream, int buckets, String extra) {
        return platform.withKey(product.masterKey(), "GET", "/devices/" + device.id() + "/datapoints?datastream_id=" + stream
                + "&start=2000-01-01T00:00:00&downsample=" + buckets + extra, null);
    }

    private static double wave(int i) {
        return i == SPIKE_UP ? 1000.0 : i == SPIKE_DOWN ? -1000.0 : Math.sin(i / 100.0) * 10;
    }

    private static long millis(String apiTime) {
        return LocalDateTime.parse(apiTime, DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS"))
                .toInstant(ZoneOffset.ofHours(8)).toEpochMilli();
    }

    private static List<String> times(JsonNode stream) {
        List<String> out = new ArrayList<>();
        stream.path("datapoints").forEach(p -> out.add(p.path("at").asText()));
        return out;
    }

    private static void store(String stream, int n, LongFunction<Object> value) throws Exception {
        List<Datapoint> points = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            Object v = value.apply(i);
            JsonNode node = v instanceof String s ? TextNode.valueOf(s)
                    : v instanceof Double d ? DoubleNode.valueOf(d) : LongNode.valueOf((Long) v);
            points.add(new Datapoint(stream, BASE + i * 1000L, node, null, null));
        }
        platform.platform().telemetry().upload(Long.parseLong(product.id()), Long.parseLong(device.id()), points).get(30, SECONDS);
    }
}
