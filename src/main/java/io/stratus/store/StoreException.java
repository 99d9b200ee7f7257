package io.stratus.store;

/** The store could not do what was asked (I/O, constraint, locked database). */
public final class StoreException extends RuntimeException {
    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }

    /** True when the failure was a uniqueness or other constraint violation. */
    public boolean isConstraintViolation() {
        return getCause() instanceof java.sql.SQLException sql && String.valueOf(sql.getMessage()).contains("CONSTRAINT");
    }
}
