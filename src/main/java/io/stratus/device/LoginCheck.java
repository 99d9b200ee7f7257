package io.stratus.device;

import java.util.Map;

/**
 * The OneNET login of MQTT clients (D5, docs/decisions.md) and the re-check of open logins. Reads only the registry's
 * caches, never the store, so that it may run on an event loop.
 */
final class LoginCheck {
    private final Map<Long, Product> products;
    private final Map<Long, Device> devices;
    private final KeyRegistry keys;
    private final long defaultProductId;

    /** {@code products} and {@code devices} are the registry's caches, only read here. */
    LoginCheck(Map<Long, Product> products, Map<Long, Device> devices, KeyRegistry keys, long defaultProductId) {
        this.products = products;
        this.devices = devices;
        this.keys = keys;
        this.defaultProductId = defaultProductId;
    }

    /** The product an anonymous client joins, when anonymous access is on. */
    Login anonymous() {
        return defaultProductId == 0 ? Login.refused(ConnectCode.NOT_AUTHORIZED)
                : new Login(ConnectCode.ACCEPTED, defaultProductId, null, Credential.ANONYMOUS);
    }

    /**
     * Client id = device id, user name = product id, password = the device's auth_info, the product's master key or a
     * device-level key naming the device. Codes as in D5.
     */
    Login authenticate(String clientId, String username, String password) {
        Claim claim = claim(clientId, username);
        if (claim.refused() != null) {
            return claim.refused();
        }
        Device device = claim.device();
        Product product = claim.product();
        boolean authInfoMatches = Secrets.constantTimeEquals(password, device.authInfo());
        boolean masterKeyMatches = Secrets.constantTimeEquals(password, product.masterKey());
        boolean deviceKeyMatches = keys.allowsLogin(password, device);
        if (!authInfoMatches && !masterKeyMatches && !deviceKeyMatches) {
            return Login.refused(ConnectCode.BAD_USERNAME_OR_PASSWORD);
        }
        if (device.disabled()) {
            return Login.refused(ConnectCode.NOT_AUTHORIZED);
        }
        // Keys are random 192-bit tokens, so a password matches one secret (unless an auth_info was copied from a key);
        // when it matches several, the first in this order is the one the connection remembers.
        Credential.Kind kind = authInfoMatches ? Credential.Kind.AUTH_INFO
                : masterKeyMatches ? Credential.Kind.MASTER_KEY : Credential.Kind.DEVICE_KEY;
        return new Login(ConnectCode.ACCEPTED, product.id(), device, Credential.of(kind, password));
    }

    /**
     * The login of a client whose TLS certificate, verified against {@code tls.client-ca} in the handshake, has the
     * client id as its common name ({@code tls.cert-login}): the device and the product named by the user name as in
     * {@link #authenticate}, without a password.
     */
    Login authenticateByCertificate(String clientId, String username) {
        Claim claim = claim(clientId, username);
        if (claim.refused() != null) {
            return claim.refused();
        }
        if (claim.device().disabled()) {
            return Login.refused(ConnectCode.NOT_AUTHORIZED);
        }
        return new Login(ConnectCode.ACCEPTED, claim.product().id(), claim.device(), Credential.CERTIFICATE);
    }

    /** The device a client id names and its product, or the refusal when there is none or the user name is another product. */
    private record Claim(Device device, Product product, Login refused) {}

    private Claim claim(String clientId, String username) {
        Device device = devices.get(Device.idOf(clientId));
        if (device == null) {
            return new Claim(null, null, Login.refused(ConnectCode.IDENTIFIER_REJECTED));
        }
        Product product = products.get(device.productId());
        if (product == null || !String.valueOf(product.id()).equals(username)) {
            return new Claim(null, null, Login.refused(ConnectCode.BAD_USERNAME_OR_PASSWORD));
        }
        return new Claim(device, product, null);
    }

    /**
     * Whether a device's open login with {@code credential} would still be accepted now: the device and its product
     * exist, the device is enabled, and the secret still works (same auth_info, master key not rotated, the key still
     * exists and names the device).
     */
    boolean stillValid(long deviceId, Credential credential) {
        if (credential == null) {
            return false;
        }
        if (credential.kind() == Credential.Kind.ANONYMOUS) {
            return deviceId == 0 && products.containsKey(defaultProductId);
        }
        Device d = devices.get(deviceId);
        Product p = d == null ? null : products.get(d.productId());
        if (p == null || d.disabled()) {
            return false;
        }
        return switch (credential.kind()) {
            case AUTH_INFO -> Secrets.constantTimeEquals(credential.digest(), Secrets.digest(d.authInfo()));
            case MASTER_KEY -> p.masterKey() != null && Secrets.constantTimeEquals(credential.digest(), Secrets.digest(p.masterKey()));
            case DEVICE_KEY -> keys.namesDevice(credential.digest(), d);
            case CERTIFICATE -> true; // the device exists and is enabled
            case ANONYMOUS -> false;
        };
    }
}
