package io.stratus.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A broker under test, started as a child process on free ports of 127.0.0.1, with its log in its own directory. */
final class ServerProcess implements AutoCloseable {
    private static final Pattern READY = Pattern.compile("Stratus ready: mqtt=(\\d+) http=(\\d+) \\((\\d+) ms");
    static final String ADMIN_PASSWORD = "bench-admin-password";
    /** USER_HZ: 100 on every Linux this runs on. */
    private static final long CLOCK_TICKS = 100;

    final String name;
    final Process process;
    final int mqttPort;
    /** MQTT over TLS, or -1 when the server was started without TLS. */
    final int tlsPort;
    final int httpPort;
    final Path dir;
    /** From starting the process to accepting connections (Stratus: its ready line). */
    final double startupMillis;
    /** Stratus's own count in its ready line (after the JVM started); -1 for others. */
    final long reportedReadyMillis;

    private ServerProcess(String name, Process process, int mqttPort, int tlsPort, int httpPort, Path dir, double startupMillis,
                          long reportedReadyMillis) {
        this.name = name;
        this.process = process;
        this.mqttPort = mqttPort;
        this.tlsPort = tlsPort;
        this.httpPort = httpPort;
        this.dir = dir;
        this.startupMillis = startupMillis;
        this.reportedReadyMillis = reportedReadyMillis;
    }

    /**
     * {@code java [jvmOptions] -jar jar --bind 127.0.0.1 ...} on free ports with a fresh data directory, on the
     * PostgreSQL database {@code storeUrl} names ({@code --store}) or, when it is empty, the embedded SQLite file.
     */
    static ServerProcess stratus(Path jar, List<String> jvmOptions, Path dir, boolean anonymous, String storeUrl) {
        return stratus(jar, jvmOptions, dir, anonymous, storeUrl, null);
    }

    /** As above, with an MQTT TLS port too ({@code mqtt.tls-port}, {@code tls.cert}, {@code tls.key}) when {@code tls} is not null. */
    static ServerProcess stratus(Path jar, List<String> jvmOptions, Path dir, boolean anonymous, String storeUrl, BenchTls tls) {
        int mqtt = freePort();
        int http = freePort();
        int tlsPort = tls == null ? -1 : freePort();
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-jar", jar.toString(), "--bind", "127.0.0.1", "--mqtt-port", String.valueOf(mqtt),
                "--http-port", String.valueOf(http), "--data-dir", dir.resolve("data").toString(),
                "--admin-password", ADMIN_PASSWORD));
        if (anonymous) {
            cmd.add("--allow-anonymous");
        }
        if (!storeUrl.isEmpty()) {
            cmd.addAll(List.of("--store", storeUrl));
        }
        if (tls != null) {
            cmd.addAll(List.of("--config", write(dir.resolve("stratus.properties"), String.join("\n",
                    "mqtt.tls-port=" + tlsPort,
                    "tls.cert=" + tls.cert().toAbsolutePath(),
                    "tls.key=" + tls.key().toAbsolutePath(),
                    "")).toString()));
        }
        Path log = dir.resolve("stratus.log");
        long t0 = System.nanoTime();
        Process process = start(cmd, dir, log);
        long deadline = t0 + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            Matcher m = READY.matcher(read(log));
            if (m.find()) {
                double startup = (System.nanoTime() - t0) / 1e6;
                return new ServerProcess("stratus", process, mqtt, tlsPort, http, dir, startup, Long.parseLong(m.group(3)));
            }
            if (!process.isAlive()) {
                break;
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
        }
        process.destroyForcibly();
        throw new IllegalStateException("Stratus did not get ready; its log " + log + ":\n" + read(log));
    }

    /**
     * Debian's mosquitto with a generated configuration: a listener on 127.0.0.1, anonymous access, no
     * persistence, TCP_NODELAY (without it deliveries stall for 40 ms), no connection limit.
     */
    static ServerProcess mosquitto(Path binary, Path dir) {
        return mosquitto(binary, dir, null);
    }

    /** As above, with a second listener for MQTT over TLS with {@code tls}'s certificate when it is not null. */
    static ServerProcess mosquitto(Path binary, Path dir, BenchTls tls) {
        int port = freePort();
        int tlsPort = tls == null ? -1 : freePort();
        Path conf = dir.resolve("mosquitto.conf");
        // Started as root, mosquitto reads its certificate after changing to the user "mosquitto", who cannot read
        // the benchmark's private key: it stays the user who started it.
        String tlsListener = tls == null ? "" : String.join("\n",
                "user " + System.getProperty("user.name"),
                "listener " + tlsPort + " 127.0.0.1",
                "certfile " + tls.cert().toAbsolutePath(),
                "keyfile " + tls.key().toAbsolutePath(),
                "");
        String config = String.join("\n",
                "listener " + port + " 127.0.0.1",
                "allow_anonymous true",
                "persistence false",
                "set_tcp_nodelay true",
                "max_connections -1",
                "log_dest stdout",
                "log_type error",
                "log_type warning",
                tlsListener);
        write(conf, config);
        Path log = dir.resolve("mosquitto.log");
        long t0 = System.nanoTime();
        Process process = start(List.of(binary.toString(), "-c", conf.toString()), dir, log);
        long deadline = t0 + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline && process.isAlive()) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
                return new ServerProcess("mosquitto", process, port, tlsPort, -1, dir, (System.nanoTime() - t0) / 1e6, -1);
            } catch (IOException notYet) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
            }
        }
        process.destroyForcibly();
        throw new IllegalStateException("mosquitto did not start; its log " + log + ":\n" + read(log));
    }

    InetSocketAddress mqttAddress() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), mqttPort);
    }

    InetSocketAddress tlsAddress() {
        if (tlsPort < 0) {
            throw new IllegalStateException(name + " was started without TLS");
        }
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), tlsPort);
    }

    long pid() {
        return process.pid();
    }

    /** Resident memory (VmRSS) in KiB, from /proc. */
    long rssKb() {
        return rssKb(process.pid());
    }

    static long rssKb(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new IllegalStateException("no VmRSS for pid " + pid);
    }

    /** CPU time (user + system) the process has used, in nanoseconds, from /proc (10 ms resolution). */
    static long cpuNanos(long pid) {
        String[] f = stat(Path.of("/proc/" + pid + "/stat"));
        // after the command: state is field 3 of proc(5), so utime (14) and stime (15) are at 11 and 12
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * (1_000_000_000L / CLOCK_TICKS);
    }

    /**
     * CPU time the process's JIT compiler threads have used ("C1 CompilerThre", "C2 CompilerThre"), in nanoseconds;
     * 0 for a process without them (Mosquitto).
     */
    static long compilerCpuNanos(long pid) {
        long ticks = 0;
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/" + pid + "/task"))) {
            for (Path task : tasks) {
                try {
                    if (Files.readString(task.resolve("comm")).contains("CompilerThre")) {
                        String[] f = stat(task.resolve("stat"));
                        ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]);
                    }
                } catch (UncheckedIOException | NoSuchFileException gone) {
                    // a thread that ended while the directory was read
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return ticks * (1_000_000_000L / CLOCK_TICKS);
    }

    /** CPU time of the children the process has waited for (cutime + cstime), in nanoseconds. */
    static long exitedChildrenCpuNanos(long pid) {
        String[] f = stat(Path.of("/proc/" + pid + "/stat"));
        return (Long.parseLong(f[13]) + Long.parseLong(f[14])) * (1_000_000_000L / CLOCK_TICKS);
    }

    /** The fields of a process's or a thread's /proc stat file after the command name, from state (field 3 of proc(5)) on. */
    private static String[] stat(Path file) {
        try {
            String stat = Files.readString(file);
            return stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    String log() {
        return read(dir.resolve(name + ".log"));
    }

    /** SIGTERM, then SIGKILL after 15 s. */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(15, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }

    /** Starts {@code cmd} in {@code dir} (created if needed) with its output and errors in {@code log}. */
    static Process start(List<String> cmd, Path dir, Path log) {
        try {
            Files.createDirectories(dir);
            return new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(log.toFile()).start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + cmd.get(0), e);
        }
    }

    /** Writes {@code text} to {@code file}, creating its directory. */
    private static Path write(Path file, String text) {
        try {
            Files.createDirectories(file.getParent());
            return Files.writeString(file, text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (IOException e) {
            return "";
        }
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
