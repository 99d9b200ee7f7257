package io.stratus.transport;

import java.nio.ByteBuffer;

/** The transport's end of a {@link ByteStreams} connection, as the server sees it. Called from the server's threads. */
public interface StreamPeer {
    /** Bytes for the client; the buffer is the peer's to keep. */
    void send(ByteBuffer bytes);

    /**
     * The server has read {@code bytes} more of what {@link StreamLink#receive} handed in. It stops reading while a
     * connection is over its own bounds, so a peer that keeps the unread bytes bounded passes that back-pressure on.
     */
    void consumed(int bytes);

    /** The server ended the connection. */
    void close();
}
