package io.stratus.api;

import io.stratus.Config;
import io.stratus.device.AdminAccount;
import io.stratus.device.DeviceRegistry;

/** The HTTP API. (Being written.) */
public final class ApiServer implements AutoCloseable {
    public ApiServer(Config config, DeviceRegistry registry, AdminAccount admin) {
    }

    public void start() {
    }

    public int port() {
        return 0;
    }

    @Override
    public void close() {
    }
}
