package io.stratus.broker;

import io.stratus.device.Device;
import io.stratus.device.DeviceListener;
import io.stratus.device.Product;

/** What a deleted, disabled or revoked device or a deleted product does to sessions, connections and caches. */
final class DeviceEvents implements DeviceListener {
    private final Sessions sessions;
    private final RetainedMessages retained;
    private final UserTopics userTopics;

    DeviceEvents(Sessions sessions, RetainedMessages retained, UserTopics userTopics) {
        this.sessions = sessions;
        this.retained = retained;
        this.userTopics = userTopics;
    }

    @Override
    public void removed(Device device) {
        sessions.evict(device);
    }

    @Override
    public void disabled(Device device) {
        sessions.endLogin(device, "device " + device.id() + " was disabled");
    }

    @Override
    public void credentialsChanged(Device device, String reason) {
        sessions.endLogin(device, "login of device " + device.id() + " revoked: " + reason);
    }

    @Override
    public void productRemoved(Product product) {
        sessions.forgetProduct(product.id());
        retained.forget(product.id());
        userTopics.forget(product.id());
    }
}
