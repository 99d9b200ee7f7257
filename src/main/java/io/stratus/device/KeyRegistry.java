package io.stratus.device;

import io.stratus.device.DeviceException.Reason;
import io.stratus.store.Database;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Device-level API keys (OneNET 6.4) and {@code register_de}. The store is the truth; the maps here are its
 * cache, because a key is checked on every HTTP request and every MQTT login (on an event loop, so memory only).
 *
 * <p>Mutations are serialised on this object, and this lock is always the innermost one: code holding it never
 * calls a synchronized method of {@link DeviceRegistry} (which calls {@link #forgetProduct} under its own lock).
 * A key deleted, or no longer naming a device, is reported to {@link DeviceListener#credentialsChanged} once stored,
 * so that MQTT connections that logged in with it end.
 */
public final class KeyRegistry {
    /** The result of {@code POST /register_de}: the device (new or found by its serial) and its key. */
    public record Registration(Device device, ApiKey key) {}

    /** Generated keys carry 24 random bytes (192 bits). */
    static final int KEY_BYTES = 24;
    private static final Set<ApiKey.Method> ALL_METHODS = EnumSet.allOf(ApiKey.Method.class);
    private static final Set<ApiKey.Method> REGISTRATION_METHODS = EnumSet.of(ApiKey.Method.GET, ApiKey.Method.POST);
    /**
     * The title of every key register_de makes, and of no other: {@code POST}/{@code PUT /keys} refuse it, so that a
     * key with it was made by a registration.
     */
    public static final String REGISTRATION_TITLE = "register_de";
    private final Object registrations = new Object();

    private final KeyStore store;
    private final DeviceRegistry registry;
    /** Keyed by a digest of the key, so that a lookup's timing says nothing about how much of a guess was right. */
    private final Map<String, ApiKey> byDigest = new ConcurrentHashMap<>();
    /** The keys that name each device, for MQTT logins; each list is replaced, never changed. */
    private final Map<Long, List<ApiKey>> byDevice = new ConcurrentHashMap<>();

    KeyRegistry(Database db, DeviceRegistry registry) {
        this.store = new KeyStore(db);
        this.registry = registry;
        store.load().forEach(this::index);
    }

    /** What the keys do when a device changes: a deleted device leaves every key ({@link #deviceRemoved}). */
    public DeviceListener deviceEvents() {
        return new DeviceListener() {
            @Override
            public void removed(Device device) {
                deviceRemoved(device);
            }
        };
    }

    /** The device-level key with this secret. */
    public Optional<ApiKey> find(String key) {
        return key == null || key.isEmpty() ? Optional.empty() : Optional.ofNullable(byDigest.get(digest(key)));
    }

    /** The keys of a product, oldest first. */
    public List<ApiKey> keys(long productId) {
        return byDigest.values().stream().filter(k -> k.productId() == productId)
                .sorted(Comparator.comparingLong(ApiKey::createTime).thenComparing(ApiKey::key)).toList();
    }

    /**
     * Whether {@code password} is a device-level key naming this device (the MQTT login rule). Compared in
     * constant time with every key of the device; reads only memory.
     */
    public boolean allowsLogin(String password, Device device) {
        boolean match = false;
        for (ApiKey k : byDevice.getOrDefault(device.id(), List.of())) {
            match |= Secrets.constantTimeEquals(password, k.key()) && k.productId() == device.productId()
                    && k.allowsDeviceLogin(device.id());
        }
        return match;
    }

    /** Whether the key with this digest exists and names the device (an open MQTT login with it is still good). */
    boolean namesDevice(String digest, Device device) {
        ApiKey k = digest == null ? null : byDigest.get(digest);
        return k != null && k.productId() == device.productId() && k.allowsDeviceLogin(device.id());
    }

    /** Creates a key; every device it names must be of the product (errno 8 otherwise). */
    public synchronized ApiKey create(long productId, String title, List<ApiKey.Permission> permissions) {
        checkDevices(productId, permissions);
        ApiKey k = new ApiKey(Secrets.token(KEY_BYTES), productId, title, permissions, System.currentTimeMillis());
        store.insert(k);
        index(k);
        registry.announce(RegistrySync.KEYS, productId);
        return k;
    }

    /** Replaces a key's title and permissions. */
    public synchronized ApiKey update(String key, String title, List<ApiKey.Permission> permissions) {
        ApiKey old = find(key).orElseThrow(() -> new DeviceException(Reason.NOT_FOUND, "key not found"));
        checkDevices(old.productId(), permissions);
        ApiKey k = old.with(title, permissions);
        store.update(k);
        unindex(old);
        index(k);
        registry.announce(RegistrySync.KEYS, k.productId());
        for (long id : old.deviceIds()) {
            if (old.allowsDeviceLogin(id) && !k.allowsDeviceLogin(id)) {
                registry.device(id).ifPresent(d -> registry.credentialsChanged(d, "a device-level key no longer grants its login"));
            }
        }
        return k;
    }

    public synchronized void delete(String key) {
        ApiKey old = find(key).orElseThrow(() -> new DeviceException(Reason.NOT_FOUND, "key not found"));
        store.delete(old.key());
        unindex(old);
        registry.announce(RegistrySync.KEYS, old.productId());
        for (long id : old.deviceIds()) {
            registry.device(id).ifPresent(d -> registry.credentialsChanged(d, "a device-level key was deleted"));
        }
    }

    /**
     * {@code PUT /keys/{key}/devices}: each added device gets a whole-device resource in the key's first permission
     * (a new permission with every method when the key has none); each removed device loses all its resources, and
     * a permission left without resources goes.
     */
    public synchronized ApiKey linkDevices(String key, List<Long> add, List<Long> remove) {
        ApiKey old = find(key).orElseThrow(() -> new DeviceException(Reason.NOT_FOUND, "key not found"));
        List<ApiKey.Permission> permissions = new ArrayList<>();
        for (ApiKey.Permission p : old.permissions()) {
            List<ApiKey.Resource> kept = p.resources().stream().filter(r -> !remove.contains(r.deviceId())).toList();
            if (!kept.isEmpty()) {
                permissions.add(new ApiKey.Permission(p.methods(), kept));
            }
        }
        List<ApiKey.Resource> added = new ArrayList<>();
        for (long id : add) {
            boolean present = !permissions.isEmpty()
                    && permissions.get(0).resources().contains(new ApiKey.Resource(id, null));
            if (!present && !added.contains(new ApiKey.Resource(id, null))) {
                added.add(new ApiKey.Resource(id, null));
            }
        }
        if (!added.isEmpty()) {
            if (permissions.isEmpty()) {
                permissions.add(new ApiKey.Permission(ALL_METHODS, added));
            } else {
                ApiKey.Permission first = permissions.get(0);
                List<ApiKey.Resource> resources = new ArrayList<>(first.resources());
                resources.addAll(added);
                permissions.set(0, new ApiKey.Permission(first.methods(), resources));
            }
        }
        return update(key, old.title(), permissions);
    }

    /**
     * {@code POST /register_de}: a new device with this serial, titled {@code title}, and a key for just that device
     * that reads it and writes its data points ({@code GET} and {@code POST}: it cannot change the device's
     * {@code auth_info}, delete it or read other devices). A serial that register_de registered before gets the same
     * device and key again (a device may lose its reply); any other device with that serial, made by hand or whose
     * registration key was deleted, is errno 12: the register code is a product-wide secret and must not hand out
     * devices, or keys, that an administrator made.
     */
    public Registration register(long productId, String authInfo, String title) {
        // One registration at a time, under a lock of its own: createDevice takes the DeviceRegistry's lock and then
        // this object's, never the other way round.
        synchronized (registrations) {
            Device device = registry.deviceByAuthInfo(productId, authInfo).orElse(null);
            if (device != null) {
                ApiKey key = registrationKey(device)
                        .orElseThrow(() -> new DeviceException(Reason.ALREADY_EXISTS, "a device with this serial exists"));
                return new Registration(device, key);
            }
            device = registry.createDevice(productId, new DeviceChange(title, null, authInfo, "MQTT", null, null,
                    null, null, null));
            List<ApiKey.Permission> grant = List.of(new ApiKey.Permission(REGISTRATION_METHODS,
                    List.of(new ApiKey.Resource(device.id(), null))));
            return new Registration(device, create(device.productId(), REGISTRATION_TITLE, grant));
        }
    }

    /** The key register_de made for the device, if it still exists. */
    private Optional<ApiKey> registrationKey(Device device) {
        return byDevice.getOrDefault(device.id(), List.of()).stream()
                .filter(k -> k.productId() == device.productId() && REGISTRATION_TITLE.equals(k.title()))
                .findFirst();
    }

    /**
     * A deleted device leaves every key: its resources go, a permission left without resources goes, and a key left
     * without permissions (such as the one register_de made for it) is deleted.
     */
    synchronized void deviceRemoved(Device device) {
        for (ApiKey k : byDevice.getOrDefault(device.id(), List.of())) {
            List<ApiKey.Permission> kept = new ArrayList<>();
            for (ApiKey.Permission p : k.permissions()) {
                List<ApiKey.Resource> resources = p.resources().stream().filter(r -> r.deviceId() != device.id()).toList();
                if (!resources.isEmpty()) {
                    kept.add(new ApiKey.Permission(p.methods(), resources));
                }
            }
            unindex(k);
            if (kept.isEmpty()) {
                store.delete(k.key());
            } else {
                ApiKey changed = k.with(k.title(), kept);
                store.update(changed);
                index(changed);
            }
            registry.announce(RegistrySync.KEYS, k.productId());
        }
    }

    /**
     * Cluster mode: takes a product's keys as stored now, after another node changed them; devices whose keys changed
     * are re-checked ({@link DeviceListener#credentialsChanged} ends only logins no longer valid).
     */
    synchronized void refresh(long productId) {
        Set<Long> named = new HashSet<>();
        for (ApiKey old : keys(productId)) {
            unindex(old);
            named.addAll(old.deviceIds());
        }
        store.load(productId).forEach(this::index);
        for (long id : named) {
            registry.device(id).ifPresent(d -> registry.credentialsChanged(d, "a device-level key changed on another node"));
        }
    }

    /** Drops the cached keys of a deleted product (its rows went with it). */
    synchronized void forgetProduct(long productId) {
        for (ApiKey k : List.copyOf(byDigest.values())) {
            if (k.productId() == productId) {
                unindex(k);
            }
        }
    }

    private void checkDevices(long productId, List<ApiKey.Permission> permissions) {
        for (ApiKey.Permission p : permissions) {
            for (ApiKey.Resource r : p.resources()) {
                Device d = registry.device(r.deviceId()).orElse(null);
                if (d == null || d.productId() != productId) {
                    throw new DeviceException(Reason.NOT_FOUND, "device not found in product " + productId + ": " + r.deviceId());
                }
            }
        }
    }

    private void index(ApiKey k) {
        byDigest.put(digest(k.key()), k);
        for (long id : k.deviceIds()) {
            byDevice.compute(id, (d, list) -> {
                List<ApiKey> next = list == null ? new ArrayList<>() : new ArrayList<>(list);
                next.add(k);
                return List.copyOf(next);
            });
        }
    }

    private void unindex(ApiKey k) {
        byDigest.remove(digest(k.key()));
        for (long id : k.deviceIds()) {
            byDevice.computeIfPresent(id, (d, list) -> {
                List<ApiKey> next = list.stream().filter(x -> !x.key().equals(k.key())).toList();
                return next.isEmpty() ? null : next;
            });
        }
    }

    private static String digest(String key) {
        return Secrets.digest(key);
    }
}
