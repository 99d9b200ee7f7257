package io.stratus.device;

/** Told of device presence and removal; called on the thread that caused the change, so it must not block. */
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
}
