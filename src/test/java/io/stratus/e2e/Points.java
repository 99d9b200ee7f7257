package io.stratus.e2e;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.stratus.e2e.TestPlatform.Reply;
import io.stratus.e2e.TestPlatform.TestDevice;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Data points in end-to-end tests: {@code $dp} payloads (protocol §3, docs/decisions.md), times as the API writes and
 * reads them (UTC+8 by default, D2/D3), and the history and datastream replies flattened into {@link Point}s.
 */
final class Points {
    static final ObjectMapper JSON = new ObjectMapper();
    static final ZoneId API_ZONE = ZoneOffset.ofHours(8);
    /** Response times: {@code yyyy-MM-dd HH:mm:ss.SSS} in UTC+8. */
    static final DateTimeFormatter API_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS");
    /** Query-parameter times: {@code yyyy-MM-ddTHH:mm:ss} in UTC+8. */
    static final DateTimeFormatter QUERY_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss");
    /** A start before every time the tests use, so that a history query reads everything. */
    static final String SINCE_2000 = "start=2000-01-01T00:00:00";
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final HexFormat HEX = HexFormat.of();

    private Points() {
    }

    /** One point as the API returns it: stream, time text and value. */
    record Point(String stream, String at, JsonNode value) {
        long millis() {
            return Points.millis(at);
        }
    }

    // ---- payloads ------------------------------------------------------------------------------------

    /** Byte 0, a u16 big-endian length, then the JSON or string: the layout of types 1, 3, 4 and 5 (§3.2). */
    static byte[] dp(int header, String body) {
        return concat(new byte[] {(byte) header}, lengthPrefixed(body));
    }

    /** A u16 big-endian length and the UTF-8 text. */
    static byte[] lengthPrefixed(String body) {
        byte[] text = body.getBytes(UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(text.length >> 8);
        out.write(text.length);
        out.writeBytes(text);
        return out.toByteArray();
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /** A type-2 payload: u16 + JSON header, u32 + blob (§3.2). */
    static byte[] binary(String headerJson, byte[] blob) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(dp(2, headerJson));
        out.write(blob.length >>> 24);
        out.write(blob.length >> 16);
        out.write(blob.length >> 8);
        out.write(blob.length);
        out.writeBytes(blob);
        return out.toByteArray();
    }

    /** Hex with optional spaces, as the §3.3 examples are written. */
    static byte[] hex(String hex) {
        return HEX.parseHex(hex.replace(" ", ""));
    }

    /** Bytes 0..n-1 modulo 256: every byte value, so nothing on the way may treat the blob as text. */
    static byte[] blob(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) i;
        }
        return b;
    }

    static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(text, e);
        }
    }

    // ---- times ---------------------------------------------------------------------------------------

    static long millis(String apiTime) {
        return LocalDateTime.parse(apiTime, API_TIME).atZone(API_ZONE).toInstant().toEpochMilli();
    }

    static String apiTime(long millis) {
        return API_TIME.format(Instant.ofEpochMilli(millis).atZone(API_ZONE));
    }

    static String queryTime(long millis) {
        return QUERY_TIME.format(Instant.ofEpochMilli(millis).atZone(API_ZONE));
    }

    // ---- API -----------------------------------------------------------------------------------------

    /** {@code GET /devices/{id}/datapoints?query}, which must succeed. */
    static Reply history(TestPlatform platform, String key, String deviceId, String query) {
        Reply r = platform.withKey(key, "GET", "/devices/" + deviceId + "/datapoints" + (query.isEmpty() ? "" : "?" + query), null);
        assertThat(r.errno()).as("GET datapoints?%s: %s", query, r.body()).isZero();
        return r;
    }

    /** Every point of a history reply, stream by stream as the reply lists them. */
    static List<Point> points(Reply history) {
        List<Point> out = new ArrayList<>();
        for (JsonNode stream : history.data().path("datastreams")) {
            for (JsonNode p : stream.path("datapoints")) {
                out.add(new Point(stream.path("id").asText(), p.path("at").asText(), p.path("value")));
            }
        }
        assertThat(out).as("count of %s", history.body()).hasSize(history.data().path("count").asInt());
        return out;
    }

    /** All points of a device (one query from 2000 on, at most 6000). */
    static List<Point> all(TestPlatform platform, String key, TestDevice device) {
        return points(history(platform, key, device.id(), SINCE_2000 + "&limit=6000"));
    }

    /** {@code GET /devices/{id}/datastreams}: the streams by id. */
    static Map<String, JsonNode> streams(TestPlatform platform, String key, String deviceId) {
        Reply r = platform.withKey(key, "GET", "/devices/" + deviceId + "/datastreams", null);
        assertThat(r.errno()).as("GET datastreams: %s", r.body()).isZero();
        Map<String, JsonNode> out = new LinkedHashMap<>();
        r.data().forEach(s -> out.put(s.path("id").asText(), s));
        return out;
    }

    /** {@code POST /devices/{id}/datapoints} with a type-1 body, which must succeed. */
    static void upload(TestPlatform platform, String key, String deviceId, String body) {
        Reply r = platform.withKey(key, "POST", "/devices/" + deviceId + "/datapoints", body);
        assertThat(r.errno()).as("POST datapoints: %s", r.body()).isZero();
    }

    /** A raw HTTP exchange, for routes whose body is not JSON ({@code /bindata}). */
    static HttpResponse<byte[]> rawHttp(TestPlatform platform, String key, String method, String path, byte[] body) {
        return rawHttp(platform, key, method, path, body, null);
    }

    /** A raw HTTP exchange with a {@code Content-Type}, unless null. */
    static HttpResponse<byte[]> rawHttp(TestPlatform platform, String key, String method, String path, byte[] body,
            String contentType) {
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + platform.platform().httpPort() + path))
                    .header("api-key", key)
                    .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
            if (contentType != null) {
                b.header("Content-Type", contentType);
            }
            return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static JsonNode parse(byte[] body) {
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            throw new IllegalStateException(new String(body, UTF_8), e);
        }
    }
}
