package io.stratus.device;

import java.util.List;

/**
 * The fields of a device to create or change; a null field is left as it is (or defaulted on create).
 * JSON-valued fields carry their JSON text.
 */
public record DeviceChange(String title, String description, String authInfo, String protocol, Boolean isPrivate,
                           Boolean disabled, List<String> tags, String locationJson, String otherJson) {

    /** The fields of a new device: no description, protocol MQTT, private, enabled, no tags where this gives none. */
    DeviceChange withDefaults() {
        return new DeviceChange(title, description == null ? "" : description, authInfo, protocol == null ? "MQTT" : protocol,
                isPrivate == null || isPrivate, disabled != null && disabled, tags == null ? List.of() : tags,
                locationJson, otherJson);
    }
}
