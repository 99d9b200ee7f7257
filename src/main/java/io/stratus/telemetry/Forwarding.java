package io.stratus.telemetry;

import io.stratus.Config;
import io.stratus.broker.Broker;
import io.stratus.broker.Message;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** D4 (docs/decisions.md): committed points go on to subscribers of {@code /{device_id}/{stream}}. */
final class Forwarding {
    private final Broker broker;
    private final boolean json;
    private final ApiTimeFormat apiTime;

    Forwarding(Config config, Broker broker, ApiTimeFormat apiTime) {
        this.broker = broker;
        this.json = config.dpForwardJson();
        this.apiTime = apiTime;
    }

    /** D4: one PUBLISH per point to {@code /{device_id}/{stream}}, at min(uploader QoS, granted QoS). */
    void forward(long productId, long deviceId, List<StoredPoint> points, int qos) {
        if (!broker.hasSubscriptions(productId)) {
            return; // nobody could receive them: build no topics or payloads (this runs on the writer's thread)
        }
        String prefix = "/" + deviceId + "/";
        for (StoredPoint p : points) {
            byte[] payload = (json ? forwardJson(p) : ValueJson.valueText(p.valueJson())).getBytes(StandardCharsets.UTF_8);
            broker.publish(productId, new Message(prefix + p.stream(), payload, qos, false));
        }
    }

    private String forwardJson(StoredPoint p) {
        return "{\"id\":" + ValueJson.quote(p.stream()) + ",\"at\":\"" + apiTime.format(p.at())
                + "\",\"value\":" + p.valueJson() + "}";
    }
}
