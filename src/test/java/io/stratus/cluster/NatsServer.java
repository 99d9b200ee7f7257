package io.stratus.cluster;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A nats-server for the tests of cluster routing: Debian's {@code nats-server} with JetStream on, started on a free
 * port of 127.0.0.1 with its store in a temporary directory, stopped by its PID ({@link #close}, or when the JVM ends)
 * and the directory removed. {@code .ci/run} installs the package when it is missing.
 */
public final class NatsServer implements AutoCloseable {
    private static final List<Path> BINARIES = List.of(Path.of("/usr/sbin/nats-server"), Path.of("/usr/bin/nats-server"));

    private final Process process;
    private final Path dir;
    private final int port;
    private final Thread onExit;

    private NatsServer(Process process, Path dir, int port) {
        this.process = process;
        this.dir = dir;
        this.port = port;
        this.onExit = new Thread(this::stop, "nats-server-stop");
        Runtime.getRuntime().addShutdownHook(onExit);
    }

    /** Starts one; fails when nats-server is not installed or does not listen within 10 s. */
    public static NatsServer start() throws IOException, InterruptedException {
        Path binary = binary();
        Path dir = Files.createTempDirectory("stratus-nats");
        int port = freePort();
        Process process = new ProcessBuilder(binary.toString(), "-a", "127.0.0.1", "-p", String.valueOf(port), "-js",
                "-sd", dir.resolve("js").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("nats-server.log").toFile()).start();
        NatsServer server = new NatsServer(process, dir, port);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!server.listening()) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                server.close();
                throw new IllegalStateException("nats-server did not start: " + Files.readString(dir.resolve("nats-server.log")));
            }
            Thread.sleep(20);
        }
        return server;
    }

    /** {@code nats://127.0.0.1:<port>}. */
    public String url() {
        return "nats://127.0.0.1:" + port;
    }

    public long pid() {
        return process.pid();
    }

    private boolean listening() {
        return listening(port);
    }

    /** Debian's nats-server; fails when it is not installed. */
    public static Path binary() {
        return BINARIES.stream().filter(Files::isExecutable).findFirst()
                .orElseThrow(() -> new IllegalStateException("nats-server is not installed (apt-get install nats-server)"));
    }

    /** Whether something accepts TCP connections on this port of 127.0.0.1. */
    public static boolean listening(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Deletes a temporary directory and what is in it; one left behind is not worth failing a test for. */
    public static void deleteTree(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            // left behind
        }
    }

    private void stop() {
        terminate(process);
        deleteTree(dir);
    }

    /** SIGTERM to a nats-server this test started (it shuts down cleanly), SIGKILL after 5 s; returns once it exited. */
    public static void terminate(Process process) {
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        stop();
        try {
            Runtime.getRuntime().removeShutdownHook(onExit);
        } catch (IllegalStateException shuttingDown) {
            // the hook runs anyway, and stop() is harmless twice
        }
    }
}
