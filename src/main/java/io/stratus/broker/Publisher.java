package io.stratus.broker;

/** Who published a message: its product, device (0 when anonymous) and client id. */
public record Publisher(long productId, long deviceId, String clientId) {
}
