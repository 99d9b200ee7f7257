package io.stratus.mqtt;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * The client's address: the socket's peer, or for a connection bridged from the HTTP port ({@link LocalStreams}) the
 * WebSocket client's address, as the in-VM channel's own peer is a local name that would share one login budget.
 */
final class ClientAddress {
    static final AttributeKey<InetSocketAddress> BRIDGED = AttributeKey.valueOf("stratus.bridged-client-address");

    private ClientAddress() {
    }

    static SocketAddress of(Channel channel) {
        // hasAttr first: attr() would add an empty attribute to every TCP connection, which has none
        InetSocketAddress bridged = channel.hasAttr(BRIDGED) ? channel.attr(BRIDGED).get() : null;
        return bridged != null ? bridged : channel.remoteAddress();
    }
}
