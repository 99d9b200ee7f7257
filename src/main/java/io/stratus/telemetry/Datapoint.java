package io.stratus.telemetry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.DoubleNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.Arrays;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One data point decoded from a {@code $dp} payload.
 *
 * <p>Exactly one of {@code value} and {@code binary} is set: {@code binary} for a type-2 point (the blob, stored per
 * D16, docs/decisions.md), {@code value} otherwise. The array and the JSON node are not copied; treat them as
 * read-only.
 *
 * @param stream     the datastream id, never empty (type-5 bare values and type 7 use decimal numbers)
 * @param at         epoch milliseconds, or null when the payload carries no time: the server then uses its receive
 *                   time (D3, D21)
 * @param value      the value: numbers are {@code IntNode}/{@code LongNode} for integers and {@code DoubleNode}
 *                   otherwise (D23); null for a type-2 point
 * @param binary     the type-2 blob, else null
 * @param binaryDesc the type-2 header's {@code desc}: a JSON string as plain text, other JSON as compact JSON text;
 *                   null when absent or not a type-2 point
 */
public record Datapoint(String stream, Long at, JsonNode value, byte[] binary, String binaryDesc) {
    private static final Pattern JSON_NUMBER = Pattern.compile("-?(?:0|[1-9]\\d*)(\\.\\d+)?([eE][+-]?\\d+)?");

    public Datapoint {
        Objects.requireNonNull(stream, "stream");
        if (stream.isEmpty()) {
            throw new IllegalArgumentException("stream must not be empty");
        }
        if ((value == null) == (binary == null)) {
            throw new IllegalArgumentException("exactly one of value and binary must be set");
        }
        if (binaryDesc != null && binary == null) {
            throw new IllegalArgumentException("binaryDesc needs binary");
        }
    }

    /** A JSON-valued point; {@code at} null means "no time in the payload". */
    public static Datapoint of(String stream, Long at, JsonNode value) {
        return new Datapoint(stream, at, Objects.requireNonNull(value, "value"), null, null);
    }

    /** A type-2 binary point. */
    public static Datapoint ofBinary(String stream, Long at, byte[] binary, String binaryDesc) {
        return new Datapoint(stream, at, null, Objects.requireNonNull(binary, "binary"), binaryDesc);
    }

    /**
     * A point whose value arrived as text (types 5 and 6, D12/D23): a number if the text is a JSON number (integers as
     * {@code IntNode}/{@code LongNode}, beyond long and all others as {@code DoubleNode}), else the string itself, so
     * "NaN", "Infinity", "007" and " 1" stay strings.
     */
    public static Datapoint ofText(String stream, Long at, String text) {
        return of(stream, at, textValue(text));
    }

    /**
     * A point whose value is a float32 (type 7, D23): the shortest decimal that reads back as the same float
     * ({@code -20.3}, not {@code -20.299999237060547}) as a {@code DoubleNode}. NaN and the infinities have no JSON
     * number; they become the strings "NaN", "Infinity" and "-Infinity", as such text does.
     */
    public static Datapoint ofFloat32(String stream, Long at, float value) {
        return of(stream, at, floatValue(value));
    }

    private static JsonNode textValue(String text) {
        Matcher m = JSON_NUMBER.matcher(text);
        if (!m.matches()) {
            return TextNode.valueOf(text);
        }
        if (m.group(1) == null && m.group(2) == null) {
            try {
                long l = Long.parseLong(text);
                return l == (int) l ? IntNode.valueOf((int) l) : LongNode.valueOf(l);
            } catch (NumberFormatException beyondLong) {
                // falls through to a double, as JSON integers beyond long do
            }
        }
        double d = Double.parseDouble(text);
        return Double.isFinite(d) ? DoubleNode.valueOf(d) : TextNode.valueOf(text);
    }

    // Java 17's Float.toString is not always the shortest (JDK-4511638, fixed in 19), so search the precisions.
    // (Like Ryu, this gives 1.0E-45 for Float.MIN_VALUE where Java 19+ prints its two-digit minimum, 1.4E-45.)
    private static JsonNode floatValue(float f) {
        if (!Float.isFinite(f)) {
            return TextNode.valueOf(Float.toString(f));
        }
        if (f == 0) {
            return DoubleNode.valueOf(f);
        }
        BigDecimal exact = new BigDecimal(f);
        for (int digits = 1; digits <= 9; digits++) {
            // Try both neighbours, not only the nearest: next to a power of two the rounding interval is lopsided.
            BigDecimal down = exact.round(new MathContext(digits, RoundingMode.DOWN));
            BigDecimal up = exact.round(new MathContext(digits, RoundingMode.UP));
            boolean downOk = Float.parseFloat(down.toString()) == f;
            boolean upOk = Float.parseFloat(up.toString()) == f;
            if (downOk || upOk) {
                BigDecimal pick = !upOk || downOk
                        && exact.subtract(down).abs().compareTo(up.subtract(exact).abs()) <= 0 ? down : up;
                return DoubleNode.valueOf(Double.parseDouble(pick.toString()));
            }
        }
        return DoubleNode.valueOf(f); // unreachable: 9 digits always round-trip a float
    }

    public boolean isBinary() {
        return binary != null;
    }

    // A record compares arrays by identity; compare the blob by content.
    @Override
    public boolean equals(Object o) {
        return o instanceof Datapoint p
                && stream.equals(p.stream)
                && Objects.equals(at, p.at)
                && Objects.equals(value, p.value)
                && Arrays.equals(binary, p.binary)
                && Objects.equals(binaryDesc, p.binaryDesc);
    }

    @Override
    public int hashCode() {
        return Objects.hash(stream, at, value, Arrays.hashCode(binary), binaryDesc);
    }

    @Override
    public String toString() {
        return "Datapoint[stream=" + stream + ", at=" + at
                + (binary == null ? ", value=" + value : ", binary=" + binary.length + " bytes, binaryDesc=" + binaryDesc)
                + "]";
    }
}
