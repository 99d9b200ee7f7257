package io.stratus.mqtt;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * The client's address: the socket's peer, or the address that whoever carried the connection told: the WebSocket
 * client's for a connection bridged from the HTTP port ({@link LocalStreams}), whose in-VM channel's own peer is a
 * local name that would share one login budget; the PROXY protocol header's behind a proxy ({@link ProxyHeader}).
 */
final class ClientAddress {
    static final AttributeKey<InetSocketAddress> TOLD = AttributeKey.valueOf("stratus.told-client-address");

    private ClientAddress() {
    }

    static SocketAddress of(Channel channel) {
        // hasAttr first: attr() would add an empty attribute to every TCP connection, which has none
        InetSocketAddress told = channel.hasAttr(TOLD) ? channel.attr(TOLD).get() : null;
        return told != null ? told : channel.remoteAddress();
    }
}
