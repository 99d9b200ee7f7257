package io.stratus.device;

/** A request about products or devices that cannot be done; {@link Reason} says why, for the API's errno. */
public final class DeviceException extends RuntimeException {
    /** {@code LIMIT}: a per-product bound ({@code devices.max-per-product}) was reached. */
    public enum Reason { NOT_FOUND, ALREADY_EXISTS, MISSING_FIELD, INVALID_FIELD, LIMIT }

    private final Reason reason;

    public DeviceException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
