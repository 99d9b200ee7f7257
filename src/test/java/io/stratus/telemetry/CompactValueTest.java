package io.stratus.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The fast path of {@link ValueJson#compact} writes exactly what Jackson writes, so stored values do not change. */
class CompactValueTest {
    private static final ObjectMapper JACKSON = JsonMapper.builder().enable(StreamWriteFeature.USE_FAST_DOUBLE_WRITER).build();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    @Test
    void numbers_are_written_as_jackson_writes_them() throws Exception {
        List<JsonNode> values = new ArrayList<>(List.of(NODES.numberNode(0), NODES.numberNode(-1), NODES.numberNode(Integer.MAX_VALUE),
                NODES.numberNode(Long.MIN_VALUE), NODES.numberNode(22.5), NODES.numberNode(0.1), NODES.numberNode(1e23),
                NODES.numberNode(-0.0), NODES.numberNode(1e-7), NODES.numberNode(1e21), NODES.numberNode(123456789.0),
                NODES.numberNode(Double.MIN_VALUE), NODES.numberNode(Double.MAX_VALUE), NODES.numberNode(2.0E-3)));
        SplittableRandom random = new SplittableRandom(6);
        for (int i = 0; i < 20_000; i++) {
            values.add(NODES.numberNode(Double.longBitsToDouble(random.nextLong())));
            values.add(NODES.numberNode(random.nextInt(-100_000, 100_000) / 100.0));
            values.add(NODES.numberNode(random.nextLong()));
        }
        for (JsonNode v : values) {
            assertThat(ValueJson.compact(v)).as("%s", v).isEqualTo(JACKSON.writeValueAsString(v));
        }
    }

    @Test
    void other_values_still_go_through_jackson() throws Exception {
        for (String json : List.of("\"a \\\"quoted\\\" text\"", "true", "null", "{\"x\":[1,2.5,\"y\"]}", "12345678901234567890123")) {
            JsonNode v = JACKSON.readTree(json);
            assertThat(ValueJson.compact(v)).isEqualTo(JACKSON.writeValueAsString(v));
        }
    }
}
