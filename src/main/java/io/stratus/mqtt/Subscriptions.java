package io.stratus.mqtt;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.mqtt.MqttMessageBuilders;
import io.netty.handler.codec.mqtt.MqttSubscribeMessage;
import io.netty.handler.codec.mqtt.MqttTopicSubscription;
import io.netty.handler.codec.mqtt.MqttUnsubscribeMessage;
import io.stratus.broker.Broker;
import io.stratus.broker.Client;
import java.util.ArrayList;
import java.util.List;

/** SUBSCRIBE and UNSUBSCRIBE of a logged-in client, answered on its event loop. */
final class Subscriptions {
    private Subscriptions() {
    }

    /** Subscribes, writes the SUBACK and then the retained messages; or returns why the connection must close. */
    static String subscribe(ChannelHandlerContext ctx, Client client, MqttSubscribeMessage m) {
        List<MqttTopicSubscription> subs = m.payload().topicSubscriptions();
        if (subs.isEmpty()) {
            return "SUBSCRIBE without topic filters"; // [MQTT-3.8.3-3]
        }
        List<Broker.SubscriptionRequest> requests = new ArrayList<>(subs.size());
        for (MqttTopicSubscription s : subs) {
            requests.add(new Broker.SubscriptionRequest(s.topicFilter(), s.qualityOfService().value()));
        }
        List<Integer> codes = client.subscribe(requests);
        ctx.write(Packets.subAck(m.variableHeader().messageId(), codes));
        client.deliverRetained(requests, codes);
        ctx.flush();
        return null;
    }

    /** Unsubscribes and writes the UNSUBACK; or returns why the connection must close. */
    static String unsubscribe(ChannelHandlerContext ctx, Client client, MqttUnsubscribeMessage m) {
        List<String> filters = m.payload().topics();
        if (filters.isEmpty()) {
            return "UNSUBSCRIBE without topic filters"; // [MQTT-3.10.3-2]
        }
        client.unsubscribe(filters);
        ctx.writeAndFlush(MqttMessageBuilders.unsubAck().packetId(m.variableHeader().messageId()).build());
        return null;
    }
}
