package io.stratus.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One table of a {@link StoreMigration}: its rows streamed from the embedded store and inserted into PostgreSQL in
 * batches, each value bound as the type of its PostgreSQL column (SQLite keeps flags as integers, where PostgreSQL may
 * have a boolean; the text of a JSON column is cast by the server).
 */
final class TableCopy {
    /** A column of the target table: its {@link Types} and whether its default draws from a sequence. */
    record TargetColumn(int sqlType, boolean fromSequence) {}

    /** Rows per executeBatch; pgjdbc sends them as a few multi-row inserts (reWriteBatchedInserts). */
    static final int BATCH = 5_000;

    private final String name;
    private final List<String> columns;
    private final int[] types;
    private final List<String> sequenceColumns = new ArrayList<>();

    TableCopy(String name, List<String> sourceColumns, Map<String, TargetColumn> target) {
        this.name = name;
        this.columns = sourceColumns;
        this.types = new int[sourceColumns.size()];
        for (int i = 0; i < types.length; i++) {
            TargetColumn column = target.get(sourceColumns.get(i));
            if (column == null) {
                throw new StoreException("column " + name + "." + sourceColumns.get(i)
                        + " of the embedded store is missing from the PostgreSQL schema", null);
            }
            types[i] = column.sqlType();
        }
        target.forEach((column, t) -> {
            if (t.fromSequence()) {
                sequenceColumns.add(column);
            }
        });
    }

    String name() {
        return name;
    }

    /** The target's columns whose default is a sequence (identity or serial), to be moved past the copied ids. */
    List<String> sequenceColumns() {
        return sequenceColumns;
    }

    /** Copies every row; never holds more than one batch in memory. Returns the rows copied. */
    long copy(Connection source, Connection target, MigrationProgress progress) throws SQLException {
        String list = String.join(", ", columns);
        // An identity column GENERATED ALWAYS takes the copied id only when told to; the clause changes nothing else.
        String insert = "INSERT INTO " + name + " (" + list + ")"
                + (sequenceColumns.isEmpty() ? "" : " OVERRIDING SYSTEM VALUE")
                + " VALUES (" + "?,".repeat(columns.size() - 1) + "?)";
        long started = System.nanoTime();
        long rows = 0;
        try (Statement read = source.createStatement(ResultSet.TYPE_FORWARD_ONLY, ResultSet.CONCUR_READ_ONLY);
             PreparedStatement write = target.prepareStatement(insert)) {
            read.setFetchSize(BATCH);
            try (ResultSet row = read.executeQuery("SELECT " + list + " FROM " + name)) {
                while (row.next()) {
                    for (int i = 0; i < types.length; i++) {
                        bind(row, write, i + 1);
                    }
                    write.addBatch();
                    if (++rows % BATCH == 0) {
                        write.executeBatch();
                        progress.copying(name, rows, started);
                    }
                }
            }
            if (rows % BATCH != 0) {
                write.executeBatch();
            }
        }
        progress.copied(name, rows, started);
        return rows;
    }

    /** Binds column {@code i} of the current source row as the type of its target column; NULL stays NULL. */
    private void bind(ResultSet from, PreparedStatement to, int i) throws SQLException {
        int type = types[i - 1];
        switch (type) {
            case Types.BIT, Types.BOOLEAN -> to.setBoolean(i, from.getLong(i) != 0);
            case Types.TINYINT, Types.SMALLINT, Types.INTEGER -> to.setInt(i, toInt(from.getLong(i), i));
            case Types.BIGINT -> to.setLong(i, from.getLong(i));
            case Types.REAL, Types.FLOAT, Types.DOUBLE -> to.setDouble(i, from.getDouble(i));
            case Types.NUMERIC, Types.DECIMAL -> to.setBigDecimal(i, from.getBigDecimal(i));
            case Types.BINARY, Types.VARBINARY, Types.LONGVARBINARY, Types.BLOB -> to.setBytes(i, from.getBytes(i));
            case Types.CHAR, Types.VARCHAR, Types.LONGVARCHAR, Types.NCHAR, Types.NVARCHAR, Types.LONGNVARCHAR,
                    Types.CLOB -> to.setString(i, from.getString(i));
            default -> to.setObject(i, from.getString(i), Types.OTHER); // json, jsonb, uuid: cast from text by the server
        }
        if (from.wasNull()) { // the getters above read NULL as 0 or false
            to.setNull(i, type);
        }
    }

    /** PostgreSQL itself refuses a value out of a smallint's range; an int's must be checked here. */
    private int toInt(long value, int i) throws SQLException {
        if (value != (int) value) {
            throw new SQLException(name + "." + columns.get(i - 1) + " holds " + value + ", too large for its PostgreSQL column");
        }
        return (int) value;
    }
}
