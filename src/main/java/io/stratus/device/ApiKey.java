package io.stratus.device;

import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * A device-level API key (OneNET 6.4, POST /keys): a secret of one product that grants the HTTP methods of each
 * {@link Permission} on the devices, or single data streams of devices, its {@link Resource}s name. Immutable.
 * A product's master key is not an ApiKey: it lives in {@link Product}.
 */
public record ApiKey(String key, long productId, String title, List<Permission> permissions, long createTime) {

    /** The HTTP methods a permission can grant ({@code access_methods}). */
    public enum Method {
        GET, PUT, POST, DELETE;

        /** The method of a wire name (any case); empty for anything else. */
        public static Optional<Method> of(String name) {
            if (name == null) {
                return Optional.empty();
            }
            for (Method m : values()) {
                if (m.name().equalsIgnoreCase(name)) {
                    return Optional.of(m);
                }
            }
            return Optional.empty();
        }

        /** The wire name, lower case as OneNET writes it. */
        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** A device ({@code streamId} null: the whole device and all its streams) or one stream of a device. */
    public record Resource(long deviceId, String streamId) {
        boolean coversStream(long device, String stream) {
            return deviceId == device && (streamId == null || streamId.equals(stream));
        }
    }

    /** Methods granted on resources. */
    public record Permission(Set<Method> methods, List<Resource> resources) {
        public Permission {
            // Kept in enum order, so that replies list methods as get, put, post, delete.
            methods = Collections.unmodifiableSet(methods.isEmpty() ? EnumSet.noneOf(Method.class) : EnumSet.copyOf(methods));
            resources = List.copyOf(resources);
        }
    }

    public ApiKey {
        permissions = List.copyOf(permissions);
    }

    ApiKey with(String newTitle, List<Permission> newPermissions) {
        return new ApiKey(key, productId, newTitle, newPermissions, createTime);
    }

    /**
     * Whether the key may log in over MQTT as this device: only a key that may read ({@code GET}) and write
     * ({@code POST}) the whole device. A connection as the device receives its commands and writes any of its streams,
     * which a key for single streams, or a read-only one, was never granted.
     */
    public boolean allowsDeviceLogin(long deviceId) {
        return allows(Method.GET, deviceId, null) && allows(Method.POST, deviceId, null);
    }

    /**
     * Whether {@code method} is granted on the whole device ({@code stream} null) or on that stream of it: a
     * resource naming only the device covers all of it; one with a {@code ds_id} covers just that stream.
     */
    public boolean allows(Method method, long deviceId, String stream) {
        for (Permission p : permissions) {
            if (p.methods().contains(method)) {
                for (Resource r : p.resources()) {
                    if (stream == null ? r.deviceId() == deviceId && r.streamId() == null : r.coversStream(deviceId, stream)) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /** Whether {@code method} is granted on the device or on at least one of its streams. */
    public boolean touches(Method method, long deviceId) {
        for (Permission p : permissions) {
            if (p.methods().contains(method)) {
                for (Resource r : p.resources()) {
                    if (r.deviceId() == deviceId) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /** The ids of every device the key names, in order of first mention. */
    public Set<Long> deviceIds() {
        Set<Long> ids = new LinkedHashSet<>();
        for (Permission p : permissions) {
            for (Resource r : p.resources()) {
                ids.add(r.deviceId());
            }
        }
        return ids;
    }
}
