package io.stratus.device;

import io.stratus.store.Database;
import java.sql.PreparedStatement;
import java.sql.ResultSet;

/** SQL for the admin's sessions: rows of {@code admin_session}, keyed by the token's hash. */
final class AdminSessionStore {
    private final Database db;

    AdminSessionStore(Database db) {
        this.db = db;
    }

    void insert(String tokenHash, long expiresAt) {
        db.update("INSERT INTO admin_session (token_hash, expires_at) VALUES (?, ?)", ps -> {
            ps.setString(1, tokenHash);
            ps.setLong(2, expiresAt);
        });
    }

    /** The session's expiry in epoch milliseconds, or 0 when there is no such session. */
    long expiresAt(String tokenHash) {
        return db.withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT expires_at FROM admin_session WHERE token_hash = ?")) {
                ps.setString(1, tokenHash);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? rs.getLong(1) : 0L;
                }
            }
        });
    }

    void delete(String tokenHash) {
        db.update("DELETE FROM admin_session WHERE token_hash = ?", ps -> ps.setString(1, tokenHash));
    }

    void deleteExpired(long now) {
        db.update("DELETE FROM admin_session WHERE expires_at < ?", ps -> ps.setLong(1, now));
    }
}
