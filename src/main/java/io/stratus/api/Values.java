package io.stratus.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;

/** Stored point values (JSON text) back to JSON for replies. */
final class Values {
    private Values() {
    }

    static JsonNode parse(String json) {
        try {
            return JsonBody.MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            return JsonBody.MAPPER.getNodeFactory().textNode(json);
        }
    }
}
