package io.stratus.broker;

import io.stratus.store.Database;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;

/** SQL for the {@code client_handover} table: persistent sessions that left a node, and up to where it owes them ({@link Handovers}). */
final class HandoverStore {
    /** A session that left incarnation {@code from}: that node's consumer owes it the messages up to {@code untilSeq}. */
    record Row(long productId, String clientId, String from, long untilSeq) {}

    private final Database db;

    HandoverStore(Database db) {
        this.db = db;
    }

    /** Records a handover; a later one of the same session from the same incarnation raises the sequence. */
    void put(Row row) {
        write("INSERT INTO client_handover (product_id, client_id, from_incarnation, until_seq) VALUES (?, ?, ?, ?) "
                + "ON CONFLICT (product_id, client_id, from_incarnation) "
                + "DO UPDATE SET until_seq = GREATEST(client_handover.until_seq, EXCLUDED.until_seq)", row);
    }

    /** The handovers from every incarnation of node {@code node}. */
    List<Row> fromNode(String node) {
        return db.withConnection(c -> {
            List<Row> rows = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT product_id, client_id, from_incarnation, until_seq FROM "
                    + "client_handover WHERE substr(from_incarnation, 1, " + (node.length() + 1) + ") = ?")) {
                ps.setString(1, node + "/");
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        rows.add(new Row(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getLong(4)));
                    }
                }
            }
            return rows;
        });
    }

    /** The handover is done: the old node's consumer has passed its sequence. */
    void delete(Row row) {
        write("DELETE FROM client_handover WHERE product_id = ? AND client_id = ? AND from_incarnation = ? AND until_seq <= ?", row);
    }

    /** Runs {@code sql} with the row's product, client id, incarnation and sequence as its parameters, in that order. */
    private void write(String sql, Row row) {
        db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setLong(1, row.productId());
                ps.setString(2, row.clientId());
                ps.setString(3, row.from());
                ps.setLong(4, row.untilSeq());
                ps.executeUpdate();
            }
            return null;
        });
    }
}
