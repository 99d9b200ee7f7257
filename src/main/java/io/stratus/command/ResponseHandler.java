package io.stratus.command;

import io.stratus.broker.Publisher;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A device's {@code $crsp/{uuid}}: its response to an open command, matched in memory on its event loop. */
final class ResponseHandler {
    /** The commands' one logger, whichever part of them logs. */
    private static final Logger log = LoggerFactory.getLogger(Commands.class);

    private final OpenCommands open;

    ResponseHandler(OpenCommands open) {
        this.open = open;
    }

    /**
     * {@code $crsp/{uuid}} from a device, on its event loop. The future completes after the response is
     * committed, so the PUBACK follows the commit. A response nobody waits for (unknown id, answered or
     * expired already, another device's command) is logged and acknowledged: the device keeps its connection.
     */
    CompletableFuture<Void> onResponse(Publisher publisher, String topic, byte[] payload, int qos) {
        String uuid = topic.substring(Commands.RESPONSE_PREFIX.length());
        OpenCommand o = open.get(uuid);
        if (o == null) {
            log.info("[{}] response to {} ignored: no open command with this id", publisher.clientId(), uuid);
            return CompletableFuture.completedFuture(null);
        }
        if (o.command.deviceId() != publisher.deviceId()) {
            log.warn("[{}] response to {} ignored: the command is for device {}", publisher.clientId(), uuid,
                    o.command.deviceId());
            return CompletableFuture.completedFuture(null);
        }
        long at = System.currentTimeMillis();
        boolean tooLarge = payload.length > Commands.MAX_RESPONSE_BYTES;
        CompletableFuture<Void> stored = open.transition(o, c -> {
            // A device may answer before the write of the command has completed here: it was sent all the same.
            Command sent = c.sentAt() == 0 ? c.sent(o.sendStartedAt == 0 ? at : o.sendStartedAt) : c;
            return tooLarge ? sent.responded(CommandStatus.RESPONSE_TOO_LARGE, null, at)
                    : sent.responded(CommandStatus.RESPONDED, payload, at);
        });
        if (stored == null) {
            log.info("[{}] response to {} ignored: the command has ended", publisher.clientId(), uuid);
            return CompletableFuture.completedFuture(null);
        }
        if (tooLarge) {
            log.info("[{}] response to {} of {} bytes is over {}: not stored (status 6)", publisher.clientId(), uuid,
                    payload.length, Commands.MAX_RESPONSE_BYTES);
        }
        return stored;
    }
}
