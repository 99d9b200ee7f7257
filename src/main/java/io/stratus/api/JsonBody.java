package io.stratus.api;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.http.Context;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A request body: a JSON object read with the size limit, and typed access to its fields. A field that is
 * absent or JSON null reads as null; a field of the wrong type is errno 6.
 */
final class JsonBody {
    /** Limit of a JSON request body (Stratus decision: 64 KiB). */
    static final int MAX_BYTES = 64 * 1024;
    /** How much of an oversize body is read and dropped so that the client can read the reply. */
    private static final long MAX_DRAIN = 1024 * 1024;
    static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final ObjectNode node;

    private JsonBody(ObjectNode node) {
        this.node = node;
    }

    /** Reads the body: errno 5 when over 64 KiB, 9 when empty, 4 when not JSON, 6 when not an object. */
    static JsonBody read(Context ctx) {
        byte[] bytes = readLimited(ctx, MAX_BYTES);
        if (bytes.length == 0 || new String(bytes, StandardCharsets.UTF_8).isBlank()) {
            throw new ApiError(Errno.ENTITY_REQUIRED);
        }
        JsonNode root;
        try {
            root = MAPPER.readTree(bytes);
        } catch (JacksonException e) {
            throw new ApiError(Errno.INVALID_JSON, e.getOriginalMessage());
        } catch (IOException e) {
            throw new ApiError(Errno.INVALID_JSON);
        }
        if (!(root instanceof ObjectNode object)) {
            throw ApiError.invalid("body must be a JSON object");
        }
        return new JsonBody(object);
    }

    /** The raw body, at most {@code maxBytes}: errno 5 beyond. */
    static byte[] readLimited(Context ctx, int maxBytes) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        boolean tooLarge;
        try (InputStream in = ctx.req().getInputStream()) {
            tooLarge = ctx.req().getContentLengthLong() > maxBytes || !copy(in, out, maxBytes);
            if (tooLarge) {
                drain(in);
            }
        } catch (IOException e) {
            throw new ApiError(Errno.INVALID_JSON, "body could not be read");
        }
        if (tooLarge) {
            throw new ApiError(Errno.TOO_LARGE, "body over " + maxBytes + " bytes");
        }
        return out.toByteArray();
    }

    /** Copies until the end (true) or until more than the limit has been read (false). */
    private static boolean copy(InputStream in, ByteArrayOutputStream out, int maxBytes) throws IOException {
        byte[] buffer = new byte[8192];
        int n;
        while ((n = in.read(buffer)) != -1) {
            out.write(buffer, 0, n);
            if (out.size() > maxBytes) {
                return false;
            }
        }
        return true;
    }

    /**
     * Reads and drops the rest of an oversize body, up to a bound, so that the client is not cut off while
     * still sending and can read the errno 5 reply.
     */
    private static void drain(InputStream in) throws IOException {
        long left = MAX_DRAIN;
        byte[] buffer = new byte[8192];
        int n;
        while (left > 0 && (n = in.read(buffer)) != -1) {
            left -= n;
        }
    }

    /** A string field, or null; errno 6 when not a string or longer than {@code maxLength}. */
    String text(String field, int maxLength) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw ApiError.invalid(field + " must be a string");
        }
        if (v.textValue().length() > maxLength) {
            throw ApiError.invalid(field + " longer than " + maxLength);
        }
        return v.textValue();
    }

    /** A string field that must be present and not empty (errno 7). */
    String requiredText(String field, int maxLength) {
        String v = text(field, maxLength);
        if (v == null || v.isEmpty()) {
            throw ApiError.required(field);
        }
        return v;
    }

    /** A string field that may be absent but not empty (errno 6). */
    String nonEmptyText(String field, int maxLength) {
        String v = text(field, maxLength);
        if (v != null && v.isEmpty()) {
            throw ApiError.invalid(field + " must not be empty");
        }
        return v;
    }

    Boolean bool(String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isBoolean()) {
            throw ApiError.invalid(field + " must be true or false");
        }
        return v.booleanValue();
    }

    /** An array of strings, or null. */
    List<String> strings(String field, int maxItems, int maxLength) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isArray()) {
            throw ApiError.invalid(field + " must be an array of strings");
        }
        if (v.size() > maxItems) {
            throw ApiError.invalid(field + " has more than " + maxItems + " items");
        }
        List<String> out = new ArrayList<>(v.size());
        for (JsonNode item : v) {
            if (!item.isTextual() || item.textValue().length() > maxLength) {
                throw ApiError.invalid(field + " must be an array of strings of at most " + maxLength + " characters");
            }
            out.add(item.textValue());
        }
        return out;
    }

    /** A JSON array field, or null; errno 6 when not an array. */
    ArrayNode array(String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!(v instanceof ArrayNode array)) {
            throw ApiError.invalid(field + " must be an array");
        }
        return array;
    }

    /** Whether the body has this field (JSON null counts as absent). */
    boolean has(String field) {
        JsonNode v = node.get(field);
        return v != null && !v.isNull();
    }

    /** A field's value of whatever JSON type, or null when absent or JSON null; for fields of more than one shape. */
    JsonNode value(String field) {
        JsonNode v = node.get(field);
        return v == null || v.isNull() ? null : v;
    }

    /** A JSON object field, or null. */
    ObjectNode object(String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!(v instanceof ObjectNode object)) {
            throw ApiError.invalid(field + " must be an object");
        }
        return object;
    }
}
