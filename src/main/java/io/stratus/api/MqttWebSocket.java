package io.stratus.api;

import io.javalin.config.JettyConfig;
import io.stratus.transport.ByteStreams;
import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jetty.ee10.websocket.server.JettyServerUpgradeRequest;
import org.eclipse.jetty.ee10.websocket.server.JettyServerUpgradeResponse;
import org.eclipse.jetty.ee10.websocket.server.JettyWebSocketCreator;
import org.eclipse.jetty.ee10.websocket.server.JettyWebSocketServerContainer;

/**
 * MQTT over WebSocket on the HTTP and HTTPS ports: an upgrade at {@link #PATH} with the subprotocol {@code mqtt}
 * becomes an MQTT connection of the broker ({@link ByteStreams}), each connection a {@link WebSocketStream}. Requests
 * to the same path that are no WebSocket upgrade (OneNET's {@code POST /mqtt}) go on to the API's routes: Jetty's
 * upgrade filter takes only upgrades.
 */
final class MqttWebSocket implements JettyWebSocketCreator {
    static final String PATH = "/mqtt";

    private final ByteStreams streams;
    private final ClientIp clientIp;
    private final long maxFrameBytes;
    private final Runnable slowConsumer;
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicLong peakUnread = new AtomicLong();

    /** {@code slowConsumer} counts a connection closed for not reading what the server sends. */
    MqttWebSocket(ByteStreams streams, ClientIp clientIp, long maxFrameBytes, Runnable slowConsumer) {
        this.streams = streams;
        this.clientIp = clientIp;
        this.maxFrameBytes = maxFrameBytes;
        this.slowConsumer = slowConsumer;
    }

    /**
     * Maps the path once Javalin's WebSocket container exists (it makes one at the context's start). The limits are the
     * container's: a session's own setting comes too late for its parser, and the API has no other WebSocket.
     */
    void addTo(JettyConfig jetty) {
        jetty.modifyServletContextHandler(handler -> handler.addEventListener(new ServletContextListener() {
            @Override
            public void contextInitialized(ServletContextEvent event) {
                JettyWebSocketServerContainer container = JettyWebSocketServerContainer.getContainer(event.getServletContext());
                container.setMaxFrameSize(maxFrameBytes); // larger: closed with 1009, not cut in parts
                container.setAutoFragment(false);
                container.setIdleTimeout(Duration.ZERO); // the MQTT keep-alive and CONNECT timeout decide (D7)
                container.addMapping(PATH, MqttWebSocket.this);
            }
        }));
    }

    @Override
    public Object createWebSocket(JettyServerUpgradeRequest request, JettyServerUpgradeResponse response)
            throws IOException {
        // MQTT 3.1.1 section 6: the client offers "mqtt"; anything else is not an MQTT client.
        if (!request.hasSubProtocol("mqtt")) {
            response.sendForbidden("the WebSocket subprotocol mqtt is required");
            return null;
        }
        response.setAcceptedSubProtocol("mqtt");
        return new WebSocketStream(streams, client(request), this);
    }

    /** The client's address for MQTT's login throttle: the peer's, or the one a trusted proxy forwarded ({@link ClientIp}). */
    private InetSocketAddress client(JettyServerUpgradeRequest request) {
        InetSocketAddress peer = (InetSocketAddress) request.getRemoteSocketAddress();
        InetAddress client = clientIp.of(peer.getAddress(), request.getHeaders(ClientIp.HEADER));
        return client.equals(peer.getAddress()) ? peer : new InetSocketAddress(client, 0);
    }

    void slowConsumer() {
        slowConsumer.run();
    }

    void opened() {
        open.incrementAndGet();
    }

    void closed() {
        open.decrementAndGet();
    }

    void unread(long bytes) {
        peakUnread.accumulateAndGet(bytes, Math::max);
    }

    /** Open MQTT over WebSocket connections on the HTTP ports. */
    int openCount() {
        return open.get();
    }

    /** The most bytes one connection has had received and not yet read by the broker, since the start. */
    long peakUnread() {
        return peakUnread.get();
    }
}
