package io.stratus.transport;

import java.nio.ByteBuffer;

/** The server's end of a {@link ByteStreams} connection, as the transport sees it. */
public interface StreamLink {
    /** The client's next bytes, copied before this returns; {@link StreamPeer#consumed} reports when they are read. */
    void receive(ByteBuffer bytes);

    /** The client went away: the server closes its connection. */
    void close();
}
