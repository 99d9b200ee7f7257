package io.stratus.broker;

import io.stratus.Config;
import io.stratus.device.DeviceRegistry;
import io.stratus.store.BatchWriter;
import io.stratus.store.Database;

/** Routing of messages between sessions. (Being written.) */
public final class Broker implements AutoCloseable {
    public Broker(Config config, Database database, BatchWriter writer, DeviceRegistry registry) {
    }

    @Override
    public void close() {
    }
}
