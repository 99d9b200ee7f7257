package io.stratus.device;

import io.stratus.device.DeviceException.Reason;
import io.stratus.store.BatchWriter;
import io.stratus.store.Database;
import io.stratus.store.ProductCleanup;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Products and devices: their CRUD, the login check of MQTT clients ({@link LoginCheck}) and live presence
 * ({@link Presence}). The store is the truth; the maps here are its cache, so that a CONNECT is authenticated on the
 * event loop without I/O. Mutations are serialised on this object; reads are lock-free.
 */
public final class DeviceRegistry {
    private static final Logger log = LoggerFactory.getLogger(DeviceRegistry.class);
    private static final String DEFAULT_PRODUCT = "default_product_id";

    private final DeviceStore store;
    private final BatchWriter presenceWriter;
    private final Map<Long, Product> products = new ConcurrentHashMap<>();
    private final Map<String, Product> productsByMasterKey = new ConcurrentHashMap<>();
    private final Map<Long, Device> devices = new ConcurrentHashMap<>();
    private final Map<String, Long> deviceByAuthInfo = new ConcurrentHashMap<>();
    /** Bumped whenever a login that was valid may have stopped being so; see {@link #credentialChanges}. */
    private final AtomicLong credentialChanges = new AtomicLong();
    private final List<DeviceListener> listeners = new CopyOnWriteArrayList<>();
    private final List<ProductCleanup> productCleanups = new CopyOnWriteArrayList<>();
    private final KeyRegistry keys;
    private final long defaultProductId;
    private final LoginCheck logins;
    private final Presence presence;
    private final int maxDevicesPerProduct;
    private final LongAdder devicesRefused = new LongAdder();
    /** Devices per product, kept with {@link #devices}: a product's device count without a scan. */
    private final Map<Long, Integer> deviceCounts = new ConcurrentHashMap<>();

    public DeviceRegistry(Database db, BatchWriter presenceWriter, boolean allowAnonymous) {
        this(db, presenceWriter, allowAnonymous, Integer.MAX_VALUE);
    }

    /** {@code maxDevicesPerProduct} ({@code devices.max-per-product}) bounds what a master key or register_de can create. */
    public DeviceRegistry(Database db, BatchWriter presenceWriter, boolean allowAnonymous, int maxDevicesPerProduct) {
        this.maxDevicesPerProduct = maxDevicesPerProduct;
        this.store = new DeviceStore(db);
        this.presenceWriter = presenceWriter;
        store.loadProducts().forEach(this::cache);
        store.loadDevices().forEach(this::cache);
        this.keys = new KeyRegistry(db, this);
        addListener(keys.deviceEvents());
        this.defaultProductId = allowAnonymous ? ensureDefaultProduct() : 0;
        this.logins = new LoginCheck(products, devices, keys, defaultProductId);
        this.presence = new Presence(devices, listeners, presenceWriter);
    }

    public void addListener(DeviceListener listener) {
        listeners.add(listener);
    }

    /** Adds a step to the transaction that deletes a product. */
    public void addProductCleanup(ProductCleanup cleanup) {
        productCleanups.add(cleanup);
    }

    /** The device-level API keys of all products. */
    public KeyRegistry keys() {
        return keys;
    }

    // ---- products -------------------------------------------------------------------------------

    public synchronized Product createProduct(String title, String description, String protocol) {
        require(title, "title");
        Product p = store.insertProduct(title, orEmpty(description), protocol == null ? "MQTT" : protocol,
                Secrets.token(24), Secrets.token(16), System.currentTimeMillis()); // 192 and 128 bits
        cache(p);
        return p;
    }

    public Optional<Product> product(long id) {
        return Optional.ofNullable(products.get(id));
    }

    public List<Product> products() {
        return products.values().stream().sorted(Comparator.comparingLong(Product::id)).toList();
    }

    /** The product whose master key this is. */
    public Optional<Product> productByMasterKey(String key) {
        return key == null ? Optional.empty() : Optional.ofNullable(productsByMasterKey.get(key));
    }

    /** The product of anonymous clients (0 when anonymous access is off). */
    public long defaultProductId() {
        return defaultProductId;
    }

    public synchronized Product updateProduct(long id, String title, String description, String protocol) {
        Product old = productOrThrow(id);
        Product p = new Product(id, title == null ? old.title() : title, description == null ? old.description() : description,
                protocol == null ? old.protocol() : protocol, old.masterKey(), old.registerCode(), old.createTime());
        store.updateProduct(p);
        products.put(id, p);
        productsByMasterKey.put(p.masterKey(), p);
        return p;
    }

    public synchronized Product rotateMasterKey(long id) {
        Product old = productOrThrow(id);
        Product p = old.withMasterKey(Secrets.token(24));
        store.replaceMasterKey(id, p.masterKey(), System.currentTimeMillis());
        productsByMasterKey.remove(old.masterKey());
        cache(p);
        for (Device d : devices(id)) {
            credentialsChanged(d, "the product's master key was rotated");
        }
        return p;
    }

    public synchronized Product rotateRegisterCode(long id) {
        Product p = productOrThrow(id).withRegisterCode(Secrets.token(16)); // 128 bits
        store.updateProduct(p);
        cache(p);
        return p;
    }

    /**
     * Deletes a product with its devices and keys, and (in the same transaction) what other packages keep per product
     * ({@link #addProductCleanup}); then its connections are closed (listeners).
     */
    public synchronized void deleteProduct(long id) {
        Product p = productOrThrow(id);
        store.deleteProduct(id, productCleanups);
        products.remove(id);
        productsByMasterKey.remove(p.masterKey());
        keys.forgetProduct(id);
        credentialChanges.incrementAndGet();
        for (Device d : devices(id)) {
            uncache(d);
            listeners.forEach(l -> l.removed(d));
        }
        listeners.forEach(l -> l.productRemoved(p));
    }

    // ---- devices --------------------------------------------------------------------------------

    public synchronized Device createDevice(long productId, DeviceChange change) {
        productOrThrow(productId);
        require(change.title(), "title");
        require(change.authInfo(), "auth_info");
        if (deviceByAuthInfo.containsKey(authKey(productId, change.authInfo()))) {
            throw new DeviceException(Reason.ALREADY_EXISTS, "auth_info already used in this product: " + change.authInfo());
        }
        if (deviceCounts.getOrDefault(productId, 0) >= maxDevicesPerProduct) {
            devicesRefused.increment();
            throw new DeviceException(Reason.LIMIT, "product " + productId + " has " + maxDevicesPerProduct
                    + " devices, the most devices.max-per-product allows");
        }
        Device d = store.insertDevice(productId, change.withDefaults(), System.currentTimeMillis());
        cache(d);
        return d;
    }

    /** Devices refused by {@code devices.max-per-product} since start. */
    public long devicesRefusedCount() {
        return devicesRefused.sum();
    }

    public Optional<Device> device(long id) {
        return Optional.ofNullable(devices.get(id));
    }

    /** The device of a product with this auth_info (a serial number), if any. */
    public Optional<Device> deviceByAuthInfo(long productId, String authInfo) {
        Long id = authInfo == null ? null : deviceByAuthInfo.get(authKey(productId, authInfo));
        return id == null ? Optional.empty() : device(id);
    }

    /** The devices of a product, by id. */
    public List<Device> devices(long productId) {
        return devices.values().stream().filter(d -> d.productId() == productId)
                .sorted(Comparator.comparingLong(Device::id)).toList();
    }

    public synchronized Device updateDevice(long id, DeviceChange c) {
        Device old = deviceOrThrow(id);
        if (c.authInfo() != null && c.authInfo().isEmpty()) {
            throw new DeviceException(Reason.INVALID_FIELD, "auth_info must not be empty");
        }
        if (c.title() != null && c.title().isEmpty()) {
            throw new DeviceException(Reason.INVALID_FIELD, "title must not be empty");
        }
        if (c.authInfo() != null && !c.authInfo().equals(old.authInfo())
                && deviceByAuthInfo.containsKey(authKey(old.productId(), c.authInfo()))) {
            throw new DeviceException(Reason.ALREADY_EXISTS, "auth_info already used in this product: " + c.authInfo());
        }
        Device d = old.with(c);
        store.updateDevice(d);
        deviceByAuthInfo.remove(authKey(old.productId(), old.authInfo()));
        cache(d);
        if (d.disabled() && !old.disabled()) {
            credentialChanges.incrementAndGet();
            listeners.forEach(l -> l.disabled(d));
        } else if (!d.authInfo().equals(old.authInfo())) {
            credentialsChanged(d, "its auth_info changed");
        }
        return d;
    }

    public synchronized void deleteDevice(long id) {
        Device d = deviceOrThrow(id);
        store.deleteDevice(id);
        uncache(d);
        credentialChanges.incrementAndGet();
        listeners.forEach(l -> l.removed(d));
    }

    // ---- login and presence ------------------------------------------------------------------------

    /** The product an anonymous client joins, when anonymous access is on. */
    public Login anonymous() {
        return logins.anonymous();
    }

    /** The OneNET login of an MQTT client ({@link LoginCheck#authenticate}). Reads only memory, so it may run on an event loop. */
    public Login authenticate(String clientId, String username, String password) {
        return logins.authenticate(clientId, username, password);
    }

    /** A login by verified TLS client certificate ({@link LoginCheck#authenticateByCertificate}). Reads only memory. */
    public Login authenticateByCertificate(String clientId, String username) {
        return logins.authenticateByCertificate(clientId, username);
    }

    /** Whether a device's open login would still be accepted now ({@link LoginCheck#stillValid}). Reads only memory. */
    public boolean stillValid(long deviceId, Credential credential) {
        return logins.stillValid(deviceId, credential);
    }

    /**
     * A counter bumped (after the registry's maps change, before listeners are told) whenever a valid login may have
     * stopped being valid. A login accepted before a revocation but bound to its session only after the listeners
     * looked for it would be missed; a connection reads this before authenticating and re-checks with
     * {@link #stillValid} when it moved by the time its session is bound.
     */
    public long credentialChanges() {
        return credentialChanges.get();
    }

    /** Tells listeners that a secret of {@code device} may no longer log it in; its change is already stored and cached. */
    void credentialsChanged(Device device, String reason) {
        credentialChanges.incrementAndGet();
        listeners.forEach(l -> l.credentialsChanged(device, reason));
    }

    public boolean isOnline(long deviceId) {
        return presence.isOnline(deviceId);
    }

    /** Marks a device online; the returned token must be handed back to {@link #markOffline}. */
    public long markOnline(long deviceId) {
        return presence.markOnline(deviceId);
    }

    /** Marks a device offline unless a newer connection of it (a takeover) has marked it online since. */
    public void markOffline(long deviceId, long token) {
        presence.markOffline(deviceId, token);
    }

    /**
     * A real write (a settings row) through the state writer, for readiness: it fails while the store takes no writes
     * (full disk, locked database), which an empty commit would not show.
     */
    public CompletableFuture<Void> probeStore() {
        String now = String.valueOf(System.currentTimeMillis());
        return presenceWriter.submit(c -> store.writeSetting(c, "health_probe", now));
    }

    // ---- helpers --------------------------------------------------------------------------------

    private long ensureDefaultProduct() {
        String stored = store.setting(DEFAULT_PRODUCT);
        if (stored != null && products.containsKey(Long.parseLong(stored))) {
            return Long.parseLong(stored);
        }
        Product p = createProduct("default", "Clients without credentials (anonymous access)", "MQTT");
        store.putSetting(DEFAULT_PRODUCT, String.valueOf(p.id()));
        log.info("Anonymous clients join product {}", p.id());
        return p.id();
    }

    private void cache(Product p) {
        products.put(p.id(), p);
        if (p.masterKey() != null) {
            productsByMasterKey.put(p.masterKey(), p);
        }
    }

    private void cache(Device d) {
        if (devices.put(d.id(), d) == null) {
            deviceCounts.merge(d.productId(), 1, Integer::sum);
        }
        deviceByAuthInfo.put(authKey(d.productId(), d.authInfo()), d.id());
    }

    private void uncache(Device d) {
        if (devices.remove(d.id()) != null) {
            deviceCounts.computeIfPresent(d.productId(), (product, n) -> n > 1 ? n - 1 : null);
        }
        deviceByAuthInfo.remove(authKey(d.productId(), d.authInfo()));
    }

    private Product productOrThrow(long id) {
        Product p = products.get(id);
        if (p == null) {
            throw new DeviceException(Reason.NOT_FOUND, "product not found: " + id);
        }
        return p;
    }

    private Device deviceOrThrow(long id) {
        Device d = devices.get(id);
        if (d == null) {
            throw new DeviceException(Reason.NOT_FOUND, "device not found: " + id);
        }
        return d;
    }

    private static String authKey(long productId, String authInfo) {
        return productId + "\u0000" + authInfo;
    }

    private static void require(String value, String field) {
        if (value == null || value.isEmpty()) {
            throw new DeviceException(Reason.MISSING_FIELD, "missing " + field);
        }
    }

    private static String orEmpty(String s) {
        return s == null ? "" : s;
    }
}
