package io.stratus.mqtt;

import io.netty.handler.codec.mqtt.MqttFixedHeader;
import io.netty.handler.codec.mqtt.MqttQoS;

/** Checks of the fixed header that the Netty decoder leaves to the server. */
final class PacketRules {
    private PacketRules() {
    }

    /** Null when the header's flags are legal, else the reason [MQTT-2.2.2-2]. */
    static String checkFlags(MqttFixedHeader h) {
        switch (h.messageType()) {
            case PUBLISH:
                if (h.qosLevel() == MqttQoS.FAILURE) {
                    return "PUBLISH with QoS 3"; // [MQTT-3.3.1-4]
                }
                if (h.isDup() && h.qosLevel() == MqttQoS.AT_MOST_ONCE) {
                    return "PUBLISH with QoS 0 and DUP set"; // [MQTT-3.3.1-2]
                }
                return null;
            case PUBREL:
            case SUBSCRIBE:
            case UNSUBSCRIBE:
                // [MQTT-3.6.1-1] [MQTT-3.8.1-1] [MQTT-3.10.1-1] flags must be 0010
                return h.isDup() || h.isRetain() || h.qosLevel() != MqttQoS.AT_LEAST_ONCE
                        ? "reserved flags of " + h.messageType() + " are not 0010" : null;
            default:
                return h.isDup() || h.isRetain() || h.qosLevel() != MqttQoS.AT_MOST_ONCE
                        ? "reserved flags of " + h.messageType() + " are not 0000" : null;
        }
    }

    /**
     * Null when the packet's length is allowed, else the reason: at most {@code maxConnectBytes} before CONNECT
     * (mqtt.max-connect-bytes), at most {@code maxPacketBytes} (mqtt.max-packet-bytes, D14, docs/decisions.md) after.
     * Checked before the decoder's result: the decoder skipped an oversized packet's bytes without holding them, and
     * Netty's own limit also counts the fixed header.
     */
    static String checkLength(MqttFixedHeader h, boolean beforeConnect, int maxConnectBytes, int maxPacketBytes) {
        if (beforeConnect && h.remainingLength() > maxConnectBytes) {
            return "packet of " + h.remainingLength() + " bytes before CONNECT is over mqtt.max-connect-bytes ("
                    + maxConnectBytes + ")";
        }
        if (h.remainingLength() > maxPacketBytes) {
            return "packet of " + h.remainingLength() + " bytes is over mqtt.max-packet-bytes (" + maxPacketBytes + ")";
        }
        return null;
    }
}
