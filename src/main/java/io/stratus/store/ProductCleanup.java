package io.stratus.store;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * Deletes what a package keeps per product in its own tables, inside the transaction that deletes the product
 * (before its devices go, so that it may select them).
 */
@FunctionalInterface
public interface ProductCleanup {
    void delete(Connection c, long productId) throws SQLException;
}
