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
}
