package io.stratus.it;

import io.stratus.cluster.NatsServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The faults of part 5 of {@link ClusterBench} (QoS 1 to a persistent subscriber), each at a point of the publisher's
 * progress, and the two that are not node kills: a nats-server SIGKILLed and started again on the same port and store
 * ({@link Nats}), and a PostgreSQL restart ({@link #restartPostgres}). Both act on the process the harness started,
 * found by its PID: its command line and working directory in {@code /proc} say how to start it again.
 */
final class FaultSchedule {
    enum Kind { KILL, NATS, POSTGRES }

    /**
     * One fault at {@code at}, a fraction of the messages published. A kill names whose node dies ("subscriber",
     * "publisher" or "neither") and whether it stays down past the lease, so that the survivors adopt it.
     */
    record Fault(Kind kind, String whose, boolean pastLease, double at) {}

    /** How long the nats-server stays down in a NATS cut. */
    static final int NATS_DOWN_SECONDS = 5;
    /** Seconds of messages before the first fault of the full schedule. */
    private static final int LEAD_IN = 10;

    final List<Fault> faults;
    /** Seconds of publishing the schedule is made for; 0 when it is spread over any number of messages. */
    final int seconds;

    private FaultSchedule(List<Fault> faults, int seconds) {
        this.faults = List.copyOf(faults);
        this.seconds = seconds;
    }

    /** The default: {@code kills} SIGKILLs at evenly spaced points, whose and how long after a cycle of five. */
    static FaultSchedule kills(int kills) {
        String[] whose = {"subscriber", "publisher", "subscriber", "neither", "publisher"};
        boolean[] pastLease = {false, true, true, false, false};
        List<Fault> out = new ArrayList<>();
        for (int k = 0; k < kills; k++) {
            out.add(new Fault(Kind.KILL, whose[k % whose.length], pastLease[k % pastLease.length], (k + 0.5) / kills));
        }
        return new FaultSchedule(out, 0);
    }

    /**
     * The full schedule: 20 SIGKILLs, whose node cycling subscriber, publisher, neither and every second one
     * down past the lease (so every pairing of the two comes 3 or 4 times), with a nats-server cut after the 10th and
     * a PostgreSQL restart after the 11th. Each fault has a slot of the publisher's time: 15 s for a kill restarted at
     * once, lease + 20 s for one kept down past the lease (13 s down with the default lease, about 4 s to start, then
     * settling), 25 s for the NATS cut, 20 s for the PostgreSQL restart; 10 s of messages before the first.
     */
    static FaultSchedule full(int lease) {
        String[] whose = {"subscriber", "publisher", "neither"};
        List<Fault> out = new ArrayList<>();
        List<Integer> starts = new ArrayList<>();
        int t = LEAD_IN;
        for (int k = 0; k < 20; k++) {
            boolean past = k % 2 == 1;
            out.add(new Fault(Kind.KILL, whose[k % 3], past, 0));
            starts.add(t);
            t += past ? lease + 20 : 15;
            if (k == 9) {
                out.add(new Fault(Kind.NATS, "", false, 0));
                starts.add(t);
                t += NATS_DOWN_SECONDS + 20;
            } else if (k == 10) {
                out.add(new Fault(Kind.POSTGRES, "", false, 0));
                starts.add(t);
                t += 20;
            }
        }
        int total = t;
        for (int i = 0; i < out.size(); i++) {
            Fault f = out.get(i);
            out.set(i, new Fault(f.kind(), f.whose(), f.pastLease(), starts.get(i) / (double) total));
        }
        return new FaultSchedule(out, total);
    }

    long kills() {
        return faults.stream().filter(f -> f.kind() == Kind.KILL).count();
    }

    /** "4 SIGKILLs and restarts", or with the other faults named too. */
    String describe() {
        String kills = kills() + " SIGKILLs and restarts";
        boolean nats = faults.stream().anyMatch(f -> f.kind() == Kind.NATS);
        boolean pg = faults.stream().anyMatch(f -> f.kind() == Kind.POSTGRES);
        if (!nats && !pg) {
            return kills;
        }
        return kills + (nats ? ", a nats-server SIGKILL and restart" : "") + (pg ? ", a PostgreSQL restart" : "");
    }

    // ---- PostgreSQL ---------------------------------------------------------------------------------------------------

    /**
     * {@code pg_ctl restart -m fast} on the data directory of the postmaster {@code pid} (its working directory), with
     * the {@code pg_ctl} beside its binary, as the data directory's owner (PostgreSQL refuses root), and the server's
     * output to {@code server.log} beside the data directory (where {@code PostgresServer} puts it). pg_ctl takes the
     * port and the other options from {@code postmaster.opts}. Returns once the new server accepts connections.
     */
    static void restartPostgres(long pid) throws IOException, InterruptedException {
        Path data = Files.readSymbolicLink(Path.of("/proc/" + pid + "/cwd"));
        Path pgCtl = Files.readSymbolicLink(Path.of("/proc/" + pid + "/exe")).resolveSibling("pg_ctl");
        Path dir = data.getParent();
        List<String> cmd = new ArrayList<>();
        String owner = Files.getOwner(data).getName();
        if (!owner.equals(System.getProperty("user.name"))) {
            cmd.addAll(List.of("runuser", "-u", owner, "--"));
        }
        cmd.addAll(List.of(pgCtl.toString(), "-D", data.toString(), "-l", dir.resolve("server.log").toString(), "-m", "fast",
                "-w", "-t", "60", "restart"));
        Path log = dir.resolve("pg_ctl-restart.log");
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        if (!p.waitFor(90, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException(String.join(" ", cmd) + " did not finish in 90 s");
        }
        if (p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed (exit " + p.exitValue() + "): " + Files.readString(log));
        }
    }

    // ---- NATS ---------------------------------------------------------------------------------------------------------

    /**
     * The nats-server started by {@link NatsServer}, SIGKILLed by its PID and started again with the same command line
     * (same port, same JetStream store directory), its output appended to the same log. A server started here is
     * stopped by {@link #close}, which must run before {@link NatsServer#close} removes its directory.
     */
    static final class Nats implements AutoCloseable {
        private final List<String> command;
        private final int port;
        private final Path log;
        private long pid;
        private Process restarted;
        private final Thread onExit = new Thread(this::stop, "nats-server-restarted-stop");

        Nats(long pid) throws IOException {
            this.pid = pid;
            byte[] raw = Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline"));
            this.command = Arrays.asList(new String(raw, StandardCharsets.UTF_8).split("\0"));
            this.port = Integer.parseInt(command.get(command.indexOf("-p") + 1));
            this.log = Path.of(command.get(command.indexOf("-sd") + 1)).resolveSibling("nats-server.log");
            Runtime.getRuntime().addShutdownHook(onExit);
        }

        long pid() {
            return pid;
        }

        int port() {
            return port;
        }

        /** SIGKILL; returns once it has exited. */
        void kill() throws InterruptedException {
            ProcessHandle handle = ProcessHandle.of(pid).orElse(null);
            if (handle == null) {
                return;
            }
            handle.destroyForcibly();
            try {
                handle.onExit().get(10, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                throw new IllegalStateException("nats-server " + pid + " did not exit after SIGKILL");
            }
        }

        /** Starts it again as it was started; returns once it accepts connections (within 20 s). */
        void start() throws IOException, InterruptedException {
            restarted = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            pid = restarted.pid();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!NatsServer.listening(port)) {
                if (!restarted.isAlive() || System.nanoTime() > deadline) {
                    throw new IllegalStateException("nats-server did not start again on port " + port + "; see " + log);
                }
                Thread.sleep(20);
            }
        }

        private void stop() {
            if (restarted == null) {
                return;
            }
            NatsServer.terminate(restarted);
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
}
