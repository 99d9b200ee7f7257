package io.stratus.api;

/**
 * The OneNET error numbers the API answers with (APIResult), each with its message and its REST status: 200 for
 * all but a missing key (401), a rejected credential (403), a failed-login back-off (429) and a system limit (503).
 * Stratus's own routes send the REST status; OneNET's send 200 for every errno unless {@code api.status-codes=rest}
 * ({@link ApiServer}).
 */
enum Errno {
    SUCC(0, "succ", 200),
    INTERNAL(1, "internal server error", 200),
    KEY_REQUIRED(2, "api-key required", 401),
    AUTH_FAILED(3, "auth failed", 403),
    /** A failed-login back-off is in force (LoginGuard): errno 3 for errno readers, HTTP 429 where REST statuses apply. */
    TOO_MANY_FAILURES(3, "auth failed: too many failed attempts, retry later", 429),
    INVALID_JSON(4, "invalid JSON", 200),
    TOO_LARGE(5, "request entity too large", 200),
    INVALID_PARAMETER(6, "invalid parameter", 200),
    PARAMETER_REQUIRED(7, "parameter required", 200),
    NOT_FOUND(8, "not found", 200),
    ENTITY_REQUIRED(9, "entity data required", 200),
    DEVICE_NOT_ONLINE(10, "device not online", 200),
    DATASTREAM_EXISTS(11, "datastream already exists", 200),
    ALREADY_EXISTS(12, "already exists", 200),
    SYSTEM_LIMIT(13, "system limit", 503),
    /** A bound per product or per credential (Stratus's own routes): errno 13 for errno readers, HTTP 429 for the others. */
    TENANT_LIMIT(13, "system limit", 429);

    final int code;
    final String message;
    final int restStatus;

    Errno(int code, String message, int restStatus) {
        this.code = code;
        this.message = message;
        this.restStatus = restStatus;
    }
}
