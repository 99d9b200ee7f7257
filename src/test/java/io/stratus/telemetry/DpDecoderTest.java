package io.stratus.telemetry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.DoubleNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.stratus.telemetry.DpDecoder.Type7Mode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The decoder against the shared vectors (protocol §3) and the D1-D24 edge cases (docs/decisions.md). */
class DpDecoderTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final Path SHARED_VECTORS = Path.of("..", "shared", "vectors", "dp-vectors.json");
    private static final String REPO_VECTORS = "/vectors/dp-vectors.json";
    private static final DateTimeFormatter AT =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS").withZone(ZoneOffset.ofHours(8));

    private final DpDecoder decoder = DpDecoder.defaults();
    private final DpDecoder oneStream =
            new DpDecoder(DpDecoder.DEFAULT_STRING_ZONE, DpDecoder.DEFAULT_BINARY_ZONE, Type7Mode.ONE_STREAM);
    /**
     * The shared vectors (and their copy in this repository) predate dp.binary-timezone: they give the six-byte times
     * of t6-with-header-time and t7-with-time-two-groups in UTC+8, so they are decoded with both zones at UTC+8.
     */
    private final DpDecoder vectorDecoder =
            new DpDecoder(ZoneOffset.ofHours(8), ZoneOffset.ofHours(8), Type7Mode.CONSECUTIVE_STREAMS);

    // ---- the shared vectors ----

    static Stream<Arguments> vectors() throws IOException {
        List<Arguments> all = new ArrayList<>();
        if (Files.exists(SHARED_VECTORS)) {
            add(all, "shared", Files.readAllBytes(SHARED_VECTORS));
        }
        add(all, "repo", repoVectors());
        return all.stream();
    }

    private static void add(List<Arguments> all, String source, byte[] file) throws IOException {
        for (JsonNode v : MAPPER.readTree(file).get("vectors")) {
            all.add(Arguments.of(source + "/" + v.get("name").asText(), v));
        }
    }

    private static byte[] repoVectors() throws IOException {
        try (InputStream in = DpDecoderTest.class.getResourceAsStream(REPO_VECTORS)) {
            assertThat(in).as(REPO_VECTORS).isNotNull();
            return in.readAllBytes();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("vectors")
    void decodes_vector(String name, JsonNode vector) throws Exception {
        byte[] payload = HexFormat.of().parseHex(vector.get("hex").asText());

        if (vector.has("error")) {
            assertThatThrownBy(() -> vectorDecoder.decode(payload)).as(vector.get("error").asText())
                    .isInstanceOf(DpFormatException.class);
            return;
        }
        List<Datapoint> points = vectorDecoder.decode(payload);
        JsonNode expected = vector.get("points");
        assertThat(points).hasSize(expected.size());
        boolean float32 = (payload[0] & 0x3F) == 7;
        for (int i = 0; i < points.size(); i++) {
            Datapoint actual = points.get(i);
            JsonNode want = expected.get(i);
            String where = name + " point " + i;
            assertThat(actual.stream()).as(where).isEqualTo(want.get("stream").asText());
            assertThat(actual.at() == null ? null : AT.format(Instant.ofEpochMilli(actual.at())))
                    .as(where).isEqualTo(want.get("at").isNull() ? null : want.get("at").asText());
            if (want.has("binary_hex")) {
                assertThat(actual.value()).as(where).isNull();
                assertThat(HexFormat.of().formatHex(actual.binary())).as(where).isEqualTo(want.get("binary_hex").asText());
            } else {
                assertThat(actual.binary()).as(where).isNull();
                assertJsonMatches(want.get("value"), actual.value(), float32 ? 1e-6 : 0, where);
            }
        }
    }

    /** JSON equality where integer vs floating point matters; floats within a relative tolerance. */
    static void assertJsonMatches(JsonNode expected, JsonNode actual, double tolerance, String where) {
        assertThat(actual).as(where).isNotNull();
        if (expected.isNumber()) {
            assertThat(actual.isNumber()).as(where + ": " + actual + " is a number").isTrue();
            assertThat(actual.isIntegralNumber()).as(where + ": integer vs double of " + actual)
                    .isEqualTo(expected.isIntegralNumber());
            if (expected.isIntegralNumber()) {
                assertThat(actual.bigIntegerValue()).as(where).isEqualTo(expected.bigIntegerValue());
            } else {
                double e = expected.doubleValue();
                assertThat(actual.doubleValue()).as(where).isCloseTo(e, within(Math.abs(e) * tolerance));
            }
        } else if (expected.isObject()) {
            assertThat(actual.isObject()).as(where).isTrue();
            assertThat(actual.size()).as(where).isEqualTo(expected.size());
            for (Iterator<Map.Entry<String, JsonNode>> it = expected.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                assertJsonMatches(e.getValue(), actual.get(e.getKey()), tolerance, where + "." + e.getKey());
            }
        } else if (expected.isArray()) {
            assertThat(actual.isArray()).as(where).isTrue();
            assertThat(actual.size()).as(where).isEqualTo(expected.size());
            for (int i = 0; i < expected.size(); i++) {
                assertJsonMatches(expected.get(i), actual.get(i), tolerance, where + "[" + i + "]");
            }
        } else {
            assertThat(actual).as(where).isEqualTo(expected);
        }
    }

    // ---- header byte, D24 ----

    @Test
    void empty_payload_is_rejected_at_byte_0() {
        assertRejected(new byte[0], 0, "empty payload");
    }

    @ParameterizedTest(name = "type {0}")
    @ValueSource(ints = {0, 8, 9, 0x3F})
    void unknown_type_is_rejected(int type) {
        assertRejected(bytes(type, 0, 2, '{', '}'), 0, "unknown type " + type);
    }

    @ParameterizedTest(name = "type {0}")
    @ValueSource(ints = {1, 2, 3, 4, 5, 6, 7})
    void reserved_bit_6_is_rejected_D24(int type) {
        assertRejected(bytes(0x40 | type, 0, 2, '{', '}'), 0, "reserved bit 6");
    }

    @ParameterizedTest(name = "type {0}")
    @ValueSource(ints = {1, 2, 3, 4, 5})
    void time_flag_on_types_1_to_5_is_rejected_D24(int type) {
        assertRejected(bytes(0x80 | type, 0x10, 0x0C, 0x16, 0x0A, 0x1E, 0x00, 0, 2, '{', '}'), 0, "time flag");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            # name     | valid hex                                                  | offset of the extra byte
            t1         | 0100447b226461746173747265616d73223a5b7b226964223a2274656d7065726174757265222c2264617461706f696e7473223a5b7b2276616c7565223a32322e357d5d7d5d7d | 71
            t2         | 0200117b2264735f6964223a22696d616765227d00000001ff | 25
            t3         | 0300147b2274656d7065726174757265223a32322e357d | 23
            t4         | 04002c7b2274656d7065726174757265223a7b22323031352d30332d32322032323a33313a3132223a32322e357d7d | 47
            t5         | 0500052c3b612c31 | 8
            t6-time    | 86100c160a1e0000052c3b612c31 | 14
            t6-no-time | 0600052c3b612c31 | 8
            """)
    void bytes_after_the_declared_length_are_rejected_D24(String name, String hex, int offset) throws Exception {
        byte[] valid = HexFormat.of().parseHex(hex);
        assertThat(decoder.decode(valid)).isNotEmpty();
        byte[] longer = java.util.Arrays.copyOf(valid, valid.length + 1);

        assertRejected(longer, offset, "1 bytes after the declared length");
    }

    @Test
    void json_length_beyond_payload_names_the_length_and_the_size() {
        DpFormatException e = reject(HexFormat.of().parseHex("0300c87b2261223a317d"));

        assertThat(e).hasMessage("type 3: JSON length 200 goes beyond the payload (10 bytes) at byte 1");
        assertThat(e.offset()).isEqualTo(1);
    }

    @Test
    void truncated_length_field_is_rejected() {
        assertRejected(bytes(3, 0), 1, "truncated JSON length");
    }

    // ---- JSON types 1, 3, 4 ----

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            # JSON                                                                  | message part
            []                                                                      | JSON must be an object
            {}                                                                      | datastreams must be an array
            {"datastreams":{"id":"x"}}                                              | datastreams must be an array
            {"datastreams":[1]}                                                     | datastreams[0] must be an object
            {"datastreams":[{"datapoints":[]}]}                                     | datastreams[0].id must be a non-empty string
            {"datastreams":[{"id":"","datapoints":[]}]}                             | datastreams[0].id must be a non-empty string
            {"datastreams":[{"id":7,"datapoints":[]}]}                              | datastreams[0].id must be a non-empty string
            {"datastreams":[{"id":"x"}]}                                            | datastreams[0].datapoints must be an array
            {"datastreams":[{"id":"x","datapoints":{}}]}                            | datastreams[0].datapoints must be an array
            {"datastreams":[{"id":"x","datapoints":[{}]}]}                          | datastreams[0].datapoints[0].value is missing or null
            {"datastreams":[{"id":"x","datapoints":[{"value":null}]}]}              | datastreams[0].datapoints[0].value is missing or null
            {"datastreams":[{"id":"x","datapoints":[{"value":1,"at":5}]}]}          | datastreams[0].datapoints[0].at must be a datetime
            {"datastreams":[{"id":"x","datapoints":[{"value":1,"at":"2013-02-30 00:00:00"}]}]} | datastreams[0].datapoints[0].at must be a datetime
            """)
    void type1_structure_is_checked(String json, String message) {
        assertRejected(json(1, json), 3, "type 1: " + message);
    }

    @Test
    void type1_accepts_any_json_value_and_optional_time() throws Exception {
        List<Datapoint> points = decoder.decode(json(1, """
                {"datastreams":[{"id":"a","datapoints":[{"value":{"x":[1,true,"s"]}},{"value":"t","at":"2020-01-02T03:04:05.6+00:00"}]},
                 {"id":"b","datapoints":[]}]}"""));

        assertThat(points).containsExactly(
                Datapoint.of("a", null, MAPPER.readTree("{\"x\":[1,true,\"s\"]}")),
                Datapoint.of("a", Instant.parse("2020-01-02T03:04:05.600Z").toEpochMilli(), TextNode.valueOf("t")));
    }

    @Test
    void type1_with_no_points_decodes_to_nothing() throws Exception {
        assertThat(decoder.decode(json(1, "{\"datastreams\":[]}"))).isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            # JSON                  | message part
            [1]                     | JSON must be an object
            "x"                     | JSON must be an object
            {"":1}                  | empty stream name
            {"a":null}              | value of "a" is missing or null
            `{"a":1} x`             | invalid JSON
            `{"a":1}{}`             | invalid JSON
            `{"a":1,"a":2}`         | invalid JSON: Duplicate field 'a'
            {"a":NaN}               | invalid JSON
            {"a":1e400}             | JSON number beyond the double range
            {"a":[-1e400]}          | JSON number beyond the double range
            `   `                   | empty JSON
            {'a':1}                 | invalid JSON
            """)
    void type3_rejects_bad_json(String json, String message) {
        assertRejected(json(3, json), -1, "type 3: " + message);
    }

    @Test
    void type3_rejects_empty_json_body() {
        assertRejected(bytes(3, 0, 0), 3, "type 3: empty JSON");
    }

    @Test
    void invalid_json_error_points_at_the_bad_byte() {
        assertRejected(json(3, "{\"abc\": tru}"), 11, "type 3: invalid JSON");
    }

    @Test
    void utf16_json_is_rejected() {
        assertRejected(bytes(3, 0, 4, 0, '{', 0, '}'), 3, "type 3: invalid JSON: NUL byte");
        assertRejected(bytes(3, 0, 6, 0xFE, 0xFF, 0, '{', 0, '}'), 5, "type 3: invalid JSON: NUL byte");
    }

    @Test
    void json_error_messages_leave_out_jacksons_source_location() {
        DpFormatException e = reject(json(3, "{\"a\":1"));

        assertThat(e).hasMessage("type 3: invalid JSON: Unexpected end-of-input: expected close marker for Object at byte 9");
    }

    @Test
    void invalid_utf8_in_json_is_rejected() {
        byte[] p = json(3, "{\"a\":\"xx\"}");
        p[9] = (byte) 0xC3; // a lead byte followed by 'x'

        assertRejected(p, -1, "type 3: invalid JSON");
    }

    @Test
    void deeply_nested_json_is_rejected_without_overflowing_the_stack() {
        String json = "{\"a\":" + "[".repeat(5000) + "]".repeat(5000) + "}";

        assertRejected(json(3, json), -1, "type 3: invalid JSON");
    }

    @Test
    void json_numbers_keep_integers_and_make_the_rest_doubles_D23() throws Exception {
        List<Datapoint> points = decoder.decode(json(3,
                "{\"i\":102,\"l\":12345678901234,\"d\":22.5,\"e\":1e3,\"z\":-0.0,\"big\":123456789012345678901234567890,"
                        + "\"nested\":{\"n\":[1.5e2, 7]}}"));

        assertThat(points).extracting(Datapoint::value).containsExactly(
                IntNode.valueOf(102), LongNode.valueOf(12345678901234L), DoubleNode.valueOf(22.5),
                DoubleNode.valueOf(1000.0), DoubleNode.valueOf(-0.0), DoubleNode.valueOf(1.2345678901234568E29),
                MAPPER.createObjectNode().set("n", MAPPER.createArrayNode().add(150.0).add(7)));
        assertThat(points.get(6).value().get("n").get(0).isDouble()).isTrue();
        assertThat(points.get(6).value().get("n").get(1).isInt()).isTrue();
    }

    @Test
    void type3_keeps_unicode_stream_names_in_order() throws Exception {
        assertThat(decoder.decode(json(3, "{\"温度\":1,\"b\":\"95.2%\",\"a\":true}")))
                .extracting(Datapoint::stream).containsExactly("温度", "b", "a");
    }

    @Test
    void type4_reads_stream_to_datetime_to_value() throws Exception {
        List<Datapoint> points = decoder.decode(json(4,
                "{\"t\":{\"2015-03-22 22:31:12\":22.5,\"2015-03-22T22:31:13.5Z\":\"x\"},\"h\":{}}"));

        assertThat(points).containsExactly(
                Datapoint.of("t", at("2015-03-22T22:31:12+08:00"), DoubleNode.valueOf(22.5)),
                Datapoint.of("t", at("2015-03-22T22:31:13.500Z"), TextNode.valueOf("x")));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            # JSON                                | message part
            {"t":22.5}                            | value of "t" must be an object of datetime -> value
            {"t":[1]}                             | value of "t" must be an object of datetime -> value
            {"t":{"yesterday":1}}                 | key "yesterday" of "t" is not a datetime
            {"t":{"2015-03-22 22:31:12":null}}    | "t"."2015-03-22 22:31:12" is missing or null
            {"":{"2015-03-22 22:31:12":1}}        | empty stream name
            """)
    void type4_structure_is_checked(String json, String message) {
        assertRejected(json(4, json), 3, "type 4: " + message);
    }

    // ---- type 2 ----

    @Test
    void type2_keeps_a_json_desc_as_compact_json() throws Exception {
        byte[] p = type2("{\"ds_id\":\"img\", \"desc\": {\"w\": 640, \"fmt\": \"jpg\"}}", new byte[] {1, 2, 3});

        assertThat(decoder.decode(p)).containsExactly(
                Datapoint.ofBinary("img", null, new byte[] {1, 2, 3}, "{\"w\":640,\"fmt\":\"jpg\"}"));
    }

    @Test
    void type2_with_only_ds_id_and_an_empty_blob() throws Exception {
        assertThat(decoder.decode(type2("{\"ds_id\":\"img\"}", new byte[0])))
                .containsExactly(Datapoint.ofBinary("img", null, new byte[0], null));
    }

    @Test
    void type2_accepts_a_blob_of_exactly_3_mib() throws Exception {
        byte[] blob = new byte[DpDecoder.MAX_BINARY_BYTES];
        blob[blob.length - 1] = 9;

        assertThat(decoder.decode(type2("{\"ds_id\":\"img\"}", blob)).get(0).binary()).isEqualTo(blob);
    }

    @Test
    void type2_rejects_a_blob_over_3_mib() {
        byte[] p = type2("{\"ds_id\":\"img\"}", new byte[DpDecoder.MAX_BINARY_BYTES + 1]);

        assertRejected(p, 3 + 15, "type 2: binary length 3145729 exceeds 3145728 bytes");
    }

    @Test
    void type2_rejects_a_blob_length_beyond_the_payload() {
        byte[] p = type2("{\"ds_id\":\"img\"}", new byte[4]);

        assertRejected(java.util.Arrays.copyOf(p, p.length - 1), 18, "type 2: binary length 4 goes beyond the payload");
    }

    @Test
    void type2_rejects_a_truncated_blob_length() {
        byte[] p = type2("{\"ds_id\":\"img\"}", new byte[0]);

        assertRejected(java.util.Arrays.copyOf(p, p.length - 2), 18, "type 2: truncated binary length");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            # header                                  | message part
            []                                        | JSON header must be an object
            {}                                        | ds_id must be a non-empty string
            {"ds_id":""}                              | ds_id must be a non-empty string
            {"ds_id":1}                               | ds_id must be a non-empty string
            {"ds_id":"i","at":"2016-12-22"}           | at must be a datetime string
            `{"ds_id":"i"`                            | invalid JSON
            """)
    void type2_header_is_checked(String header, String message) {
        assertRejected(type2(header, new byte[] {1}), -1, "type 2: " + message);
    }

    // ---- types 5 and 6 ----

    @Test
    void type5_second_doc_example_uses_hash_and_at_separators() throws Exception {
        List<Datapoint> points = decoder.decode(string(5, "#@temperature#2015-03-22 22:31:12#22.5@102@pm2.5#89@10"));

        assertThat(points).containsExactly(
                Datapoint.of("temperature", at("2015-03-22T22:31:12+08:00"), DoubleNode.valueOf(22.5)),
                Datapoint.of("1", null, IntNode.valueOf(102)),
                Datapoint.of("pm2.5", null, IntNode.valueOf(89)),
                Datapoint.of("3", null, IntNode.valueOf(10)));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            # text         | kind    | expected
            102            | int     | 102
            -7             | int     | -7
            0              | int     | 0
            9876543210     | long    | 9876543210
            22.5           | double  | 22.5
            1e3            | double  | 1000.0
            -2.5E-3        | double  | -0.0025
            99999999999999999999 | double | 1.0E20
            1e400          | string  | 1e400
            NaN            | string  | NaN
            Infinity       | string  | Infinity
            -Infinity      | string  | -Infinity
            007            | string  | 007
            0x10           | string  | 0x10
            1.             | string  | 1.
            .5             | string  | .5
            +1             | string  | +1
            ` 1`           | string  | ` 1`
            95.2%          | string  | 95.2%
            true           | string  | true
            """)
    void type5_values_are_numbers_when_they_parse_as_json_numbers_D12_D23(String text, String kind, String expected)
            throws Exception {
        JsonNode value = decoder.decode(string(5, ",;s," + text)).get(0).value();

        switch (kind) {
            case "int" -> assertThat(value).isEqualTo(IntNode.valueOf(Integer.parseInt(expected)));
            case "long" -> assertThat(value).isEqualTo(LongNode.valueOf(Long.parseLong(expected)));
            case "double" -> assertThat(value).isEqualTo(DoubleNode.valueOf(Double.parseDouble(expected)));
            default -> assertThat(value).isEqualTo(TextNode.valueOf(expected));
        }
    }

    @Test
    void type5_accepts_multibyte_separators_and_names() throws Exception {
        assertThat(decoder.decode(string(5, "，；温度，20；湿度，2015-03-22 22:31:12，60%；7")))
                .containsExactly(
                        Datapoint.of("温度", null, IntNode.valueOf(20)),
                        Datapoint.of("湿度", at("2015-03-22T22:31:12+08:00"), TextNode.valueOf("60%")),
                        Datapoint.of("2", null, IntNode.valueOf(7)));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            # string                       | offset | message part
            ``                             | 3      | string needs two separator characters
            `,`                            | 3      | string needs two separator characters
            `,;`                           | 3      | no fields after the separators
            `,,a,1`                        | 3      | separators must differ
            `,;a,1;`                       | 9      | field 1 has an empty part
            `,;;a,1`                       | 5      | field 0 has an empty part
            `,;a,`                         | 5      | field 0 has an empty part
            `,;,1`                         | 5      | field 0 has an empty part
            `,;a,1;b,2015-03-22 22:31:12,3,4` | 9   | field 1 has more than 3 parts
            `,;a,2015-03-22,1`             | 5      | field 0: "2015-03-22" is not a datetime
            `,;温,1;a,x,1`                  | 11     | field 1: "x" is not a datetime
            """)
    void type5_must_be_well_formed(String text, int offset, String message) {
        assertRejected(string(5, text), offset, "type 5: " + message);
    }

    @Test
    void type5_rejects_invalid_utf8_at_its_byte() {
        byte[] p = string(5, ",;a,xy");
        p[p.length - 2] = (byte) 0xFF;

        assertRejected(p, p.length - 2, "type 5: string is not valid UTF-8");
    }

    @Test
    void type5_string_length_beyond_payload_is_rejected() {
        assertRejected(bytes(5, 0, 9, ',', ';', 'a'), 1, "type 5: string length 9 goes beyond the payload (6 bytes)");
    }

    @Test
    void type6_with_header_time_gives_it_to_fields_without_their_own() throws Exception {
        byte[] p = concat(bytes(0x86, 16, 12, 22, 10, 30, 0), string(-1, ",;a,1;b,2015-03-22 22:31:12,2;3"));

        assertThat(decoder.decode(p)).containsExactly(
                Datapoint.of("a", at("2016-12-22T10:30:00Z"), IntNode.valueOf(1)),
                Datapoint.of("b", at("2015-03-22T22:31:12+08:00"), IntNode.valueOf(2)),
                Datapoint.of("2", at("2016-12-22T10:30:00Z"), IntNode.valueOf(3)));
    }

    @Test
    void type6_without_time_flag_leaves_fields_without_time() throws Exception {
        assertThat(decoder.decode(string(6, ",;a,1;b,2015-03-22 22:31:12,2")))
                .extracting(Datapoint::at).containsExactly(null, at("2015-03-22T22:31:12+08:00"));
    }

    @Test
    void six_byte_time_packed_with_gmtime_is_that_utc_instant_by_default_D2() throws Exception {
        Instant sent = Instant.parse("2024-05-06T23:30:15Z"); // already 07:30:15 on May 7 in Beijing
        LocalDateTime gmtime = LocalDateTime.ofInstant(sent, ZoneOffset.UTC);
        byte[] time = bytes(gmtime.getYear() - 2000, gmtime.getMonthValue(), gmtime.getDayOfMonth(), gmtime.getHour(),
                gmtime.getMinute(), gmtime.getSecond());

        assertThat(decoder.decode(concat(bytes(0x86), time, string(-1, ",;a,1"))).get(0).at()).isEqualTo(sent.toEpochMilli());
        assertThat(decoder.decode(concat(bytes(0x87), time, float7(1, 1f))).get(0).at()).isEqualTo(sent.toEpochMilli());
    }

    @Test
    void six_byte_times_and_datetime_strings_have_separate_zones_D2() throws Exception {
        byte[] p = concat(bytes(0x86, 16, 12, 22, 10, 30, 0), string(-1, ",;a,1;b,2015-03-22 22:31:12,2"));
        DpDecoder binaryAt8 = new DpDecoder(ZoneOffset.UTC, ZoneOffset.ofHours(8), Type7Mode.CONSECUTIVE_STREAMS);

        assertThat(decoder.decode(p)).extracting(Datapoint::at)
                .containsExactly(at("2016-12-22T10:30:00Z"), at("2015-03-22T22:31:12+08:00"));
        assertThat(binaryAt8.decode(p)).extracting(Datapoint::at)
                .containsExactly(at("2016-12-22T10:30:00+08:00"), at("2015-03-22T22:31:12Z"));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            # name           | YY  | MM | DD | hh | mm | ss | offset | message part
            year 100         | 100 | 1  | 1  | 0  | 0  | 0  | 1      | time year 100 is out of range
            month 0          | 16  | 0  | 1  | 0  | 0  | 0  | 2      | time month 0 is out of range
            month 13         | 16  | 13 | 1  | 0  | 0  | 0  | 2      | time month 13 is out of range
            day 0            | 16  | 1  | 0  | 0  | 0  | 0  | 3      | time day 0 is out of range
            day 32           | 16  | 1  | 32 | 0  | 0  | 0  | 3      | time day 32 is out of range
            Feb 30           | 16  | 2  | 30 | 0  | 0  | 0  | 3      | time 2016-02-30 is not a date
            Feb 29 2017      | 17  | 2  | 29 | 0  | 0  | 0  | 3      | time 2017-02-29 is not a date
            Apr 31           | 16  | 4  | 31 | 0  | 0  | 0  | 3      | time 2016-04-31 is not a date
            hour 24          | 16  | 1  | 1  | 24 | 0  | 0  | 4      | time hour 24 is out of range
            minute 60        | 16  | 1  | 1  | 0  | 60 | 0  | 5      | time minute 60 is out of range
            second 60        | 16  | 1  | 1  | 0  | 0  | 60 | 6      | time second 60 is out of range
            byte 255         | 16  | 1  | 1  | 0  | 0  | 255| 6      | time second 255 is out of range
            """)
    void bad_six_byte_times_are_rejected(String name, int yy, int mm, int dd, int h, int mi, int s, int offset,
            String message) {
        byte[] time = bytes(yy, mm, dd, h, mi, s);
        assertRejected(concat(bytes(0x86), time, string(-1, ",;a,1")), offset, "type 6: " + message);
        assertRejected(concat(bytes(0x87), time, float7(1, 1.0f)), offset, "type 7: " + message);
    }

    @Test
    void six_byte_time_accepts_leap_day_and_extremes() throws Exception {
        assertThat(decoder.decode(concat(bytes(0x87, 16, 2, 29, 23, 59, 59), float7(1, 1f))).get(0).at())
                .isEqualTo(at("2016-02-29T23:59:59Z"));
        assertThat(decoder.decode(concat(bytes(0x87, 0, 1, 1, 0, 0, 0), float7(1, 1f))).get(0).at())
                .isEqualTo(at("2000-01-01T00:00:00Z"));
        assertThat(decoder.decode(concat(bytes(0x87, 99, 12, 31, 23, 59, 59), float7(1, 1f))).get(0).at())
                .isEqualTo(at("2099-12-31T23:59:59Z"));
    }

    @Test
    void truncated_six_byte_time_is_rejected() {
        assertRejected(bytes(0x86, 16, 12, 22), 1, "type 6: truncated time (3 of 6 bytes)");
        assertRejected(bytes(0x87), 1, "type 7: truncated time (0 of 6 bytes)");
    }

    // ---- datetime strings, D3 ----

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            # datetime string                 | instant
            2015-03-22 22:31:12               | 2015-03-22T14:31:12Z
            2015-03-22T22:31:12               | 2015-03-22T14:31:12Z
            2015-03-22 22:31:12.5             | 2015-03-22T14:31:12.500Z
            2015-03-22 22:31:12.05            | 2015-03-22T14:31:12.050Z
            2015-03-22T22:31:12.123           | 2015-03-22T14:31:12.123Z
            2015-03-22 22:31:12Z              | 2015-03-22T22:31:12Z
            2015-03-22T22:31:12.001Z          | 2015-03-22T22:31:12.001Z
            2015-03-22 22:31:12+08:00         | 2015-03-22T14:31:12Z
            2015-03-22T22:31:12-05:30         | 2015-03-23T04:01:12Z
            2015-03-22T22:31:12.7+00:00       | 2015-03-22T22:31:12.700Z
            2016-02-29 00:00:00               | 2016-02-28T16:00:00Z
            """)
    void datetime_strings_accept_space_or_T_fraction_and_offset_D3(String text, String instant) throws Exception {
        assertThat(decoder.decode(string(5, ",;a," + text + ",1")).get(0).at()).isEqualTo(at(instant));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"2015-03-22 22:31", "2015-3-22 22:31:12", "2015-03-22 22:31:12.1234",
        "2015-03-22  22:31:12", "2015-03-22t22:31:12", "2015-03-22 22:31:12 ", "2015-02-30 00:00:00",
        "2015-03-22 24:00:00", "2015-03-22 22:31:60", "2015-03-22 22:31:12+8", "2015-03-22 22:31:12+19:00",
        "2015-03-22 22:31:12.", "1427034672", "２０１５-03-22 22:31:12"})
    void bad_datetime_strings_are_rejected(String text) {
        assertRejected(string(5, "|;a|" + text + "|1"), 5, "type 5: field 0: ");
    }

    // ---- type 7 ----

    @Test
    void type7_consecutive_streams_D1() throws Exception {
        assertThat(decoder.decode(concat(bytes(7), float7(65534, 1f, 2f), float7(9, 3f))))
                .containsExactly(
                        Datapoint.of("65534", null, DoubleNode.valueOf(1.0)),
                        Datapoint.of("65535", null, DoubleNode.valueOf(2.0)),
                        Datapoint.of("9", null, DoubleNode.valueOf(3.0)));
    }

    @Test
    void type7_one_stream_gives_successive_points_of_ds_id_D1() throws Exception {
        byte[] withTime = concat(bytes(0x87, 16, 12, 22, 10, 30, 0), float7(5, 1f, 2f, 3f), float7(65535, 4f, 5f));
        long t = at("2016-12-22T10:30:00Z");

        assertThat(oneStream.decode(withTime)).containsExactly(
                Datapoint.of("5", t, DoubleNode.valueOf(1.0)),
                Datapoint.of("5", t + 1, DoubleNode.valueOf(2.0)),
                Datapoint.of("5", t + 2, DoubleNode.valueOf(3.0)),
                Datapoint.of("65535", t, DoubleNode.valueOf(4.0)),
                Datapoint.of("65535", t + 1, DoubleNode.valueOf(5.0)));
        assertThat(oneStream.decode(concat(bytes(7), float7(5, 1f, 2f))))
                .containsExactly(Datapoint.of("5", null, DoubleNode.valueOf(1.0)), Datapoint.of("5", null, DoubleNode.valueOf(2.0)));
    }

    @Test
    void type7_group_past_stream_65535_is_rejected_only_in_consecutive_mode_D24() throws Exception {
        byte[] p = concat(bytes(7), float7(1, 1f), float7(65535, 1f, 2f));

        assertRejected(p, 9, "type 7: 2 floats from stream 65535 run past stream 65535");
        assertThat(oneStream.decode(p)).hasSize(3);
    }

    @Test
    void type7_stream_id_0_is_rejected_D24() {
        assertRejected(concat(bytes(7), float7(0, 1f)), 1, "type 7: stream id 0");
        assertRejected(concat(bytes(7), float7(1, 1f), float7(0, 1f)), 9, "type 7: stream id 0");
    }

    @Test
    void type7_count_0_or_over_500_is_rejected_D24() {
        assertRejected(bytes(7, 0, 1, 0, 0), 3, "type 7: count 0 of stream 1 is outside 1..500");
        assertRejected(concat(bytes(7), float7(1, new float[501])), 3, "type 7: count 501 of stream 1 is outside 1..500");
    }

    @Test
    void type7_accepts_500_floats_in_a_group() throws Exception {
        assertThat(decoder.decode(concat(bytes(7), float7(1, new float[500])))).hasSize(500);
    }

    @Test
    void type7_rejects_more_than_500_streams() {
        byte[] p = concat(bytes(7), float7(1, new float[400]), float7(1001, new float[101]));

        assertRejected(p, 1 + 4 + 1600 + 4 + 400, "type 7: more than 500 streams");
    }

    @Test
    void type7_needs_at_least_one_group() {
        assertRejected(bytes(7), 1, "type 7: no float groups");
        assertRejected(bytes(0x87, 16, 12, 22, 10, 30, 0), 7, "type 7: no float groups");
    }

    @Test
    void type7_truncations_are_rejected() {
        assertRejected(bytes(7, 0, 1, 0), 1, "type 7: truncated group header (3 of 4 bytes)");
        assertRejected(concat(bytes(7), float7(1, 1f), bytes(0)), 9, "type 7: truncated group header (1 of 4 bytes)");
        assertRejected(bytes(7, 0, 1, 0, 2, 0, 0, 0x80, 0x3F, 0, 0), 5,
                "type 7: truncated floats: stream 1 declares 2 floats (8 bytes), 6 bytes remain");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            # float bits (hex) | shortest
            c1a26666           | -20.3
            42080000           | 34.0
            3dcccccd           | 0.1
            3f800000           | 1.0
            00000001           | 1.0E-45
            00000003           | 4.0E-45
            00800000           | 1.1754944E-38
            7f7fffff           | 3.4028235E38
            501502f9           | 1.0E10
            4f000000           | 2.1474836E9
            80000000           | -0.0
            """)
    void type7_floats_become_the_shortest_decimal_that_reads_back_D23(String bits, double shortest) throws Exception {
        float f = Float.intBitsToFloat(Integer.parseUnsignedInt(bits, 16));

        JsonNode value = decoder.decode(concat(bytes(7), float7(1, f))).get(0).value();

        assertThat(value).isEqualTo(DoubleNode.valueOf(shortest));
        assertThat((float) value.doubleValue()).isEqualTo(f);
    }

    @Test
    void type7_nan_and_infinities_become_strings() throws Exception {
        assertThat(decoder.decode(concat(bytes(7), float7(1, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY))))
                .extracting(Datapoint::value)
                .containsExactly(TextNode.valueOf("NaN"), TextNode.valueOf("Infinity"), TextNode.valueOf("-Infinity"));
    }

    // ---- limits and the API ----

    @Test
    void more_than_10000_points_are_rejected() throws Exception {
        byte[] ok = concat(bytes(7), repeat(float7(1, new float[500]), 20));
        assertThat(oneStream.decode(ok)).hasSize(10_000);

        byte[] tooMany = concat(ok, float7(1, 1f));

        assertRejected(oneStream, tooMany, ok.length + 4, "type 7: more than 10000 data points");
    }

    @Test
    void one_decoder_serves_many_threads() throws Exception {
        byte[] payload = HexFormat.of().parseHex("87100c160a1e0000010002000008426666a2c1243700010000c03f");
        List<Datapoint> expected = decoder.decode(payload);

        List<List<Datapoint>> results = java.util.stream.IntStream.range(0, 2_000).parallel()
                .mapToObj(i -> {
                    try {
                        return decoder.decode(payload);
                    } catch (DpFormatException e) {
                        throw new AssertionError(e);
                    }
                })
                .toList();

        assertThat(results).allSatisfy(r -> assertThat(r).isEqualTo(expected));
    }

    @Test
    void factories_apply_the_value_rules_D12_D23() {
        assertThat(Datapoint.ofFloat32("1", null, -20.3f).value()).isEqualTo(DoubleNode.valueOf(-20.3));
        assertThat(Datapoint.ofText("1", null, "102").value()).isEqualTo(IntNode.valueOf(102));
        assertThat(Datapoint.ofText("1", null, "NaN").value()).isEqualTo(TextNode.valueOf("NaN"));
    }

    @Test
    void decoded_list_is_unmodifiable() throws Exception {
        List<Datapoint> points = decoder.decode(json(3, "{\"a\":1}"));

        assertThatThrownBy(() -> points.add(points.get(0))).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void datapoint_requires_exactly_one_of_value_and_binary() {
        assertThatThrownBy(() -> new Datapoint("a", null, null, null, null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Datapoint("a", null, IntNode.valueOf(1), new byte[0], null))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Datapoint("", null, IntNode.valueOf(1), null, null))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Datapoint("a", null, IntNode.valueOf(1), null, "desc"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(Datapoint.ofBinary("a", 1L, new byte[] {1}, null))
                .isEqualTo(Datapoint.ofBinary("a", 1L, new byte[] {1}, null))
                .hasSameHashCodeAs(Datapoint.ofBinary("a", 1L, new byte[] {1}, null));
    }

    // ---- helpers ----

    private void assertRejected(byte[] payload, int offset, String messagePart) {
        assertRejected(decoder, payload, offset, messagePart);
    }

    /** Offset -1: any offset inside the payload. */
    private static void assertRejected(DpDecoder decoder, byte[] payload, int offset, String messagePart) {
        DpFormatException e = reject(decoder, payload);
        assertThat(e.getMessage()).contains(messagePart).endsWith(" at byte " + e.offset()).doesNotContain("[Source");
        if (offset >= 0) {
            assertThat(e.offset()).as(e.getMessage()).isEqualTo(offset);
        } else {
            assertThat(e.offset()).as(e.getMessage()).isBetween(0, Math.max(0, payload.length));
        }
    }

    private DpFormatException reject(byte[] payload) {
        return reject(decoder, payload);
    }

    private static DpFormatException reject(DpDecoder decoder, byte[] payload) {
        try {
            List<Datapoint> points = decoder.decode(payload);
            throw new AssertionError("decoded " + points);
        } catch (DpFormatException e) {
            return e;
        }
    }

    static long at(String isoInstantOrOffsetDateTime) {
        return java.time.OffsetDateTime.parse(isoInstantOrOffsetDateTime.endsWith("Z")
                ? isoInstantOrOffsetDateTime.replace("Z", "+00:00") : isoInstantOrOffsetDateTime)
                .toInstant().toEpochMilli();
    }

    static byte[] bytes(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            b[i] = (byte) values[i];
        }
        return b;
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    static byte[] repeat(byte[] part, int times) {
        byte[][] parts = new byte[times][];
        java.util.Arrays.fill(parts, part);
        return concat(parts);
    }

    /** {@code type} byte (omitted when negative) + u16 length + the UTF-8 text. */
    static byte[] string(int type, String text) {
        byte[] body = text.getBytes(StandardCharsets.UTF_8);
        byte[] len = bytes(body.length >> 8, body.length);
        return type < 0 ? concat(len, body) : concat(bytes(type), len, body);
    }

    static byte[] json(int type, String json) {
        return string(type, json);
    }

    static byte[] type2(String header, byte[] blob) {
        return concat(string(2, header), ByteBuffer.allocate(4).putInt(blob.length).array(), blob);
    }

    /** A type-7 group: u16 ds_id, u16 count, floats little-endian. */
    static byte[] float7(int dsId, float... floats) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * floats.length);
        b.putShort((short) dsId).putShort((short) floats.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : floats) {
            b.putFloat(f);
        }
        return b.array();
    }
}
