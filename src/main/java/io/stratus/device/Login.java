package io.stratus.device;

/**
 * The result of authenticating a CONNECT. When accepted, {@code productId} scopes everything the client
 * does, {@code device} is the device it logged in as (null for an anonymous client) and {@code credential}
 * what it logged in with (null when refused).
 */
public record Login(ConnectCode code, long productId, Device device, Credential credential) {
    static Login refused(ConnectCode code) {
        return new Login(code, 0, null, null);
    }

    public boolean accepted() {
        return code == ConnectCode.ACCEPTED;
    }
}
