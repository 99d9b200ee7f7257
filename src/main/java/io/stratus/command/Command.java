package io.stratus.command;

/**
 * A command to a device (OneNET §4). Times are epoch milliseconds, 0 when it has not happened. {@code body}
 * is null when not loaded (the in-memory state of open commands leaves it in the store); {@code response}
 * is null until a response of at most {@link Commands#MAX_RESPONSE_BYTES} arrived.
 */
public record Command(String uuid, long deviceId, long productId, byte[] body, int qos, int timeoutSeconds,
                      CommandStatus status, long createdAt, long sentAt, long expireAt, byte[] response, long respondedAt) {

    /** An online-only command ({@code timeout=0}): never stored for later delivery. */
    public boolean onlineOnly() {
        return timeoutSeconds == 0;
    }

    Command withoutBody() {
        return body == null ? this : new Command(uuid, deviceId, productId, null, qos, timeoutSeconds, status, createdAt,
                sentAt, expireAt, response, respondedAt);
    }

    Command withBody(byte[] bytes) {
        return new Command(uuid, deviceId, productId, bytes, qos, timeoutSeconds, status, createdAt, sentAt, expireAt,
                response, respondedAt);
    }

    Command sent(long at) {
        return new Command(uuid, deviceId, productId, body, qos, timeoutSeconds, CommandStatus.SENT, createdAt, at,
                expireAt, response, respondedAt);
    }

    Command withStatus(CommandStatus next) {
        return new Command(uuid, deviceId, productId, body, qos, timeoutSeconds, next, createdAt, sentAt, expireAt,
                response, respondedAt);
    }

    Command responded(CommandStatus next, byte[] bytes, long at) {
        return new Command(uuid, deviceId, productId, body, qos, timeoutSeconds, next, createdAt, sentAt, expireAt,
                bytes, at);
    }
}
