package io.stratus.telemetry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.core.io.NumberOutput;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

/** Values as the store keeps them (compact JSON text) and as forwards send them (plain text, quoted strings). */
final class ValueJson {
    /** Shortest round-trip doubles (Java 17's Double.toString is not always shortest: 1e23). */
    private static final ObjectMapper JSON = JsonMapper.builder().enable(StreamWriteFeature.USE_FAST_DOUBLE_WRITER).build();

    private ValueJson() {
    }

    /**
     * A value as compact JSON. Integers and finite doubles (nearly every uploaded value) are written directly, as
     * Jackson would write them (the shortest round-trip double); everything else goes through Jackson.
     */
    static String compact(JsonNode value) {
        if (value.isInt() || value.isLong()) {
            return Long.toString(value.longValue());
        }
        if (value.isDouble() && Double.isFinite(value.doubleValue())) {
            return NumberOutput.toString(value.doubleValue(), true);
        }
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(e);
        }
    }

    /** A value as text: numbers and strings as they are, objects and arrays as compact JSON. */
    static String valueText(String valueJson) {
        if (valueJson.startsWith("\"")) {
            try {
                return JSON.readTree(valueJson).asText();
            } catch (JsonProcessingException e) {
                return valueJson;
            }
        }
        return valueJson;
    }

    /** A string as a JSON string literal. */
    static String quote(String s) {
        return JSON.getNodeFactory().textNode(s).toString();
    }
}
