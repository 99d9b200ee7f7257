package io.stratus.command;

import io.stratus.store.Database;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

/** SQL for the command table. Writes run inside a writer's transaction; reads on the caller's thread. */
final class CommandStore {
    private static final String COLUMNS =
            "uuid, device_id, product_id, body, qos, timeout_s, status, created_at, sent_at, expire_at, resp, resp_at";
    /** Everything but the body and the response, for the in-memory state of open commands. */
    private static final String STATE_COLUMNS =
            "uuid, device_id, product_id, NULL, qos, timeout_s, status, created_at, sent_at, expire_at, NULL, resp_at";

    private final Database db;

    CommandStore(Database db) {
        this.db = db;
    }

    static void insert(Connection c, Command cmd) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO command (" + COLUMNS + ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?)")) {
            ps.setString(1, cmd.uuid());
            ps.setLong(2, cmd.deviceId());
            ps.setLong(3, cmd.productId());
            ps.setBytes(4, cmd.body());
            ps.setInt(5, cmd.qos());
            ps.setInt(6, cmd.timeoutSeconds());
            ps.setInt(7, cmd.status().code);
            ps.setLong(8, cmd.createdAt());
            setTime(ps, 9, cmd.sentAt());
            ps.setLong(10, cmd.expireAt());
            ps.setBytes(11, cmd.response());
            setTime(ps, 12, cmd.respondedAt());
            ps.executeUpdate();
        }
    }

    /**
     * Writes what changes after creation: status, send time, response. The body is never rewritten, and an ended
     * command is never changed: in cluster mode another node may have ended it.
     */
    static void update(Connection c, Command cmd) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE command SET status = ?, sent_at = ?, resp = ?, resp_at = ? "
                + "WHERE uuid = ? AND status IN (" + CommandStatus.CREATED.code + ", " + CommandStatus.SENT.code + ")")) {
            ps.setInt(1, cmd.status().code);
            setTime(ps, 2, cmd.sentAt());
            ps.setBytes(3, cmd.response());
            setTime(ps, 4, cmd.respondedAt());
            ps.setString(5, cmd.uuid());
            ps.executeUpdate();
        }
    }

    // ---- cluster mode: the store decides, each change conditional on the state it changes ----------

    /** Marks a created, unexpired command sent; false when it is not (another node sent it, or it ended). */
    boolean claim(String uuid, long at) {
        return db.update("UPDATE command SET status = " + CommandStatus.SENT.code + ", sent_at = ? WHERE uuid = ? AND status = "
                + CommandStatus.CREATED.code + " AND expire_at > ?", ps -> {
            ps.setLong(1, at);
            ps.setString(2, uuid);
            ps.setLong(3, at);
        }) == 1;
    }

    /** Undoes this node's {@link #claim} of {@code at} whose send failed: back to created, or {@code status}. */
    static void unclaim(Connection c, String uuid, long at, CommandStatus status) throws SQLException {
        Database.update(c, "UPDATE command SET status = ?, sent_at = ? WHERE uuid = ? AND status = "
                + CommandStatus.SENT.code + " AND sent_at = ?", ps -> {
            ps.setInt(1, status.code);
            setTime(ps, 2, status == CommandStatus.CREATED ? 0 : at);
            ps.setString(3, uuid);
            ps.setLong(4, at);
        });
    }

    /** A device's response to its open, unexpired command; false when there is none such. */
    static boolean respond(Connection c, String uuid, long deviceId, CommandStatus status, byte[] resp, long at)
            throws SQLException {
        return Database.update(c, "UPDATE command SET status = ?, resp = ?, resp_at = ?, sent_at = COALESCE(sent_at, ?) "
                + "WHERE uuid = ? AND device_id = ? AND status IN (" + CommandStatus.CREATED.code + ", "
                + CommandStatus.SENT.code + ") AND expire_at > ?", ps -> {
            ps.setInt(1, status.code);
            ps.setBytes(2, resp);
            ps.setLong(3, at);
            ps.setLong(4, at);
            ps.setString(5, uuid);
            ps.setLong(6, deviceId);
            ps.setLong(7, at);
        }) == 1;
    }

    /** Ends up to {@code limit} open commands whose window is over; returns how many. Each ends once, whoever runs it. */
    int expireDue(long now, int limit) {
        String open = "status IN (" + CommandStatus.CREATED.code + ", " + CommandStatus.SENT.code + ")";
        return db.update("UPDATE command SET status = " + CommandStatus.TIMED_OUT.code + " WHERE uuid IN (SELECT uuid FROM "
                + "command WHERE " + open + " AND expire_at <= ? LIMIT ?) AND " + open + " AND expire_at <= ?", ps -> {
            ps.setLong(1, now);
            ps.setInt(2, limit);
            ps.setLong(3, now);
        });
    }

    /**
     * What the devices' logins may send, without bodies, oldest first: unexpired stored commands never sent, and the
     * {@code qos=1} ones sent but not answered.
     */
    List<Command> pending(List<Long> deviceIds, long now) {
        String marks = String.join(",", Collections.nCopies(deviceIds.size(), "?"));
        return db.withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + STATE_COLUMNS + " FROM command WHERE device_id IN ("
                    + marks + ") AND timeout_s > 0 AND expire_at > ? AND (status = " + CommandStatus.CREATED.code
                    + " OR status = " + CommandStatus.SENT.code + " AND qos = 1) ORDER BY created_at, uuid")) {
                int i = 1;
                for (long id : deviceIds) {
                    ps.setLong(i++, id);
                }
                ps.setLong(i, now);
                try (ResultSet rs = ps.executeQuery()) {
                    List<Command> out = new ArrayList<>();
                    while (rs.next()) {
                        out.add(read(rs));
                    }
                    return out;
                }
            }
        });
    }

    /** Open commands in all, and of one product. */
    long[] openCounts(long productId) {
        return db.withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*), COALESCE(SUM(CASE WHEN product_id = ? THEN 1 "
                    + "ELSE 0 END), 0) FROM command WHERE status IN (" + CommandStatus.CREATED.code + ", "
                    + CommandStatus.SENT.code + ")")) {
                ps.setLong(1, productId);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return new long[] {rs.getLong(1), rs.getLong(2)};
                }
            }
        });
    }

    static void delete(Connection c, String uuid) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM command WHERE uuid = ?")) {
            ps.setString(1, uuid);
            ps.executeUpdate();
        }
    }

    static void deleteDevice(Connection c, long deviceId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM command WHERE device_id = ?")) {
            ps.setLong(1, deviceId);
            ps.executeUpdate();
        }
    }

    Optional<Command> find(String uuid) {
        return db.withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM command WHERE uuid = ?")) {
                ps.setString(1, uuid);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(read(rs)) : Optional.empty();
                }
            }
        });
    }

    Optional<byte[]> body(String uuid) {
        return db.withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT body FROM command WHERE uuid = ?")) {
                ps.setString(1, uuid);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(rs.getBytes(1)) : Optional.empty();
                }
            }
        });
    }

    /** The commands that are neither answered nor expired nor failed, without bodies, for the state at start. */
    List<Command> loadOpen() {
        return db.withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + STATE_COLUMNS + " FROM command WHERE status IN ("
                    + CommandStatus.CREATED.code + ", " + CommandStatus.SENT.code + ") ORDER BY created_at")) {
                try (ResultSet rs = ps.executeQuery()) {
                    List<Command> out = new ArrayList<>();
                    while (rs.next()) {
                        out.add(read(rs));
                    }
                    return out;
                }
            }
        });
    }

    /** Commands of a device created in [from, to], newest first, and how many there are in all. */
    Commands.Page history(long deviceId, long from, long to, int offset, int limit) {
        return db.withConnection(c -> {
            long total;
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT COUNT(*) FROM command WHERE device_id = ? AND created_at BETWEEN ? AND ?")) {
                ps.setLong(1, deviceId);
                ps.setLong(2, from);
                ps.setLong(3, to);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    total = rs.getLong(1);
                }
            }
            List<Command> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM command WHERE device_id = ? "
                    + "AND created_at BETWEEN ? AND ? ORDER BY created_at DESC, uuid DESC LIMIT ? OFFSET ?")) {
                ps.setLong(1, deviceId);
                ps.setLong(2, from);
                ps.setLong(3, to);
                ps.setInt(4, limit);
                ps.setInt(5, offset);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(read(rs));
                    }
                }
            }
            return new Commands.Page(total, out);
        });
    }

    private static Command read(ResultSet rs) throws SQLException {
        return new Command(rs.getString(1), rs.getLong(2), rs.getLong(3), rs.getBytes(4), rs.getInt(5), rs.getInt(6),
                CommandStatus.of(rs.getInt(7)), rs.getLong(8), rs.getLong(9), rs.getLong(10), rs.getBytes(11), rs.getLong(12));
    }

    private static void setTime(PreparedStatement ps, int index, long epochMillis) throws SQLException {
        if (epochMillis == 0) {
            ps.setNull(index, Types.INTEGER);
        } else {
            ps.setLong(index, epochMillis);
        }
    }
}
