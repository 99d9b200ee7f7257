package io.stratus.device;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The registry's copy of products and devices in memory, with the indexes that logins and the API read. Changed only
 * under the registry's lock; read without one.
 */
final class DeviceCache {
    final Map<Long, Product> products = new ConcurrentHashMap<>();
    final Map<Long, Device> devices = new ConcurrentHashMap<>();
    private final Map<String, Product> productsByMasterKey = new ConcurrentHashMap<>();
    private final Map<String, Long> deviceByAuthInfo = new ConcurrentHashMap<>();
    /** Devices per product, kept with {@link #devices}: a product's device count without a scan. */
    private final Map<Long, Integer> deviceCounts = new ConcurrentHashMap<>();

    void put(Product p) {
        Product old = products.put(p.id(), p);
        if (old != null && old.masterKey() != null && !old.masterKey().equals(p.masterKey())) {
            productsByMasterKey.remove(old.masterKey());
        }
        if (p.masterKey() != null) {
            productsByMasterKey.put(p.masterKey(), p);
        }
    }

    void remove(Product p) {
        products.remove(p.id());
        if (p.masterKey() != null) {
            productsByMasterKey.remove(p.masterKey());
        }
    }

    Product productByMasterKey(String key) {
        return productsByMasterKey.get(key);
    }

    /** Caches {@code d}, in place of its older copy if there is one. */
    void put(Device d) {
        Device old = devices.put(d.id(), d);
        if (old == null) {
            deviceCounts.merge(d.productId(), 1, Integer::sum);
        } else {
            deviceByAuthInfo.remove(authKey(old.productId(), old.authInfo()));
        }
        deviceByAuthInfo.put(authKey(d.productId(), d.authInfo()), d.id());
    }

    void remove(Device d) {
        if (devices.remove(d.id()) != null) {
            deviceCounts.computeIfPresent(d.productId(), (product, n) -> n > 1 ? n - 1 : null);
        }
        deviceByAuthInfo.remove(authKey(d.productId(), d.authInfo()));
    }

    /** The id of the device of a product with this auth_info, or null. */
    Long deviceIdByAuthInfo(long productId, String authInfo) {
        return deviceByAuthInfo.get(authKey(productId, authInfo));
    }

    int deviceCount(long productId) {
        return deviceCounts.getOrDefault(productId, 0);
    }

    private static String authKey(long productId, String authInfo) {
        return productId + "\u0000" + authInfo;
    }
}
