package io.stratus.store;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.util.Collection;
import java.util.List;
import java.util.function.BiConsumer;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

/**
 * Many rows into one table in one go, a row with the key of a stored one replacing it ({@link Dialect#replace}).
 * SQLite gets its {@code INSERT OR REPLACE} as a JDBC batch. PostgreSQL gets {@code COPY}, which stores a row in
 * about half the time of a multi-row {@code INSERT ... ON CONFLICT} here (docs/postgresql.md), but cannot replace:
 * when a row's key is taken the COPY fails with a unique violation, is rolled back to a savepoint, and the rows go
 * again as the upsert. Keys are new nearly always (history points), so the fallback is the rare case.
 *
 * <p>The rows of one call must have distinct keys: PostgreSQL's upsert refuses to touch a row twice.
 */
public final class BulkReplace {
    /** The values of one row, in column order (keys first), as the caller adds them. */
    public interface Row {
        Row add(long value);

        Row add(String value);
    }

    private static final String UNIQUE_VIOLATION = "23505";

    private final Dialect dialect;
    private final String replace;
    private final String copy;
    private final int columnCount;

    public BulkReplace(Dialect dialect, String table, List<String> keys, List<String> columns) {
        this.dialect = dialect;
        this.replace = dialect.replace(table, keys, columns);
        this.columnCount = keys.size() + columns.size();
        this.copy = "COPY " + table + " (" + String.join(", ", keys) + ", " + String.join(", ", columns) + ") FROM STDIN";
    }

    /** Writes one row per item, its values added by {@code row}, inside the batch's transaction. */
    public <T> void write(BatchWriter.Batch batch, Collection<T> items, BiConsumer<T, Row> row) throws SQLException {
        if (items.isEmpty()) {
            return;
        }
        if (dialect == Dialect.POSTGRESQL && copied(batch.connection(), items, row)) {
            return;
        }
        PreparedStatement ps = batch.statement(replace);
        StatementRow bound = new StatementRow(ps);
        for (T item : items) {
            bound.next = 1;
            row.accept(item, bound);
            ps.addBatch();
        }
        ps.executeBatch();
    }

    /** COPY under a savepoint: true when it stored every row, false when a key was taken (and nothing was stored). */
    private <T> boolean copied(Connection c, Collection<T> items, BiConsumer<T, Row> row) throws SQLException {
        byte[] data = copyText(columnCount, items, row).getBytes(StandardCharsets.UTF_8);
        Savepoint before = c.setSavepoint();
        try {
            CopyIn in = c.unwrap(PGConnection.class).getCopyAPI().copyIn(copy);
            try {
                in.writeToCopy(data, 0, data.length);
                in.endCopy();
            } finally {
                if (in.isActive()) {
                    in.cancelCopy();
                }
            }
            return true;
        } catch (SQLException e) {
            if (!UNIQUE_VIOLATION.equals(e.getSQLState())) {
                throw e;
            }
            c.rollback(before);
            return false;
        }
    }

    /** Binds values to a prepared statement's parameters, left to right. */
    private static final class StatementRow implements Row {
        private final PreparedStatement ps;
        int next;

        StatementRow(PreparedStatement ps) {
            this.ps = ps;
        }

        @Override
        public Row add(long value) {
            try {
                ps.setLong(next++, value);
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
            return this;
        }

        @Override
        public Row add(String value) {
            try {
                ps.setString(next++, value);
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
            return this;
        }
    }

    /** Rows in COPY's text format: tab between columns, newline after a row, backslash escapes. */
    private static final class CopyRow implements Row {
        final StringBuilder out;
        private final int columns;
        private int added;

        CopyRow(int columns, int rows) {
            this.columns = columns;
            this.out = new StringBuilder(rows * 48);
        }

        @Override
        public Row add(long value) {
            separate();
            out.append(value);
            return this;
        }

        @Override
        public Row add(String value) {
            separate();
            for (int i = 0; i < value.length(); i++) {
                char ch = value.charAt(i);
                switch (ch) {
                    case '\\' -> out.append("\\\\");
                    case '\t' -> out.append("\\t");
                    case '\n' -> out.append("\\n");
                    case '\r' -> out.append("\\r");
                    default -> out.append(ch);
                }
            }
            return this;
        }

        private void separate() {
            if (added++ > 0) {
                out.append('\t');
            }
        }

        void end() {
            if (added != columns) {
                throw new IllegalArgumentException("a row of " + added + " values for " + columns + " columns");
            }
            out.append('\n');
            added = 0;
        }
    }

    /** The COPY text of rows. */
    static <T> String copyText(int columns, Collection<T> items, BiConsumer<T, Row> row) {
        CopyRow text = new CopyRow(columns, items.size());
        for (T item : items) {
            row.accept(item, text);
            text.end();
        }
        return text.out.toString();
    }
}
