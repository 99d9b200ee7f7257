package io.stratus.bench;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The migrate figure: an embedded store filled with N points, then {@code java -jar stratus.jar migrate --from <data
 * dir> --to <url>} into a fresh PostgreSQL database, timed by the command's own last line.
 */
final class MigrateTiming {
    /** The last line {@code migrate} prints. */
    private static final Pattern DONE = Pattern.compile("migrated (\\d+) rows in ([\\d.]+) s, (\\d+) rows/s");
    private static final int DEVICES = 8;
    private static final int BATCH = 10_000;

    /** One migration: points in the store, rows copied (every table), the command's own seconds, and points per second. */
    record Outcome(long points, long rows, double seconds, double pointsPerSecond) {}

    private MigrateTiming() {
    }

    /** Whether the jar has the {@code migrate} subcommand ({@code migrate --help} succeeds). */
    static boolean available(Path jar, Path dir) {
        Path log = dir.resolve("migrate-help.log");
        Process p = ServerProcess.start(List.of(java(), "-jar", jar.toString(), "migrate", "--help"), dir, log);
        try {
            return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0 && ServerProcess.read(log).contains("--from");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * Makes an embedded store of {@code points} points in {@code dir/data}: Stratus creates the schema, a product, 8
     * devices and their 4 streams each (one point per stream through the HTTP API), then stops; the rest of the points
     * are written into the SQLite file directly, one a second per stream, in the table's key order (seconds, where
     * the API would take minutes for 10 million). Returns the points in the file.
     */
    static long fill(Path jar, List<String> jvmOptions, Path dir, long points) {
        long end = System.currentTimeMillis() - 60_000;
        List<Long> devices = new ArrayList<>();
        try (ServerProcess s = ServerProcess.stratus(jar, jvmOptions, dir, false, "")) {
            StratusHttp http = new StratusHttp(s.httpPort);
            StratusHttp.Product product = http.createProduct(ServerProcess.ADMIN_PASSWORD, "migrate-" + System.nanoTime());
            String body = Arrays.stream(DpLoad.STREAMS).map(stream -> "{\"id\":\"" + stream + "\",\"datapoints\":[{\"value\":1}]}")
                    .collect(Collectors.joining(",", "{\"datastreams\":[", "]}"));
            for (int i = 0; i < DEVICES; i++) {
                String id = http.createDevice(product, "migrate-" + i, "SN-MIGRATE-" + i);
                http.upload(product, id, body);
                devices.add(Long.parseLong(id));
            }
        }
        int series = DEVICES * DpLoad.STREAMS.length;
        long rest = Math.max(0, points - series);
        String url = "jdbc:sqlite:" + dir.resolve("data/stratus.db").toAbsolutePath();
        try (Connection c = DriverManager.getConnection(url)) {
            try (Statement st = c.createStatement()) {
                st.execute("PRAGMA synchronous=OFF"); // a fixture: it need not survive a crash
            }
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO datapoint (device_id, stream, ts, value) VALUES (?,?,?,?)")) {
                int pending = 0;
                for (int s = 0; s < series; s++) {
                    long count = rest / series + (s < rest % series ? 1 : 0);
                    for (long k = 0; k < count; k++) {
                        ps.setLong(1, devices.get(s / DpLoad.STREAMS.length));
                        ps.setString(2, DpLoad.STREAMS[s % DpLoad.STREAMS.length]);
                        ps.setLong(3, end - (count - k) * 1000);
                        ps.setString(4, String.valueOf(20 + k % 150 / 10.0));
                        ps.addBatch();
                        if (++pending == BATCH) {
                            ps.executeBatch();
                            pending = 0;
                        }
                    }
                }
                ps.executeBatch();
            }
            c.commit();
            return count(c);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot fill " + url + ": " + e.getMessage(), e);
        }
    }

    /** Runs {@code migrate} from {@code dataDir} into the (empty) database {@code url}; checks the points arrived. */
    static Outcome migrate(Path jar, Path dataDir, Path dir, String url, long points) {
        Path log = dir.resolve("migrate.log");
        Process p = ServerProcess.start(List.of(java(), "-jar", jar.toString(), "migrate", "--from", dataDir.toString(), "--to", url),
                dir, log);
        try {
            if (!p.waitFor(60, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IllegalStateException("migrate did not finish in 60 minutes; its log " + log);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new IllegalStateException(e);
        }
        String out = ServerProcess.read(log);
        Matcher m = DONE.matcher(out);
        if (p.exitValue() != 0 || !m.find()) {
            throw new IllegalStateException("migrate failed (exit " + p.exitValue() + "):\n" + out);
        }
        try (Connection c = PostgresUnderTest.connect(url)) {
            long copied = count(c);
            if (copied != points) {
                throw new IllegalStateException("migrate copied " + copied + " of " + points + " points");
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot count the migrated points: " + e.getMessage(), e);
        }
        double seconds = Double.parseDouble(m.group(2));
        return new Outcome(points, Long.parseLong(m.group(1)), seconds, points / seconds);
    }

    private static long count(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM datapoint")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static String java() {
        return ProcessHandle.current().info().command().orElse("java");
    }
}
