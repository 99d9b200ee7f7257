package io.stratus.store;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.sun.security.auth.module.UnixSystem;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The PostgreSQL server the tests of the PostgreSQL store run on: Debian's PostgreSQL (15 or later), started by the
 * first test that needs it on a temporary directory and a free port, listening on 127.0.0.1 only, tuned for speed over
 * durability (nothing it holds outlives the JVM), and stopped when the JVM ends. Each caller gets a fresh empty
 * database ({@link #createDatabase}). {@code STRATUS_TEST_PG_URL} ({@code postgresql://user:password@host:port/db})
 * names an existing server to use instead: databases are created there and dropped when the JVM ends.
 */
public final class PostgresServer {
    private static final String EXTERNAL_URL = "STRATUS_TEST_PG_URL";
    /** The superuser initdb creates; the server trusts local connections, so it needs no password. */
    private static final String USER = "stratus";
    /** PostgreSQL refuses to run as root: a root JVM runs the server as this account, which Debian's package creates. */
    private static final String SYSTEM_ACCOUNT = "postgres";
    private static final int START_ATTEMPTS = 5;
    /** "duplicate_database": a name taken on an external server, by an earlier run or another JVM. */
    private static final String DUPLICATE_DATABASE = "42P04";

    private static PostgresServer running;

    /** {@code postgresql://user@host:port/postgres}: where databases are created. */
    private final String adminUrl;
    private final List<String> created = new ArrayList<>();
    private int next = 1;
    /** How to stop and start it again: null for an external server, which is never stopped. */
    private final Control control;

    /** The programs, account and directories of a server this JVM started, and its port. */
    private record Control(Path bin, String account, Path dir, int port) {}

    private PostgresServer(String adminUrl) {
        this(adminUrl, null);
    }

    private PostgresServer(String adminUrl, Control control) {
        this.adminUrl = adminUrl;
        this.control = control;
    }

    /**
     * A server of the caller's own, beside the shared one, for tests that stop and start it ({@link #stopNow},
     * {@link #startAgain}): with PostgreSQL's default durability (fsync, synchronous commit), so that what it committed
     * survives an immediate stop; stopped when the JVM ends like the shared one.
     */
    public static PostgresServer startOwn() {
        return start(true, List.of());
    }

    /**
     * {@link #startOwn()} with more lines of {@code postgresql.conf}, which win over the harness's own: the benchmark
     * loads pg_stat_statements and runs on PostgreSQL's default memory settings.
     */
    public static PostgresServer startOwn(List<String> settings) {
        return start(true, settings);
    }

    /** The postmaster's process id, from {@code postmaster.pid}: the server's own CPU time is measured by it. */
    public long pid() {
        Path file = requireControl().dir().resolve("data/postmaster.pid");
        try (Stream<String> lines = Files.lines(file)) {
            return Long.parseLong(lines.findFirst().orElseThrow().strip());
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /** Stops the server at once, as a crash or a power cut would ({@code pg_ctl stop -m immediate}). */
    public void stopNow() {
        Control c = requireControl();
        try {
            run(c.account(), c.dir(), c.dir().resolve("pg_ctl.log"), c.bin().resolve("pg_ctl").toString(), "-D",
                    c.dir().resolve("data").toString(), "-m", "immediate", "-w", "stop");
        } catch (IOException e) {
            throw new IllegalStateException("cannot stop the test PostgreSQL server: " + e.getMessage(), e);
        }
    }

    /** Starts a server stopped by {@link #stopNow} again, on the same port, recovering from its WAL. */
    public void startAgain() {
        Control c = requireControl();
        try {
            run(c.account(), c.dir(), c.dir().resolve("pg_ctl.log"), c.bin().resolve("pg_ctl").toString(), "-D",
                    c.dir().resolve("data").toString(), "-l", c.dir().resolve("server.log").toString(), "-o", "-p " + c.port(),
                    "-w", "-t", "60", "start");
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the test PostgreSQL server again: " + e.getMessage(), e);
        }
    }

    private Control requireControl() {
        if (control == null) {
            throw new IllegalStateException("an external server (" + EXTERNAL_URL + ") is never stopped by the tests");
        }
        return control;
    }

    /** The server of this JVM, started at the first call. */
    public static synchronized PostgresServer get() {
        if (running == null) {
            String url = System.getenv(EXTERNAL_URL);
            if (url == null || url.isBlank()) {
                running = start(false, List.of());
            } else {
                // Someone else's server keeps running: leave it as it was found.
                running = new PostgresServer(url.strip());
                Runtime.getRuntime().addShutdownHook(new Thread(running::dropCreated, "postgres-test-databases"));
            }
        }
        return running;
    }

    /** A new empty database ({@code CREATE DATABASE stratus_<n>}), as the {@code postgresql://} URL a server is given. */
    public synchronized String createDatabase() {
        while (true) {
            String name = "stratus_" + next++;
            try {
                execute("CREATE DATABASE " + name);
                created.add(name);
                return urlOf(name);
            } catch (SQLException e) {
                if (!DUPLICATE_DATABASE.equals(e.getSQLState())) {
                    throw new IllegalStateException("cannot create a test database on " + printable() + ": " + e.getMessage(), e);
                }
            }
        }
    }

    /** Drops a database made by {@link #createDatabase}, closing whatever connections to it are left. */
    public synchronized void dropDatabase(String url) {
        String name = URI.create(url).getPath().substring(1);
        try {
            execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
            created.remove(name);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot drop the test database " + name + ": " + e.getMessage(), e);
        }
    }

    private void execute(String sql) throws SQLException {
        PostgresTarget admin = PostgresTarget.parse(adminUrl, null);
        try (Connection c = DriverManager.getConnection(admin.jdbcUrl(), admin.user(), admin.password());
             Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    /** The {@code postgresql://} URL of a database on this server. */
    public String urlOf(String database) {
        try {
            URI admin = new URI(adminUrl);
            return admin.getScheme() + "://" + admin.getRawAuthority() + "/" + database
                    + (admin.getRawQuery() == null ? "" : "?" + admin.getRawQuery());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(EXTERNAL_URL + " is not a postgresql:// URL: " + e.getReason());
        }
    }

    private String printable() {
        return PostgresTarget.parse(adminUrl, null).printable();
    }

    private synchronized void dropCreated() {
        for (String name : List.copyOf(created)) {
            try {
                execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
            } catch (SQLException e) {
                System.err.println("cannot drop the test database " + name + ": " + e.getMessage());
            }
        }
    }

    // ---- The server of this JVM ---------------------------------------------------------------------------------------

    private static PostgresServer start(boolean durable, List<String> settings) {
        Path bin = binaries();
        String account = new UnixSystem().getUid() == 0 ? SYSTEM_ACCOUNT : null;
        try {
            Path dir = Files.createTempDirectory("stratus-pg");
            Reaper.watch(dir);
            if (account != null) {
                Files.setOwner(dir, owner(dir, account));
            }
            Path data = dir.resolve("data");
            run(account, dir, dir.resolve("initdb.log"), bin.resolve("initdb").toString(), "-D", data.toString(), "-U", USER,
                    "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync");
            Files.writeString(data.resolve("postgresql.conf"), String.join("\n", "",
                    "listen_addresses = '127.0.0.1'",
                    "unix_socket_directories = ''",
                    "max_connections = 200",
                    "shared_buffers = 64MB",
                    "max_wal_size = 256MB",
                    ""), UTF_8, StandardOpenOption.APPEND);
            if (!durable) {
                // A throwaway server: nothing survives the JVM, so nothing needs to survive a crash either.
                Files.writeString(data.resolve("postgresql.conf"), String.join("\n", "fsync = off", "synchronous_commit = off",
                        "full_page_writes = off", ""), UTF_8, StandardOpenOption.APPEND);
            }
            if (!settings.isEmpty()) {
                Files.writeString(data.resolve("postgresql.conf"), String.join("\n", settings) + "\n", UTF_8, StandardOpenOption.APPEND);
            }
            Path log = dir.resolve("server.log");
            for (int attempt = 1; ; attempt++) {
                int port = freePort();
                try {
                    run(account, dir, dir.resolve("pg_ctl.log"), bin.resolve("pg_ctl").toString(), "-D", data.toString(),
                            "-l", log.toString(), "-o", "-p " + port, "-w", "-t", "60", "start");
                    return new PostgresServer("postgresql://" + USER + "@127.0.0.1:" + port + "/postgres",
                            new Control(bin, account, dir, port));
                } catch (IllegalStateException e) {
                    // Another process may have taken the port between its choice and the server's bind: try another.
                    if (attempt == START_ATTEMPTS || !Files.readString(log).contains("could not bind")) {
                        throw new IllegalStateException(e.getMessage() + "\nserver log " + log + ":\n" + Files.readString(log), e);
                    }
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the test PostgreSQL server: " + e.getMessage(), e);
        }
    }

    /**
     * The server's programs: the newest {@code /usr/lib/postgresql/<version>/bin} (Debian's layout), else
     * {@code pg_config --bindir}.
     */
    private static Path binaries() {
        List<Path> candidates = new ArrayList<>();
        Path debian = Path.of("/usr/lib/postgresql");
        if (Files.isDirectory(debian)) {
            try (Stream<Path> versions = Files.list(debian)) {
                versions.filter(v -> v.getFileName().toString().matches("\\d+(\\.\\d+)?"))
                        .sorted(Comparator.comparingDouble((Path v) -> Double.parseDouble(v.getFileName().toString()))
                                .reversed())
                        .forEach(v -> candidates.add(v.resolve("bin")));
            } catch (IOException e) {
                throw new IllegalStateException("cannot list " + debian + ": " + e.getMessage(), e);
            }
        }
        String configured = pgConfigBindir();
        if (configured != null) {
            candidates.add(Path.of(configured));
        }
        return candidates.stream()
                .filter(b -> Files.isExecutable(b.resolve("initdb")) && Files.isExecutable(b.resolve("pg_ctl")))
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("The PostgreSQL tests need PostgreSQL's server programs (initdb, "
                        + "pg_ctl), found neither in /usr/lib/postgresql/*/bin nor in `pg_config --bindir`: install the "
                        + "postgresql package (apt-get install postgresql; .ci/run does), or set " + EXTERNAL_URL
                        + " to a server to use."));
    }

    private static String pgConfigBindir() {
        try {
            Process p = new ProcessBuilder("pg_config", "--bindir").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), UTF_8).strip();
            return p.waitFor() == 0 && !out.isEmpty() ? out : null;
        } catch (IOException e) {
            return null; // no pg_config
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    private static UserPrincipal owner(Path dir, String account) throws IOException {
        try {
            return dir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(account);
        } catch (UserPrincipalNotFoundException e) {
            throw new IllegalStateException("PostgreSQL refuses to run as root, and there is no '" + account + "' account to run "
                    + "it as: install the postgresql package (apt-get install postgresql; .ci/run does), which creates it.");
        }
    }

    /** Runs one of the server's programs, as {@code account} when given, to its end; its output goes to {@code log}. */
    private static void run(String account, Path dir, Path log, String... command) throws IOException {
        List<String> line = new ArrayList<>();
        if (account != null) {
            line.addAll(List.of("runuser", "-u", account, "--"));
        }
        line.addAll(List.of(command));
        // In the server's directory: the account may not be allowed into the JVM's working directory.
        Process p = new ProcessBuilder(line).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        try {
            if (!p.waitFor(90, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(String.join(" ", line) + " did not finish in 90 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + command[0], e);
        }
        if (p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", line) + " failed (exit " + p.exitValue() + "):\n" + Files.readString(log));
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /**
     * Stops the server and removes its directory once the JVM is gone, however it goes: a shell child of the JVM waits
     * for the end of its standard input, which the JVM's shutdown hook closes, and which the kernel closes when the JVM
     * is killed. It then stops the server by the PID in {@code postmaster.pid} (an immediate shutdown: the data is thrown
     * away) and waits for it to exit. It ignores the signals that a Ctrl-C or a hang-up send to the whole process group,
     * so that it outlives the JVM to do its work; the server itself runs in a session of its own ({@code pg_ctl}).
     */
    private static final class Reaper {
        private static final String SCRIPT = String.join("\n",
                "trap '' INT TERM HUP",
                "read -r _",
                "pid=$(head -n 1 \"$1/data/postmaster.pid\" 2>/dev/null) && kill -QUIT \"$pid\" 2>/dev/null",
                "while [ -n \"$pid\" ] && kill -0 \"$pid\" 2>/dev/null; do sleep 0.1; done",
                "rm -rf \"$1\"");

        static void watch(Path dir) throws IOException {
            // Nothing of it on the JVM's own output, which surefire reads as its channel to the forked JVM.
            Process reaper = new ProcessBuilder("sh", "-c", SCRIPT, "postgres-reaper", dir.toString())
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    reaper.getOutputStream().close();
                    reaper.waitFor(30, TimeUnit.SECONDS);
                } catch (IOException e) {
                    // the reaper is gone already; nothing else can stop the server now
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "postgres-test-server-stop"));
        }
    }
}
