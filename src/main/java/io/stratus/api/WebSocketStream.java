package io.stratus.api;

import io.stratus.transport.ByteStreams;
import io.stratus.transport.StreamLink;
import io.stratus.transport.StreamPeer;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.api.StatusCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One MQTT over WebSocket connection on the HTTP port: binary frames to the broker's byte stream and back, with
 * bounded memory both ways. Inbound, Jetty reads a frame only on demand, and this asks for the next one only while
 * fewer than {@link #MAX_UNREAD_BYTES} are waiting for the broker: when the connection stops reading (its
 * back-pressure), so does the WebSocket, and the client's TCP window fills. Outbound, a client that leaves more than
 * {@link #MAX_UNSENT_BYTES} unsent is a slow consumer and is disconnected: a close frame would wait behind what it
 * does not read. Public only because Jetty calls it by
 * reflection.
 */
public final class WebSocketStream implements Session.Listener, StreamPeer {
    private static final Logger log = LoggerFactory.getLogger(WebSocketStream.class);
    static final int MAX_UNREAD_BYTES = 64 * 1024;
    static final int MAX_UNSENT_BYTES = 1024 * 1024;

    private final ByteStreams streams;
    private final InetSocketAddress client;
    private final MqttWebSocket endpoint;
    private final AtomicLong unsent = new AtomicLong();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicBoolean ended = new AtomicBoolean();
    private volatile Session session;
    private volatile StreamLink link;
    /** Bytes handed to the broker and not yet read, and whether Jetty has been asked for a frame; under the lock. */
    private long unread;
    private boolean demanded;

    WebSocketStream(ByteStreams streams, InetSocketAddress client, MqttWebSocket endpoint) {
        this.streams = streams;
        this.client = client;
        this.endpoint = endpoint;
    }

    @Override
    public void onWebSocketOpen(Session session) {
        this.session = session;
        StreamLink opened = streams.open(client, this);
        if (opened == null) {
            session.close(StatusCode.TRY_AGAIN_LATER, "server stopping", Callback.NOOP);
            return;
        }
        endpoint.opened();
        link = opened;
        synchronized (this) {
            demanded = true;
        }
        session.demand();
    }

    @Override
    public void onWebSocketPartialBinary(ByteBuffer payload, boolean fin, Callback callback) {
        boolean more;
        synchronized (this) {
            unread += payload.remaining(); // counted before the broker can report it read
            endpoint.unread(unread);
            more = unread < MAX_UNREAD_BYTES;
            demanded = more;
        }
        link.receive(payload); // copies: the frame is a stream of MQTT bytes, packets may span frames
        callback.succeed();
        if (more) {
            session.demand();
        }
    }

    @Override
    public void onWebSocketPartialText(String payload, boolean fin) {
        session.close(StatusCode.BAD_DATA, "MQTT over WebSocket is binary", Callback.NOOP);
    }

    @Override
    public void consumed(int bytes) {
        boolean more;
        synchronized (this) {
            unread -= bytes;
            more = !demanded && unread < MAX_UNREAD_BYTES;
            demanded |= more;
        }
        if (more) {
            session.demand();
        }
    }

    @Override
    public void send(ByteBuffer bytes) {
        int n = bytes.remaining();
        if (unsent.addAndGet(n) > MAX_UNSENT_BYTES) {
            if (closed.compareAndSet(false, true)) {
                log.warn("{} closed: a slow consumer, over {} bytes unsent on the WebSocket", client, MAX_UNSENT_BYTES);
                endpoint.slowConsumer();
                session.disconnect();
                link.close();
            }
            return;
        }
        session.sendBinary(bytes, Callback.from(() -> unsent.addAndGet(-n), failure -> link.close()));
    }

    /** The broker ended the connection: what it wrote before goes out first, then the close frame. */
    @Override
    public void close() {
        Session s = session;
        if (s != null && s.isOpen() && closed.compareAndSet(false, true)) {
            s.close(StatusCode.NORMAL, null, Callback.NOOP);
        }
    }

    @Override
    public void onWebSocketClose(int statusCode, String reason, Callback callback) {
        StreamLink l = link;
        if (l != null && ended.compareAndSet(false, true)) {
            endpoint.closed();
            l.close();
        }
        callback.succeed();
    }

    @Override
    public void onWebSocketError(Throwable cause) {
        log.debug("{} WebSocket failed: {}", client, cause.toString());
        StreamLink l = link;
        if (l != null) {
            l.close();
        }
    }
}
