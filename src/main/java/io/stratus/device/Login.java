package io.stratus.device;

/**
 * The result of authenticating a CONNECT. When accepted, {@code productId} scopes everything the client
 * does, and {@code device} is the device it logged in as (null for an anonymous client).
 */
public record Login(ConnectCode code, long productId, Device device) {
    static Login refused(ConnectCode code) {
        return new Login(code, 0, null);
    }

    public boolean accepted() {
        return code == ConnectCode.ACCEPTED;
    }
}
