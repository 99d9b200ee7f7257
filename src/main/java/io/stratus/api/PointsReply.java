package io.stratus.api;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonSerializable;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.jsontype.TypeSerializer;
import io.stratus.telemetry.StoredPoint;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongFunction;

/**
 * The data of a history reply, {@code {"count", ..., "datastreams":[{"id", "datapoints":[{"at","value"}]}]}},
 * written straight to the reply's generator: a page holds up to 6,000 points, and a tree of nodes per point (with
 * each stored value parsed back into one) was most of the query's time.
 */
final class PointsReply implements JsonSerializable {
    private final List<StoredPoint> points;
    private final LongFunction<String> time;
    private final Map<String, Object> fields = new LinkedHashMap<>();
    private Map<String, Long> totals;

    /** @param points ordered as they are to appear within each stream; streams appear in order of first point */
    PointsReply(List<StoredPoint> points, LongFunction<String> time) {
        this.points = points;
        this.time = time;
    }

    /** A field written after {@code count} (a string, number or boolean), in the order added. */
    PointsReply with(String name, Object value) {
        fields.put(name, value);
        return this;
    }

    /** Each stream's {@code total}, written after its id; a stream not in the map has its own point count. */
    PointsReply withTotals(Map<String, Long> totals) {
        this.totals = totals;
        return this;
    }

    @Override
    public void serialize(JsonGenerator out, SerializerProvider serializers) throws IOException {
        out.writeStartObject();
        out.writeNumberField("count", points.size());
        for (Map.Entry<String, Object> f : fields.entrySet()) {
            out.writeFieldName(f.getKey());
            out.writeObject(f.getValue());
        }
        Map<String, List<StoredPoint>> byStream = new LinkedHashMap<>();
        for (StoredPoint p : points) {
            byStream.computeIfAbsent(p.stream(), s -> new ArrayList<>()).add(p);
        }
        out.writeArrayFieldStart("datastreams");
        for (Map.Entry<String, List<StoredPoint>> stream : byStream.entrySet()) {
            out.writeStartObject();
            out.writeStringField("id", stream.getKey());
            if (totals != null) {
                out.writeNumberField("total", totals.getOrDefault(stream.getKey(), (long) stream.getValue().size()));
            }
            out.writeArrayFieldStart("datapoints");
            for (StoredPoint p : stream.getValue()) {
                out.writeStartObject();
                out.writeStringField("at", time.apply(p.at()));
                out.writeFieldName("value");
                Values.write(out, p.valueJson());
                out.writeEndObject();
            }
            out.writeEndArray();
            out.writeEndObject();
        }
        out.writeEndArray();
        out.writeEndObject();
    }

    @Override
    public void serializeWithType(JsonGenerator out, SerializerProvider serializers, TypeSerializer typeSer) throws IOException {
        serialize(out, serializers);
    }
}
