package io.stratus.transport;

import java.net.InetSocketAddress;

/**
 * Connections into the MQTT server over a transport that another part serves (MQTT over WebSocket on the HTTP port):
 * the client's bytes go in through a {@link StreamLink}, the server's come back through a {@link StreamPeer}. Neither
 * side sees the other's library: no Netty here, no Jetty.
 */
public interface ByteStreams {
    /**
     * Opens a connection for a client at {@code client} (what logs and the login throttle see); the server's bytes and
     * its reading progress go to {@code peer}. Null when the server cannot take it (stopping).
     */
    StreamLink open(InetSocketAddress client, StreamPeer peer);
}
