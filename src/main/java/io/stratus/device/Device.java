package io.stratus.device;

import java.util.List;

/**
 * A device of a product. {@code locationJson} and {@code otherJson} are the JSON texts the API was given
 * (or null); times are epoch milliseconds, 0 when never.
 */
public record Device(long id, long productId, String title, String description, String authInfo,
                     String protocol, boolean isPrivate, boolean disabled, List<String> tags,
                     String locationJson, String otherJson, long createTime, long lastLogin, long lastLogout) {

    public Device {
        tags = List.copyOf(tags);
    }

    /** This device with the fields {@code c} gives; its null fields leave these as they are. */
    Device with(DeviceChange c) {
        return new Device(id, productId, or(c.title(), title), or(c.description(), description), or(c.authInfo(), authInfo),
                or(c.protocol(), protocol), or(c.isPrivate(), isPrivate), or(c.disabled(), disabled), or(c.tags(), tags),
                or(c.locationJson(), locationJson), or(c.otherJson(), otherJson), createTime, lastLogin, lastLogout);
    }

    private static <T> T or(T value, T fallback) {
        return value == null ? fallback : value;
    }

    Device withLogin(long at) {
        return new Device(id, productId, title, description, authInfo, protocol, isPrivate, disabled, tags,
                locationJson, otherJson, createTime, at, lastLogout);
    }

    Device withLogout(long at) {
        return new Device(id, productId, title, description, authInfo, protocol, isPrivate, disabled, tags,
                locationJson, otherJson, createTime, lastLogin, at);
    }

    /** This device with the later of its and {@code other}'s login and logout times. */
    Device withPresenceOf(Device other) {
        return new Device(id, productId, title, description, authInfo, protocol, isPrivate, disabled, tags,
                locationJson, otherJson, createTime, Math.max(lastLogin, other.lastLogin), Math.max(lastLogout, other.lastLogout));
    }

    /**
     * The device id {@code s} spells in its one canonical form (decimal digits, no leading zero, at most 18), or 0.
     * Any other spelling ("0500000002") would be a second identity of the device, its session keyed apart from the
     * device's; so client ids, login budgets and forward topics all read ids through this.
     */
    public static long idOf(String s) {
        if (s == null || s.isEmpty() || s.length() > 18 || s.charAt(0) == '0') {
            return 0;
        }
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '9') {
                return 0;
            }
        }
        return Long.parseLong(s);
    }
}
