package io.stratus.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.stratus.cluster.NatsServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * Three nats-server processes (Debian's {@code nats-server} 2.9) forming one NATS cluster with JetStream, each on free
 * ports of 127.0.0.1 (client, route, monitoring) with its store in a temporary directory. Servers are numbered 1 to 3
 * and named {@code nats-1} to {@code nats-3}. {@link #start} returns once every server listens, has its two routes
 * and sees a JetStream meta leader. Every process is signalled by its own PID, never by name; {@link #close} (or the
 * end of the JVM) stops them and removes the directory.
 */
final class NatsCluster implements AutoCloseable {
    static final int SIZE = 3;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private static final int START_ATTEMPTS = 3;
    private static final Duration READY_WITHIN = Duration.ofSeconds(20);

    private final Path binary;
    private final Path dir;
    private final String clusterName;
    private final int[] clientPorts = new int[SIZE];
    private final int[] routePorts = new int[SIZE];
    private final int[] monitorPorts = new int[SIZE];
    private final Process[] processes = new Process[SIZE];
    private final Thread onExit = new Thread(this::stopAll, "nats-cluster-stop");

    private NatsCluster(Path binary, Path dir) throws IOException {
        this.binary = binary;
        this.dir = dir;
        this.clusterName = "stratus-it-" + ProcessHandle.current().pid() + "-" + dir.getFileName();
        for (int i = 0; i < SIZE; i++) {
            clientPorts[i] = NatsServer.freePort();
            routePorts[i] = NatsServer.freePort();
            monitorPorts[i] = NatsServer.freePort();
        }
    }

    /** Starts the three servers; fails when nats-server is missing or the cluster is not ready within 20 s. */
    static NatsCluster start() throws IOException, InterruptedException {
        Path binary = NatsServer.binary();
        for (int attempt = 1; ; attempt++) {
            NatsCluster cluster = new NatsCluster(binary, Files.createTempDirectory("stratus-nats-cluster"));
            Runtime.getRuntime().addShutdownHook(cluster.onExit);
            try {
                for (int i = 1; i <= SIZE; i++) {
                    cluster.launch(i);
                }
                for (int i = 1; i <= SIZE; i++) {
                    cluster.awaitReady(i);
                }
                return cluster;
            } catch (IllegalStateException e) {
                cluster.close();
                // A free port may be taken by another process between its choice and the server's bind: try new ones.
                if (attempt == START_ATTEMPTS || !e.getMessage().contains("address already in use")) {
                    throw e;
                }
            }
        }
    }

    /** Every server's client URL, comma-separated, as {@code cluster.nats-url} takes them. */
    String urls() {
        return IntStream.rangeClosed(1, SIZE).mapToObj(this::url).collect(Collectors.joining(","));
    }

    /** {@code nats://127.0.0.1:<client port>} of server {@code i} (1 to 3). */
    String url(int i) {
        return "nats://127.0.0.1:" + clientPorts[check(i)];
    }

    String name(int i) {
        return "nats-" + (check(i) + 1);
    }

    long pid(int i) {
        return processes[check(i)].pid();
    }

    boolean isAlive(int i) {
        return processes[check(i)].isAlive();
    }

    /** SIGKILL to server {@code i}; returns once it has exited. */
    void kill(int i) throws InterruptedException {
        Process p = processes[check(i)];
        p.destroyForcibly();
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            throw new IllegalStateException(name(i) + " did not exit after SIGKILL");
        }
    }

    /** SIGSTOP to server {@code i}: it keeps its sockets but answers nothing until {@link #cont}. */
    void stop(int i) throws IOException, InterruptedException {
        signal(pid(i), "STOP");
    }

    /** SIGCONT to server {@code i}. */
    void cont(int i) throws IOException, InterruptedException {
        signal(pid(i), "CONT");
    }

    /**
     * Starts server {@code i} again (SIGKILL first if it still runs) on its ports, name and store, and waits until it
     * has its routes back and sees a meta leader.
     */
    void restart(int i) throws IOException, InterruptedException {
        if (isAlive(i)) {
            kill(i);
        }
        launch(i);
        awaitReady(i);
    }

    /** The JetStream meta leader's server name as server {@code i} sees it; empty while there is none. */
    String metaLeader(int i) throws IOException, InterruptedException {
        return monitor(i, "/jsz").path("meta_cluster").path("leader").asText("");
    }

    /**
     * The server (1 to 3) that holds a client connection named {@code connectionName} ({@code /connz}), 0 when no live
     * server does. A Stratus node names its connection {@code stratus <node name>}.
     */
    int serverOf(String connectionName) throws IOException, InterruptedException {
        for (int i = 1; i <= SIZE; i++) {
            if (!isAlive(i)) {
                continue;
            }
            for (JsonNode c : monitor(i, "/connz?limit=1024").path("connections")) {
                if (connectionName.equals(c.path("name").asText())) {
                    return i;
                }
            }
        }
        return 0;
    }

    /**
     * For failure messages: each live server's client connections and routes, with their message counts and
     * subscriptions ({@code /connz} and {@code /routez}), to tell where a message stopped.
     */
    String describe() throws IOException, InterruptedException {
        StringBuilder out = new StringBuilder();
        for (int i = 1; i <= SIZE; i++) {
            if (!isAlive(i)) {
                out.append(name(i)).append(": down\n");
                continue;
            }
            out.append(name(i)).append(": meta leader '").append(metaLeader(i)).append("'\n");
            for (JsonNode c : monitor(i, "/connz?subs=1&limit=1024").path("connections")) {
                out.append("  client '").append(c.path("name").asText()).append("' in ").append(c.path("in_msgs").asLong())
                        .append(" out ").append(c.path("out_msgs").asLong()).append(" subs ")
                        .append(c.path("subscriptions_list")).append('\n');
            }
            for (JsonNode r : monitor(i, "/routez?subs=1").path("routes")) {
                out.append("  route to ").append(r.path("remote_id").asText()).append(" in ").append(r.path("in_msgs").asLong())
                        .append(" out ").append(r.path("out_msgs").asLong()).append(" subs ")
                        .append(r.path("subscriptions_list")).append('\n');
            }
        }
        return out.toString();
    }

    /** The last lines of server {@code i}'s log, for failure messages. */
    String logTail(int i) {
        try {
            List<String> lines = Files.readAllLines(serverDir(check(i)).resolve("nats-server.log"));
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    private void launch(int i) throws IOException {
        int k = check(i);
        Path serverDir = Files.createDirectories(serverDir(k));
        List<String> routes = new ArrayList<>();
        for (int j = 0; j < SIZE; j++) {
            if (j != k) {
                routes.add("nats://127.0.0.1:" + routePorts[j]);
            }
        }
        processes[k] = new ProcessBuilder(binary.toString(), "-a", "127.0.0.1", "-p", String.valueOf(clientPorts[k]),
                "-m", String.valueOf(monitorPorts[k]), "-n", name(i), "--cluster_name", clusterName,
                "--cluster", "nats://127.0.0.1:" + routePorts[k], "--routes", String.join(",", routes),
                "-js", "-sd", serverDir.resolve("js").toString())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(serverDir.resolve("nats-server.log").toFile()))
                .start();
    }

    /** Until server {@code i} listens for clients, has a route to each other live server and sees a meta leader. */
    private void awaitReady(int i) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + READY_WITHIN.toNanos();
        String waitingFor = "its client port";
        while (System.nanoTime() < deadline) {
            if (!isAlive(i)) {
                throw new IllegalStateException(name(i) + " exited at start:\n" + logTail(i));
            }
            if (!NatsServer.listening(clientPorts[check(i)])) {
                waitingFor = "its client port";
            } else if (monitor(i, "/routez").path("num_routes").asInt() < liveServers() - 1) {
                waitingFor = "its routes";
            } else if (metaLeader(i).isEmpty()) {
                waitingFor = "a JetStream meta leader";
            } else {
                return;
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException(name(i) + " was not ready within " + READY_WITHIN.toSeconds() + " s (waiting for "
                + waitingFor + "):\n" + logTail(i));
    }

    private long liveServers() {
        return Stream.of(processes).filter(p -> p != null && p.isAlive()).count();
    }

    /** A monitoring endpoint's JSON; an empty object while the server does not answer yet. */
    private JsonNode monitor(int i, String path) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + monitorPorts[check(i)] + path))
                .timeout(Duration.ofSeconds(2)).build();
        try {
            return JSON.readTree(HTTP.send(request, HttpResponse.BodyHandlers.ofString()).body());
        } catch (IOException notYet) {
            return JSON.createObjectNode();
        }
    }

    private Path serverDir(int k) {
        return dir.resolve("s" + (k + 1));
    }

    private static int check(int i) {
        if (i < 1 || i > SIZE) {
            throw new IllegalArgumentException("servers are numbered 1 to " + SIZE + ", not " + i);
        }
        return i - 1;
    }

    /** Sends {@code SIG<name>} to one process by its PID, and waits until it is stopped or running again. */
    static void signal(long pid, String name) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + name, String.valueOf(pid)).redirectErrorStream(true).start();
        String out = new String(kill.getInputStream().readAllBytes());
        if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
            throw new IllegalStateException("kill -" + name + " " + pid + " failed: " + out);
        }
        // The signal is delivered asynchronously: wait until /proc shows its effect (state T is stopped).
        boolean stopping = name.equals("STOP");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline) {
            String state = processState(pid);
            if (state.isEmpty() || state.equals("T") == stopping) {
                return;
            }
            Thread.sleep(10);
        }
        throw new IllegalStateException("process " + pid + " did not take SIG" + name);
    }

    /** The state letter of {@code /proc/<pid>/stat}; empty when the process is gone. */
    private static String processState(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            // The command name, in parentheses, may itself hold spaces: the state follows its closing parenthesis.
            return stat.substring(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
        } catch (IOException gone) {
            return "";
        }
    }

    private void stopAll() {
        for (Process p : processes) {
            if (p != null && p.isAlive()) {
                p.destroyForcibly(); // SIGKILL to this PID: a SIGSTOPped server would not act on SIGTERM
            }
        }
        try {
            for (Process p : processes) {
                if (p != null) {
                    p.waitFor(5, TimeUnit.SECONDS);
                }
            }
            NatsServer.deleteTree(dir);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        stopAll();
        try {
            Runtime.getRuntime().removeShutdownHook(onExit);
        } catch (IllegalStateException shuttingDown) {
            // the hook runs anyway, and stopAll() is harmless twice
        }
    }
}
