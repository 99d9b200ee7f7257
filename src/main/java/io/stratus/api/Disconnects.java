package io.stratus.api;

import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.eclipse.jetty.ee10.servlet.ServletContextRequest;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells when the client of a long response goes away. Over HTTP/1.1 Jetty reads nothing more from a connection while
 * a response is being written, so a client that closes its end is noticed only when a write fails: for an idle
 * {@code /events} stream, at the second heartbeat after it left, up to 30 s of a slot held by nobody. Here the
 * connection's end point is asked to tell when it becomes readable; end of stream or an error means the client
 * left. The response must carry {@code Connection: close}, so that no next request on the connection competes for
 * that interest.
 */
final class Disconnects {
    private static final Logger log = LoggerFactory.getLogger(Disconnects.class);

    private Disconnects() {
    }

    /**
     * Calls {@code gone} (on a Jetty thread: it must not block) once the client of {@code request} closes its
     * connection or the connection fails. False when that cannot be watched (not HTTP/1, or the connection is
     * already being read); the caller then notices at its next write.
     */
    static boolean watch(HttpServletRequest request, Runnable gone) {
        ServletContextRequest r = ServletContextRequest.getServletContextRequest(request);
        if (r == null || !isHttp1(r.getConnectionMetaData().getHttpVersion())) {
            return false;
        }
        EndPoint endPoint = r.getConnectionMetaData().getConnection().getEndPoint();
        return endPoint.tryFillInterested(new Reader(endPoint, gone));
    }

    private static boolean isHttp1(HttpVersion version) {
        return version == HttpVersion.HTTP_1_1 || version == HttpVersion.HTTP_1_0;
    }

    /** Reads what becomes readable: -1 is the client's close; bytes (a client writing mid-stream) are dropped. */
    private static final class Reader implements Callback {
        private final EndPoint endPoint;
        private final Runnable gone;

        Reader(EndPoint endPoint, Runnable gone) {
            this.endPoint = endPoint;
            this.gone = gone;
        }

        @Override
        public void succeeded() {
            ByteBuffer buffer = BufferUtil.allocate(512);
            try {
                int n;
                do {
                    BufferUtil.clear(buffer);
                    n = endPoint.fill(buffer);
                } while (n > 0);
                if (n < 0) {
                    gone.run();
                } else if (!endPoint.tryFillInterested(this)) {
                    log.debug("stream connection is read by someone else now; its close is noticed at a write");
                }
            } catch (IOException e) {
                gone.run();
            }
        }

        @Override
        public void failed(Throwable x) {
            gone.run();
        }

        @Override
        public InvocationType getInvocationType() {
            return InvocationType.NON_BLOCKING;
        }
    }
}
