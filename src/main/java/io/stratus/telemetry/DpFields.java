package io.stratus.telemetry;

import static io.stratus.telemetry.DpInput.quote;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntSupplier;

/**
 * The separated string of {@code $dp} types 5 and 6: u16 + string, where char0 separates inside a field, char1
 * between fields; {@code value | id,value | id,time,value}.
 */
final class DpFields {
    private final DpTime time;

    DpFields(DpTime time) {
        this.time = time;
    }

    /** Reads the fields; those without a time take {@code defaultTime} (type 6's header time, or none). */
    void read(DpInput in, Long defaultTime) throws DpFormatException {
        int length = in.length("string");
        int start = in.pos;
        String text = utf8(in, start, length);
        in.pos += length;
        in.check(text.codePointCount(0, text.length()) >= 2, "string needs two separator characters", start);
        String inside = new String(Character.toChars(text.codePointAt(0)));
        String between = new String(Character.toChars(text.codePointAt(inside.length())));
        in.check(!inside.equals(between), "separators must differ (both " + quote(inside) + ")", start);
        int from = inside.length() + between.length();
        in.check(from < text.length(), "no fields after the separators", start);
        for (int index = 0; from <= text.length(); index++) {
            int end = text.indexOf(between, from);
            end = end < 0 ? text.length() : end;
            field(in, text, from, end, index, inside, defaultTime, start);
            from = end + between.length();
        }
    }

    private void field(DpInput in, String text, int from, int end, int index, String inside, Long defaultTime, int start)
            throws DpFormatException {
        // Byte offset of the field, computed only for an error: eagerly it would be quadratic in the field count.
        IntSupplier at = () -> start + text.substring(0, from).getBytes(StandardCharsets.UTF_8).length;
        List<String> parts = new ArrayList<>(3);
        for (int p = from; parts.size() < 4; ) {
            int q = text.indexOf(inside, p);
            if (q < 0 || q >= end) {
                parts.add(text.substring(p, end));
                break;
            }
            parts.add(text.substring(p, q));
            p = q + inside.length();
        }
        if (parts.size() > 3) {
            throw in.fail("field " + index + " has more than 3 parts", at.getAsInt());
        }
        if (parts.contains("")) {
            throw in.fail("field " + index + " has an empty part", at.getAsInt());
        }
        String id = parts.size() == 1 ? Integer.toString(index) : parts.get(0);
        Long t = defaultTime;
        if (parts.size() == 3) {
            t = time.parse(parts.get(1));
            if (t == null) {
                throw in.fail("field " + index + ": " + quote(parts.get(1)) + " is not a datetime", at.getAsInt());
            }
        }
        in.add(Datapoint.ofText(id, t, parts.get(parts.size() - 1)), at);
    }

    private static String utf8(DpInput in, int start, int length) throws DpFormatException {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer bytes = ByteBuffer.wrap(in.payload, start, length);
        CharBuffer chars = CharBuffer.allocate(length);
        CoderResult result = decoder.decode(bytes, chars, true);
        if (!result.isError()) {
            result = decoder.flush(chars);
        }
        if (result.isError()) {
            throw in.fail("string is not valid UTF-8", bytes.position());
        }
        return chars.flip().toString();
    }
}
