package io.stratus.broker;

/** An application message as routed by the broker; the payload is never modified after construction. */
public record Message(String topic, byte[] payload, int qos, boolean retain) {
    /** The same message at another QoS and retain flag, for one subscriber. */
    Message forDelivery(int deliveryQos, boolean retainFlag) {
        return deliveryQos == qos && retainFlag == retain ? this : new Message(topic, payload, deliveryQos, retainFlag);
    }
}
