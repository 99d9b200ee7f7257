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

    Device withLogin(long at) {
        return new Device(id, productId, title, description, authInfo, protocol, isPrivate, disabled, tags,
                locationJson, otherJson, createTime, at, lastLogout);
    }

    Device withLogout(long at) {
        return new Device(id, productId, title, description, authInfo, protocol, isPrivate, disabled, tags,
                locationJson, otherJson, createTime, lastLogin, at);
    }
}
