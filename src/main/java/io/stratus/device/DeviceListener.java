package io.stratus.device;

/**
 * Told of device presence and removal; called on the thread that caused the change, after the change is stored
 * and visible in the registry, so it must not block.
 */
public interface DeviceListener {
    default void online(Device device) {
    }

    default void offline(Device device) {
    }

    /** The device was deleted, or its product was: its connections and data must go. */
    default void removed(Device device) {
    }

    /** The device was disabled: its connections must go, its data stays. */
    default void disabled(Device device) {
    }

    /**
     * A secret that logged this device in may have stopped working ({@code reason}: a device-level key deleted or no
     * longer naming it, the master key rotated, its {@code auth_info} changed): a connection whose login fails
     * {@link DeviceRegistry#stillValid} now must go; the device and its data stay.
     */
    default void credentialsChanged(Device device, String reason) {
    }

    /** The product was deleted (each of its devices was first told {@link #removed}): whatever is kept per product goes. */
    default void productRemoved(Product product) {
    }
}
