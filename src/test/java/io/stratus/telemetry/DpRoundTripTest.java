package io.stratus.telemetry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.DoubleNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.stratus.telemetry.DpDecoder.Type7Mode;
import java.io.ByteArrayOutputStream;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Property tests: random points are encoded by a small test-only encoder, decoded, and must come back unchanged; and
 * random corruptions of valid payloads must either decode or raise {@link DpFormatException}, nothing else.
 */
class DpRoundTripTest {
    private static final int PAYLOADS_PER_TYPE = 600;
    private static final int MUTATIONS = 5_000;
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final long MIN_MS = Instant.parse("2000-01-02T00:00:00Z").toEpochMilli();
    private static final long MAX_MS = Instant.parse("2099-12-30T00:00:00Z").toEpochMilli();
    private static final String NAME_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFXYZ0123456789_-.温度湿 ";
    private static final String[] SEPARATORS = {",", ";", "#", "@", "|", "&", "~", "，", "；", "/"};

    /** A payload, the decoder to read it with, and the points it must give. */
    record Case(byte[] payload, DpDecoder decoder, List<Datapoint> expected) {
    }

    @ParameterizedTest(name = "type {0}")
    @ValueSource(ints = {1, 2, 3, 4, 5, 6, 7})
    void random_payloads_round_trip(int type) throws Exception {
        Random random = new Random(0x5EED_0000L + type);
        int points = 0;
        for (int i = 0; i < PAYLOADS_PER_TYPE; i++) {
            Case c = new Generator(random).generate(type);
            List<Datapoint> actual;
            try {
                actual = c.decoder().decode(c.payload());
            } catch (DpFormatException e) {
                throw new AssertionError("case " + i + ": " + HexFormat.of().formatHex(c.payload()), e);
            }
            String where = "type " + type + " case " + i + " " + c.decoder();
            if (type == 7) {
                assertFloatsRoundTrip(c.expected(), actual, where);
            } else {
                assertThat(actual).as(where).isEqualTo(c.expected());
            }
            points += actual.size();
        }
        assertThat(points).isGreaterThanOrEqualTo(PAYLOADS_PER_TYPE);
    }

    @Test
    void mutated_payloads_decode_or_raise_DpFormatException_only() {
        Random random = new Random(0xBAD_5EEDL);
        int decoded = 0;
        int rejected = 0;
        for (int i = 0; i < MUTATIONS; i++) {
            Case c = new Generator(random).generate(1 + random.nextInt(7));
            byte[] mutated = mutate(c.payload(), random);
            try {
                c.decoder().decode(mutated);
                decoded++;
            } catch (DpFormatException e) {
                assertThat(e.offset()).as(e.getMessage()).isBetween(0, Math.max(0, mutated.length));
                rejected++;
            } catch (RuntimeException | Error e) {
                fail("mutation " + i + " of " + HexFormat.of().formatHex(mutated) + " threw " + e, e);
            }
        }
        assertThat(decoded).as("decoded").isPositive();
        assertThat(rejected).as("rejected").isPositive();
    }

    private static byte[] mutate(byte[] payload, Random random) {
        byte[] p = payload.clone();
        for (int n = 1 + random.nextInt(3); n > 0; n--) {
            int at = p.length == 0 ? 0 : random.nextInt(p.length);
            switch (random.nextInt(8)) {
                case 0 -> { // flip a bit
                    if (p.length > 0) {
                        p[at] ^= (byte) (1 << random.nextInt(8));
                    }
                }
                case 1 -> { // any byte value
                    if (p.length > 0) {
                        p[at] = (byte) random.nextInt(256);
                    }
                }
                case 2 -> p = java.util.Arrays.copyOf(p, at); // truncate
                case 3 -> p = concat(java.util.Arrays.copyOf(p, at), new byte[] {(byte) random.nextInt(256)},
                        java.util.Arrays.copyOfRange(p, at, p.length)); // insert
                case 4 -> p = p.length == 0 ? p : concat(java.util.Arrays.copyOf(p, at),
                        java.util.Arrays.copyOfRange(p, at + 1, p.length)); // delete
                case 5 -> { // a length field or time byte
                    if (p.length > 3) {
                        p[1 + random.nextInt(Math.min(8, p.length - 1))] = (byte) random.nextInt(256);
                    }
                }
                case 6 -> { // header byte
                    if (p.length > 0) {
                        p[0] = (byte) random.nextInt(256);
                    }
                }
                default -> { // append garbage
                    byte[] extra = new byte[1 + random.nextInt(8)];
                    random.nextBytes(extra);
                    p = concat(p, extra);
                }
            }
        }
        return p;
    }

    /** Type-7 values: the same float32, as a decimal no longer than Java's (round-tripping) Float.toString. */
    private static void assertFloatsRoundTrip(List<Datapoint> expected, List<Datapoint> actual, String where) {
        assertThat(actual).as(where).hasSameSizeAs(expected);
        for (int i = 0; i < actual.size(); i++) {
            Datapoint e = expected.get(i);
            Datapoint a = actual.get(i);
            assertThat(a.stream()).as(where).isEqualTo(e.stream());
            assertThat(a.at()).as(where).isEqualTo(e.at());
            if (e.value().isTextual()) {
                assertThat(a.value()).as(where).isEqualTo(e.value());
                continue;
            }
            float f = (float) e.value().doubleValue();
            assertThat(a.value().isDouble()).as(where).isTrue();
            double d = a.value().doubleValue();
            assertThat((float) d).as(where + " " + d).isEqualTo(f);
            if (f != 0) {
                // d is the double of a decimal with no more digits than Float.toString(f) (not Double.toString(d):
                // on Java 17 that is not always shortest, e.g. 1.3076087000000001E20).
                int digits = new BigDecimal(Float.toString(f)).stripTrailingZeros().precision();
                BigDecimal decimal = new BigDecimal(d).round(new MathContext(digits, RoundingMode.HALF_EVEN));
                assertThat(Double.parseDouble(decimal.toString())).as(where + " " + d + " vs " + f).isEqualTo(d);
            }
        }
    }

    /** Random points of one type and a test-only encoder for them. */
    private static final class Generator {
        private final Random random;
        /** The zone of datetime strings without an offset. */
        private final ZoneOffset stringZone;
        /** The zone of six-byte times, drawn apart from the string zone so that a mix-up of the two shows. */
        private final ZoneOffset binaryZone;
        private final Type7Mode mode;
        private final DpDecoder decoder;
        private final Set<String> names = new HashSet<>();

        Generator(Random random) {
            this.random = random;
            this.stringZone = random.nextBoolean() ? ZoneOffset.ofHours(8) : ZoneOffset.UTC;
            this.binaryZone = random.nextBoolean() ? ZoneOffset.ofHours(8) : ZoneOffset.UTC;
            this.mode = random.nextBoolean() ? Type7Mode.CONSECUTIVE_STREAMS : Type7Mode.ONE_STREAM;
            this.decoder = new DpDecoder(stringZone, binaryZone, mode);
        }

        Case generate(int type) {
            return switch (type) {
                case 1 -> type1();
                case 2 -> type2();
                case 3 -> type3();
                case 4 -> type4();
                case 5, 6 -> separated(type);
                default -> type7();
            };
        }

        private Case type1() {
            List<Datapoint> expected = new ArrayList<>();
            ObjectNode root = MAPPER.createObjectNode();
            ArrayNode streams = root.putArray("datastreams");
            for (int s = random.nextInt(4); s >= 0; s--) {
                String id = name("");
                ArrayNode points = streams.addObject().put("id", id).putArray("datapoints");
                for (int p = random.nextInt(4); p >= 0; p--) {
                    ObjectNode point = points.addObject();
                    Long at = null;
                    if (random.nextBoolean()) {
                        at = randomMillis();
                        point.put("at", datetime(at));
                    }
                    JsonNode value = value(2);
                    point.set("value", value);
                    expected.add(Datapoint.of(id, at, value));
                }
            }
            return new Case(withLength(1, json(root)), decoder, expected);
        }

        private Case type2() {
            ObjectNode header = MAPPER.createObjectNode();
            String id = name("");
            header.put("ds_id", id);
            Long at = null;
            if (random.nextBoolean()) {
                at = randomMillis();
                header.put("at", datetime(at));
            }
            String desc = null;
            switch (random.nextInt(3)) {
                case 0 -> {
                    desc = text("");
                    header.put("desc", desc);
                }
                case 1 -> {
                    JsonNode d = MAPPER.createObjectNode().put("w", random.nextInt(2000)).put("fmt", text(""));
                    header.set("desc", d);
                    desc = d.toString();
                }
                default -> { }
            }
            byte[] blob = new byte[random.nextInt(4) == 0 ? 0 : random.nextInt(300)];
            random.nextBytes(blob);
            byte[] payload = concat(withLength(2, json(header)), ByteBuffer.allocate(4).putInt(blob.length).array(), blob);
            return new Case(payload, decoder, List.of(Datapoint.ofBinary(id, at, blob.clone(), desc)));
        }

        private Case type3() {
            List<Datapoint> expected = new ArrayList<>();
            ObjectNode root = MAPPER.createObjectNode();
            for (int s = random.nextInt(6); s >= 0; s--) {
                String id = name("");
                JsonNode value = value(2);
                root.set(id, value);
                expected.add(Datapoint.of(id, null, value));
            }
            return new Case(withLength(3, json(root)), decoder, expected);
        }

        private Case type4() {
            List<Datapoint> expected = new ArrayList<>();
            ObjectNode root = MAPPER.createObjectNode();
            for (int s = random.nextInt(4); s >= 0; s--) {
                String id = name("");
                ObjectNode times = root.putObject(id);
                for (int p = random.nextInt(4); p >= 0; p--) {
                    long at = randomMillis();
                    String key = datetime(at);
                    if (times.has(key)) {
                        continue;
                    }
                    JsonNode value = value(2);
                    times.set(key, value);
                    expected.add(Datapoint.of(id, at, value));
                }
            }
            return new Case(withLength(4, json(root)), decoder, expected);
        }

        /** Types 5 and 6: {@code value | id,value | id,datetime,value} fields; type 6 maybe with a header time. */
        private Case separated(int type) {
            String inside = SEPARATORS[random.nextInt(SEPARATORS.length)];
            String between;
            do {
                between = SEPARATORS[random.nextInt(SEPARATORS.length)];
            } while (between.equals(inside));
            String forbidden = inside + between;
            byte[] header = {(byte) type};
            Long defaultTime = null;
            if (type == 6 && random.nextBoolean()) {
                LocalDateTime t = LocalDateTime.ofEpochSecond(randomMillis() / 1000, 0, binaryZone);
                header = new byte[] {(byte) 0x86, (byte) (t.getYear() - 2000), (byte) t.getMonthValue(),
                    (byte) t.getDayOfMonth(), (byte) t.getHour(), (byte) t.getMinute(), (byte) t.getSecond()};
                defaultTime = t.toInstant(binaryZone).toEpochMilli();
            }
            List<Datapoint> expected = new ArrayList<>();
            StringBuilder text = new StringBuilder(inside).append(between);
            int fields = 1 + random.nextInt(8);
            for (int index = 0; index < fields; index++) {
                if (index > 0) {
                    text.append(between);
                }
                String[] value = textValue(forbidden);
                JsonNode node = switch (value[0]) {
                    case "int" -> IntNode.valueOf(Integer.parseInt(value[1]));
                    case "long" -> LongNode.valueOf(Long.parseLong(value[1]));
                    case "double" -> DoubleNode.valueOf(Double.parseDouble(value[1]));
                    default -> TextNode.valueOf(value[1]);
                };
                switch (random.nextInt(3)) {
                    case 0 -> {
                        text.append(value[1]);
                        expected.add(Datapoint.of(Integer.toString(index), defaultTime, node));
                    }
                    case 1 -> {
                        String id = name(forbidden);
                        text.append(id).append(inside).append(value[1]);
                        expected.add(Datapoint.of(id, defaultTime, node));
                    }
                    default -> {
                        String id = name(forbidden);
                        long at = randomMillis();
                        text.append(id).append(inside).append(datetime(at)).append(inside).append(value[1]);
                        expected.add(Datapoint.of(id, at, node));
                    }
                }
            }
            byte[] body = withLength(-1, text.toString().getBytes(StandardCharsets.UTF_8));
            return new Case(concat(header, body), decoder, expected);
        }

        private Case type7() {
            boolean consecutive = mode == Type7Mode.CONSECUTIVE_STREAMS;
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            Long time = null;
            if (random.nextBoolean()) {
                LocalDateTime t = LocalDateTime.ofEpochSecond(randomMillis() / 1000, 0, binaryZone);
                out.writeBytes(new byte[] {(byte) 0x87, (byte) (t.getYear() - 2000), (byte) t.getMonthValue(),
                    (byte) t.getDayOfMonth(), (byte) t.getHour(), (byte) t.getMinute(), (byte) t.getSecond()});
                time = t.toInstant(binaryZone).toEpochMilli();
            } else {
                out.write(7);
            }
            List<Datapoint> expected = new ArrayList<>();
            for (int g = random.nextInt(5); g >= 0; g--) {
                int count = 1 + random.nextInt(consecutive ? 20 : 60);
                int id = 1 + random.nextInt(0x10000 - (consecutive ? count : 1));
                ByteBuffer group = ByteBuffer.allocate(4 + 4 * count);
                group.putShort((short) id).putShort((short) count).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < count; i++) {
                    float f = randomFloat();
                    group.putFloat(f);
                    JsonNode value = Float.isFinite(f) ? DoubleNode.valueOf(f) : TextNode.valueOf(Float.toString(f));
                    String stream = Integer.toString(consecutive ? id + i : id);
                    Long at = time == null || consecutive ? time : Long.valueOf(time + i);
                    expected.add(Datapoint.of(stream, at, value));
                }
                out.writeBytes(group.array());
            }
            return new Case(out.toByteArray(), decoder, expected);
        }

        private float randomFloat() {
            return switch (random.nextInt(10)) {
                case 0 -> Float.intBitsToFloat(random.nextInt()); // any bits, NaN included
                case 1 -> new float[] {0f, -0f, Float.MIN_VALUE, Float.MAX_VALUE, Float.MIN_NORMAL, -1f,
                    Float.POSITIVE_INFINITY, 0x1p31f, 1e10f, 1e-10f}[random.nextInt(10)];
                case 2, 3 -> (float) (random.nextGaussian() * 1e6);
                default -> random.nextInt(200_001) / 100f - 1000f; // sensor-like: -1000.00 .. 1000.00
            };
        }

        /** {kind, text} of a type-5 value: "int", "long", "double" or "string" (never a number, no separators). */
        private String[] textValue(String forbidden) {
            return switch (random.nextInt(5)) {
                case 0 -> new String[] {"int", Integer.toString(random.nextInt())};
                case 1 -> new String[] {"long", Long.toString(random.nextLong() | 1L << 40)};
                case 2 -> new String[] {"double", Double.toString(random.nextGaussian() * Math.pow(10, random.nextInt(40) - 20))};
                case 3 -> new String[] {"double", random.nextInt(1000) + "." + random.nextInt(100) + "e" + (random.nextInt(20) - 10)};
                default -> new String[] {"string", "x" + name(forbidden) + new String[] {"", "%", "NaN", " C"}[random.nextInt(4)]};
            };
        }

        /** A JSON value of a random kind; containers nest up to {@code depth}. */
        private JsonNode value(int depth) {
            int kinds = depth > 0 ? 9 : 7;
            return switch (random.nextInt(kinds)) {
                case 0 -> IntNode.valueOf(random.nextInt());
                case 1 -> LongNode.valueOf(random.nextLong() | 1L << 40);
                case 2 -> DoubleNode.valueOf(random.nextGaussian() * Math.pow(10, random.nextInt(40) - 20));
                case 3 -> DoubleNode.valueOf(random.nextInt(10_000) / 10.0);
                case 4 -> TextNode.valueOf(text(""));
                case 5 -> BooleanNode.valueOf(random.nextBoolean());
                case 6 -> TextNode.valueOf("");
                case 7 -> {
                    ArrayNode a = MAPPER.createArrayNode();
                    for (int i = random.nextInt(4); i > 0; i--) {
                        a.add(random.nextInt(5) == 0 ? MAPPER.nullNode() : value(depth - 1));
                    }
                    yield a;
                }
                default -> {
                    ObjectNode o = MAPPER.createObjectNode();
                    for (int i = random.nextInt(4); i > 0; i--) {
                        o.set("k" + i, value(depth - 1));
                    }
                    yield o;
                }
            };
        }

        /** A unique non-empty stream name without the forbidden characters. */
        private String name(String forbidden) {
            while (true) {
                StringBuilder b = new StringBuilder();
                for (int n = 1 + random.nextInt(12); n > 0; n--) {
                    char c = NAME_CHARS.charAt(random.nextInt(NAME_CHARS.length()));
                    if (forbidden.indexOf(c) < 0) {
                        b.append(c);
                    }
                }
                if (b.length() > 0 && names.add(b.toString())) {
                    return b.toString();
                }
            }
        }

        /** Any text: ASCII, escapes, CJK, emoji. */
        private String text(String forbidden) {
            StringBuilder b = new StringBuilder();
            for (int n = random.nextInt(16); n > 0; n--) {
                int cp = switch (random.nextInt(6)) {
                    case 0 -> random.nextInt(0x20); // control characters, escaped in JSON
                    case 1 -> "\"\\/'".charAt(random.nextInt(4));
                    case 2 -> 0x4E00 + random.nextInt(0x5000);
                    case 3 -> 0x1F600 + random.nextInt(0x50);
                    default -> 0x20 + random.nextInt(0x5F);
                };
                if (forbidden.indexOf(cp) < 0) {
                    b.appendCodePoint(cp);
                }
            }
            return b.toString();
        }

        private long randomMillis() {
            long ms = MIN_MS + (long) (random.nextDouble() * (MAX_MS - MIN_MS));
            return switch (random.nextInt(4)) {
                case 0 -> ms - Math.floorMod(ms, 1000);
                case 1 -> ms - Math.floorMod(ms, 100);
                case 2 -> ms - Math.floorMod(ms, 10);
                default -> ms;
            };
        }

        /**
         * D3 (docs/decisions.md) forms: space or T, 0-3 fraction digits as the millis allow, no offset (the string
         * zone), Z or +hh:mm.
         */
        private String datetime(long ms) {
            ZoneOffset offset;
            String suffix;
            switch (random.nextInt(3)) {
                case 0 -> {
                    offset = stringZone;
                    suffix = "";
                }
                case 1 -> {
                    offset = ZoneOffset.UTC;
                    suffix = "Z";
                }
                default -> {
                    offset = ZoneOffset.ofTotalSeconds((random.nextInt(105) - 48) * 15 * 60);
                    suffix = offset.equals(ZoneOffset.UTC) ? "+00:00" : offset.getId();
                }
            }
            LocalDateTime t = LocalDateTime.ofInstant(Instant.ofEpochMilli(ms), offset);
            String base = DateTimeFormatter.ofPattern(random.nextBoolean() ? "yyyy-MM-dd HH:mm:ss" : "yyyy-MM-dd'T'HH:mm:ss")
                    .format(t);
            String millis = String.format("%03d", Math.floorMod(ms, 1000));
            int minDigits = millis.endsWith("00") ? (millis.equals("000") ? 0 : 1) : millis.endsWith("0") ? 2 : 3;
            int fractionDigits = minDigits + random.nextInt(4 - minDigits);
            String fraction = fractionDigits == 0 ? "" : "." + millis.substring(0, fractionDigits);
            return base + fraction + suffix;
        }

        private byte[] json(JsonNode node) {
            try {
                return random.nextBoolean() ? MAPPER.writeValueAsBytes(node)
                        : MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(node);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /** {@code type} byte (omitted when negative) + u16 length + body. */
    private static byte[] withLength(int type, byte[] body) {
        if (body.length > 0xFFFF) {
            throw new IllegalStateException("test payload too long: " + body.length);
        }
        byte[] len = {(byte) (body.length >> 8), (byte) body.length};
        return type < 0 ? concat(len, body) : concat(new byte[] {(byte) type}, len, body);
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
