package io.stratus.device;

/**
 * What an MQTT login proved: the kind of secret the client gave and a SHA-256 digest of it, never the secret
 * itself. A connection keeps it so that it can be ended when the secret stops working (a key deleted, the master
 * key rotated, {@code auth_info} changed): {@link DeviceRegistry#stillValid} checks it against the current state.
 */
public record Credential(Kind kind, String digest) {
    /**
     * The secrets a OneNET login accepts as password (D5, docs/decisions.md), none for an anonymous client, and a
     * verified TLS client certificate naming the device ({@code tls.cert-login}).
     */
    public enum Kind { AUTH_INFO, MASTER_KEY, DEVICE_KEY, ANONYMOUS, CERTIFICATE }

    static final Credential ANONYMOUS = new Credential(Kind.ANONYMOUS, null);
    /** The certificate was checked by the TLS handshake; the login stays valid as long as the device is enabled. */
    static final Credential CERTIFICATE = new Credential(Kind.CERTIFICATE, null);

    static Credential of(Kind kind, String secret) {
        return new Credential(kind, Secrets.digest(secret));
    }

    /** The kind only: a digest of a low-entropy {@code auth_info} does not belong in a log line either. */
    @Override
    public String toString() {
        return kind.name();
    }
}
