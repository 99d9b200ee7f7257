package io.stratus.api;

/** A request the API refuses; {@link ApiServer} turns it into the errno envelope. */
final class ApiError extends RuntimeException {
    final Errno errno;

    ApiError(Errno errno, String detail) {
        super(detail == null ? errno.message : errno.message + ": " + detail, null, false, false);
        this.errno = errno;
    }

    ApiError(Errno errno) {
        this(errno, null);
    }

    static ApiError invalid(String detail) {
        return new ApiError(Errno.INVALID_PARAMETER, detail);
    }

    static ApiError required(String field) {
        return new ApiError(Errno.PARAMETER_REQUIRED, field);
    }

    static ApiError notFound(String detail) {
        return new ApiError(Errno.NOT_FOUND, detail);
    }

    static ApiError authFailed() {
        return new ApiError(Errno.AUTH_FAILED);
    }
}
