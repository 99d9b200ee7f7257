package io.stratus.hook;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.stratus.telemetry.StoredPoint;

/**
 * The data-push messages (API "Stratus extensions" in docs/decisions.md; fields as OneNET's published receiver code
 * reads them):
 * <pre>{"type":1,"dev_id":2016617,"ds_id":"temperature","at":1466133706841,"value":42}
 * {"type":2,"dev_id":2016617,"status":1,"login_type":7,"at":1466133706841}</pre>
 * {@code dev_id} is a number and {@code at} epoch milliseconds, as in OneNET's push. {@code value} is the stored
 * value as is (a binary point's is {@code {"index":"..."}}). {@code status} is 1 online, 0 offline.
 */
final class PushMessages {
    /**
     * OneNET's numbering of login protocols (1 EDP, 2 NWX, 3 JTEXT, 4 HISCMD, 5 JT808, 6 MODBUS, 7 MQTT, 8 GR20,
     * 9 REG, 10 HTTP, as in OneNET's device SDKs); Stratus devices come online over MQTT only.
     */
    static final int LOGIN_TYPE_MQTT = 7;
    private static final ObjectMapper JSON = new ObjectMapper();

    private PushMessages() {
    }

    static String dataPoint(long deviceId, StoredPoint p) {
        return "{\"type\":1,\"dev_id\":" + deviceId + ",\"ds_id\":" + quote(p.stream()) + ",\"at\":" + p.at()
                + ",\"value\":" + p.valueJson() + "}";
    }

    static String presence(long deviceId, boolean online, long at) {
        return "{\"type\":2,\"dev_id\":" + deviceId + ",\"status\":" + (online ? 1 : 0) + ",\"login_type\":" + LOGIN_TYPE_MQTT
                + ",\"at\":" + at + "}";
    }

    private static String quote(String s) {
        return JSON.getNodeFactory().textNode(s).toString();
    }
}
