package io.stratus.mqtt;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.mqtt.MqttFixedHeader;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageBuilders;
import io.netty.handler.codec.mqtt.MqttMessageIdVariableHeader;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttPublishMessage;
import io.netty.handler.codec.mqtt.MqttPublishVariableHeader;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.stratus.broker.Message;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/** The packets the server sends, built from the broker's types; payloads are wrapped, never copied. */
final class Packets {
    private Packets() {
    }

    /** A PUBLISH of {@code message} at its QoS; {@code packetId} is 0 for QoS 0. */
    static MqttPublishMessage publish(Message message, int packetId, boolean dup) {
        MqttFixedHeader header = new MqttFixedHeader(MqttMessageType.PUBLISH, dup, MqttQoS.valueOf(message.qos()),
                message.retain(), 0);
        return new MqttPublishMessage(header, new MqttPublishVariableHeader(message.topic(), packetId),
                Unpooled.wrappedBuffer(message.payload()));
    }

    /** A QoS 0 PUBLISH outside any subscription (OneNET's {@code $creq/...}): no retain, no packet id. */
    static MqttPublishMessage publishDirect(Message message) {
        MqttFixedHeader header = new MqttFixedHeader(MqttMessageType.PUBLISH, false, MqttQoS.AT_MOST_ONCE, false, 0);
        return new MqttPublishMessage(header, new MqttPublishVariableHeader(message.topic(), 0),
                Unpooled.wrappedBuffer(message.payload()));
    }

    /** PUBACK, PUBREC, PUBREL or PUBCOMP; PUBREL carries the flags 0010 [MQTT-3.6.1-1]. */
    static MqttMessage ack(MqttMessageType type, int packetId) {
        return new MqttMessage(ACK_HEADERS.get(type), MqttMessageIdVariableHeader.from(packetId));
    }

    /** What acknowledges an incoming PUBLISH of QoS 1 (PUBACK) or 2 (PUBREC). */
    static MqttMessage publishAck(int qos, int packetId) {
        return ack(qos == 1 ? MqttMessageType.PUBACK : MqttMessageType.PUBREC, packetId);
    }

    /** The fixed headers of the acknowledgements (immutable, so one each for all of them). */
    private static final Map<MqttMessageType, MqttFixedHeader> ACK_HEADERS = new EnumMap<>(Map.of(
            MqttMessageType.PUBACK, ackHeader(MqttMessageType.PUBACK),
            MqttMessageType.PUBREC, ackHeader(MqttMessageType.PUBREC),
            MqttMessageType.PUBREL, ackHeader(MqttMessageType.PUBREL),
            MqttMessageType.PUBCOMP, ackHeader(MqttMessageType.PUBCOMP)));

    private static MqttFixedHeader ackHeader(MqttMessageType type) {
        MqttQoS qos = type == MqttMessageType.PUBREL ? MqttQoS.AT_LEAST_ONCE : MqttQoS.AT_MOST_ONCE;
        return new MqttFixedHeader(type, false, qos, false, 0);
    }

    /** SUBACK with one return code per filter: the granted QoS 0-2 or 0x80 (failure). */
    static MqttMessage subAck(int packetId, List<Integer> codes) {
        MqttMessageBuilders.SubAckBuilder subAck = MqttMessageBuilders.subAck().packetId(packetId);
        for (int code : codes) {
            subAck.addGrantedQos(MqttQoS.valueOf(code));
        }
        return subAck.build();
    }

    static int packetId(MqttMessage m) {
        return ((MqttMessageIdVariableHeader) m.variableHeader()).messageId();
    }

    /**
     * A 3.1.1 CONNACK refusing with {@code code}, whatever level the client asked for [MQTT-3.1.2-2]: after an MQTT 5
     * CONNECT Netty's encoder would write an MQTT 5 CONNACK, which a 3.1.1 return code does not fit.
     */
    static ByteBuf connAckRefusal(int code) {
        return Unpooled.wrappedBuffer(new byte[] {0x20, 0x02, 0x00, (byte) code});
    }
}
