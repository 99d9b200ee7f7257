package io.stratus.store;

/** The store could not do what was asked (I/O, constraint, locked database). */
public final class StoreException extends RuntimeException {
    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }

    /** True when the failure was a uniqueness or other constraint violation (SQLite's message, SQL state class 23). */
    public boolean isConstraintViolation() {
        return getCause() instanceof java.sql.SQLException sql && (String.valueOf(sql.getMessage()).contains("CONSTRAINT")
                || String.valueOf(sql.getSQLState()).startsWith("23"));
    }

    /**
     * True when the store could not be reached at all (no connection within the pool's timeout, a server down or
     * restarting: SQL state classes 08 and 57P), rather than refusing this one write.
     */
    public static boolean unreachable(Throwable failure) {
        for (Throwable c = failure; c != null; c = c.getCause()) {
            if (c instanceof java.sql.SQLTransientConnectionException) {
                return true;
            }
            if (c instanceof java.sql.SQLException sql && sql.getSQLState() != null
                    && (sql.getSQLState().startsWith("08") || sql.getSQLState().startsWith("57P"))) {
                return true;
            }
        }
        return false;
    }
}
