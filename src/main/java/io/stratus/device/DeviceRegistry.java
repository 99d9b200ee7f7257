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
    private final DeviceCache cache = new DeviceCache();
    private final Map<Long, Product> products = cache.products;
    private final Map<Long, Device> devices = cache.devices;
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
    /** Cluster mode's link to the other nodes' registries; null on a single node. */
    private volatile RegistrySync sync;

    public DeviceRegistry(Database db, BatchWriter presenceWriter, boolean allowAnonymous) {
        this(db, presenceWriter, allowAnonymous, Integer.MAX_VALUE);
    }

    /** {@code maxDevicesPerProduct} ({@code devices.max-per-product}) bounds what a master key or register_de can create. */
    public DeviceRegistry(Database db, BatchWriter presenceWriter, boolean allowAnonymous, int maxDevicesPerProduct) {
        this.maxDevicesPerProduct = maxDevicesPerProduct;
        this.store = new DeviceStore(db);
        this.presenceWriter = presenceWriter;
        store.loadProducts().forEach(cache::put);
        store.loadDevices().forEach(cache::put);
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
        cache.put(p);
        announce(RegistrySync.PRODUCT, p.id());
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
        return key == null ? Optional.empty() : Optional.ofNullable(cache.productByMasterKey(key));
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
        cache.put(p);
        announce(RegistrySync.PRODUCT, id);
        return p;
    }

    public synchronized Product rotateMasterKey(long id) {
        Product old = productOrThrow(id);
        Product p = old.withMasterKey(Secrets.token(24));
        store.replaceMasterKey(id, p.masterKey(), System.currentTimeMillis());
        cache.put(p);
        announce(RegistrySync.PRODUCT, id);
        for (Device d : devices(id)) {
            credentialsChanged(d, "the product's master key was rotated");
        }
        return p;
    }

    public synchronized Product rotateRegisterCode(long id) {
        Product p = productOrThrow(id).withRegisterCode(Secrets.token(16)); // 128 bits
        store.updateProduct(p);
        cache.put(p);
        announce(RegistrySync.PRODUCT, id);
        return p;
    }

    /**
     * Deletes a product with its devices and keys, and (in the same transaction) what other packages keep per product
     * ({@link #addProductCleanup}); then its connections are closed (listeners).
     */
    public synchronized void deleteProduct(long id) {
        Product p = productOrThrow(id);
        store.deleteProduct(id, productCleanups);
        forget(p);
        announce(RegistrySync.PRODUCT, id);
    }

    /** Drops a deleted product, its devices and keys from the caches, and tells the listeners. */
    private void forget(Product p) {
        cache.remove(p);
        keys.forgetProduct(p.id());
        credentialChanges.incrementAndGet();
        for (Device d : devices(p.id())) {
            cache.remove(d);
            listeners.forEach(l -> l.removed(d));
        }
        listeners.forEach(l -> l.productRemoved(p));
    }

    /** Cluster mode: takes a product as stored now ({@code fresh}, null when deleted), after another node changed it. */
    synchronized void refreshProduct(long id, Product fresh) {
        Product old = products.get(id);
        if (fresh == null) {
            if (old != null) {
                forget(old);
            }
            return;
        }
        cache.put(fresh);
        if (old != null && !old.masterKey().equals(fresh.masterKey())) {
            devices(id).forEach(d -> credentialsChanged(d, "the product's master key was rotated on another node"));
        }
    }

    // ---- devices --------------------------------------------------------------------------------

    public synchronized Device createDevice(long productId, DeviceChange change) {
        productOrThrow(productId);
        require(change.title(), "title");
        require(change.authInfo(), "auth_info");
        if (cache.deviceIdByAuthInfo(productId, change.authInfo()) != null) {
            throw new DeviceException(Reason.ALREADY_EXISTS, "auth_info already used in this product: " + change.authInfo());
        }
        if (cache.deviceCount(productId) >= maxDevicesPerProduct) {
            devicesRefused.increment();
            throw new DeviceException(Reason.LIMIT, "product " + productId + " has " + maxDevicesPerProduct
                    + " devices, the most devices.max-per-product allows");
        }
        Device d = store.insertDevice(productId, change.withDefaults(), System.currentTimeMillis());
        cache.put(d);
        announce(RegistrySync.DEVICE, d.id());
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
        Long id = authInfo == null ? null : cache.deviceIdByAuthInfo(productId, authInfo);
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
                && cache.deviceIdByAuthInfo(old.productId(), c.authInfo()) != null) {
            throw new DeviceException(Reason.ALREADY_EXISTS, "auth_info already used in this product: " + c.authInfo());
        }
        Device d = old.with(c);
        store.updateDevice(d);
        replace(old, d);
        announce(RegistrySync.DEVICE, id);
        return d;
    }

    /** Caches {@code d} in place of {@code old}, and tells the listeners what the change ended. */
    private void replace(Device old, Device d) {
        cache.put(d);
        if (d.disabled() && !old.disabled()) {
            credentialChanges.incrementAndGet();
            listeners.forEach(l -> l.disabled(d));
        } else if (!d.authInfo().equals(old.authInfo())) {
            credentialsChanged(d, "its auth_info changed");
        }
    }

    public synchronized void deleteDevice(long id) {
        Device d = deviceOrThrow(id);
        store.deleteDevice(id);
        removed(d);
        announce(RegistrySync.DEVICE, id);
    }

    private void removed(Device d) {
        cache.remove(d);
        credentialChanges.incrementAndGet();
        listeners.forEach(l -> l.removed(d));
    }

    /**
     * Cluster mode: takes a device as stored now ({@code fresh}, null when deleted), after another node made, changed or
     * deleted it. Its login times stay this node's when later (presence is per node).
     */
    synchronized void refreshDevice(long id, Device fresh) {
        Device old = devices.get(id);
        if (fresh == null || !products.containsKey(fresh.productId())) {
            if (old != null) {
                removed(old);
            }
        } else if (old == null) {
            cache.put(fresh);
        } else {
            replace(old, fresh.withPresenceOf(old));
        }
    }

    /** Joins the registries of the other nodes of a cluster: changes made here are announced to them. */
    public void joinCluster(RegistrySync sync) {
        this.sync = sync;
        presence.joinCluster(sync);
    }


    /** Tells the other nodes, in cluster mode, that a product, device or the keys of a product changed here. */
    void announce(char kind, long id) {
        RegistrySync s = sync;
        if (s != null) {
            s.announce(kind, id);
        }
    }

    /**
     * Cluster mode: a device this node does not know may have been made on another node moments ago. Returns the look-up
     * in the store, done once it is cached (or known to be absent); null on a single node or when it was looked up
     * lately.
     */
    public CompletableFuture<Void> lookUpElsewhere(long deviceId) {
        RegistrySync s = sync;
        return s == null || devices.containsKey(deviceId) ? null : s.lookUp(deviceId);
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

    /** Marks a device online (epoch: its claim's in cluster mode, else 0); hand the token to {@link #markOffline}. */
    public long markOnline(long deviceId, long epoch) {
        return presence.markOnline(deviceId, epoch);
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

    private static void require(String value, String field) {
        if (value == null || value.isEmpty()) {
            throw new DeviceException(Reason.MISSING_FIELD, "missing " + field);
        }
    }

    private static String orEmpty(String s) {
        return s == null ? "" : s;
    }
}
