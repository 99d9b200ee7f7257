package io.stratus.it;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A TCP proxy for fault tests: listens on a free port of 127.0.0.1 and forwards each connection to {@code target}.
 * Faults, until {@link #heal}: {@link #cut} closes every connection and refuses new ones, {@link #blackhole} keeps
 * connections open but drops the bytes both ways, {@link #delay} holds each chunk back before passing it on. At most
 * {@value #MAX_CONNECTIONS} connections at once; more are refused. Each connection takes four daemon threads (a reader
 * and a writer each way), so a delay adds latency without capping throughput.
 */
final class TcpProxy implements AutoCloseable {
    static final int MAX_CONNECTIONS = 1_000;
    /** Chunks read but not yet written, per direction: a writer held back by a delay slows its reader down. */
    private static final int QUEUED_CHUNKS = 64;
    private static final int CHUNK = 16 * 1024;
    private static final int CONNECT_TIMEOUT_MS = 5_000;

    private enum Mode { OPEN, CUT, BLACKHOLE }

    private final InetSocketAddress target;
    private final ServerSocket server;
    private final Set<Link> links = ConcurrentHashMap.newKeySet();
    private volatile Mode mode = Mode.OPEN;
    private volatile long delayNanos;
    private volatile boolean closed;

    private TcpProxy(InetSocketAddress target) throws IOException {
        this.target = target;
        this.server = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
    }

    /** Starts a proxy to {@code host:port}. */
    static TcpProxy start(String host, int port) throws IOException {
        TcpProxy proxy = new TcpProxy(new InetSocketAddress(host, port));
        Thread acceptor = new Thread(proxy::acceptLoop, "tcp-proxy-accept-" + proxy.port());
        acceptor.setDaemon(true);
        acceptor.start();
        return proxy;
    }

    /** The port to connect to instead of the target's. */
    int port() {
        return server.getLocalPort();
    }

    /** Connections open through the proxy now. */
    int connections() {
        return links.size();
    }

    /** Closes every connection and refuses new ones (accepted, then reset) until {@link #heal}. */
    void cut() {
        mode = Mode.CUT;
        links.forEach(Link::close);
    }

    /** Keeps connections open, new ones too, but drops every byte both ways until {@link #heal}. */
    void blackhole() {
        mode = Mode.BLACKHOLE;
    }

    /** Adds {@code latency} to every chunk from now on, both ways; {@link Duration#ZERO} or {@link #heal} ends it. */
    void delay(Duration latency) {
        delayNanos = latency.toNanos();
    }

    /** Back to plain forwarding: no cut, no blackhole, no delay. Bytes dropped meanwhile stay lost. */
    void heal() {
        delayNanos = 0;
        mode = Mode.OPEN;
    }

    private void acceptLoop() {
        while (!closed) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                return; // closed
            }
            if (mode == Mode.CUT || links.size() >= MAX_CONNECTIONS) {
                reset(client);
                continue;
            }
            Socket upstream = new Socket();
            try {
                upstream.connect(target, CONNECT_TIMEOUT_MS);
            } catch (IOException e) {
                reset(client);
                closeQuietly(upstream);
                continue;
            }
            Link link = new Link(client, upstream);
            links.add(link);
            // A cut or close between the check above and the add must not miss this one.
            if (mode == Mode.CUT || closed) {
                link.close();
            } else {
                link.start();
            }
        }
    }

    /** One proxied connection: the client's socket, the target's, and the four threads between them. */
    private final class Link {
        private final Socket client;
        private final Socket upstream;
        private final Thread[] threads = new Thread[4];
        private int halfClosed;

        Link(Socket client, Socket upstream) {
            this.client = client;
            this.upstream = upstream;
        }

        synchronized void start() {
            BlockingQueue<Chunk> up = new ArrayBlockingQueue<>(QUEUED_CHUNKS);
            BlockingQueue<Chunk> down = new ArrayBlockingQueue<>(QUEUED_CHUNKS);
            String name = "tcp-proxy-" + client.getPort() + "-";
            threads[0] = thread(name + "read-up", () -> read(client, up));
            threads[1] = thread(name + "write-up", () -> write(up, upstream));
            threads[2] = thread(name + "read-down", () -> read(upstream, down));
            threads[3] = thread(name + "write-down", () -> write(down, client));
            for (Thread t : threads) {
                t.start();
            }
        }

        private Thread thread(String name, Runnable work) {
            Thread t = new Thread(null, work, name, 256 * 1024);
            t.setDaemon(true);
            return t;
        }

        private void read(Socket from, BlockingQueue<Chunk> queue) {
            byte[] buffer = new byte[CHUNK];
            try {
                InputStream in = from.getInputStream(); // not closed here: that would close the socket both ways
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    if (mode != Mode.BLACKHOLE) {
                        queue.put(new Chunk(System.nanoTime() + delayNanos, Arrays.copyOf(buffer, n)));
                    }
                }
                queue.put(new Chunk(System.nanoTime() + delayNanos, null));
            } catch (IOException | InterruptedException e) {
                close();
            }
        }

        private void write(BlockingQueue<Chunk> queue, Socket to) {
            try {
                OutputStream out = to.getOutputStream();
                while (true) {
                    Chunk chunk = queue.take();
                    long wait = chunk.due() - System.nanoTime();
                    if (wait > 0) {
                        TimeUnit.NANOSECONDS.sleep(wait);
                    }
                    if (chunk.bytes() == null) {
                        to.shutdownOutput(); // pass the half close on
                        endOneWay();
                        return;
                    }
                    if (mode != Mode.BLACKHOLE) {
                        out.write(chunk.bytes());
                        out.flush();
                    }
                }
            } catch (IOException | InterruptedException e) {
                close();
            }
        }

        private synchronized void endOneWay() {
            if (++halfClosed == 2) {
                close();
            }
        }

        synchronized void close() {
            links.remove(this);
            closeQuietly(client);
            closeQuietly(upstream);
            Thread self = Thread.currentThread();
            for (Thread t : threads) {
                if (t != null && t != self) {
                    t.interrupt();
                }
            }
        }
    }

    /** Bytes read at one end and when to write them at the other; no bytes: that end closed its output. */
    private record Chunk(long due, byte[] bytes) {}

    /** Closes with an RST rather than a FIN, as a refusal looks to the client. */
    private static void reset(Socket s) {
        try {
            s.setSoLinger(true, 0);
        } catch (IOException e) {
            // closed anyway below
        }
        closeQuietly(s);
    }

    private static void closeQuietly(Closeable s) {
        try {
            s.close();
        } catch (IOException e) {
            // nothing to do
        }
    }

    @Override
    public void close() {
        closed = true;
        closeQuietly(server);
        links.forEach(Link::close);
    }
}
