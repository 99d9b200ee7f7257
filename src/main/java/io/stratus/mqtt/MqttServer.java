package io.stratus.mqtt;

import io.stratus.Config;
import io.stratus.broker.Broker;
import io.stratus.device.DeviceRegistry;

/** The MQTT listener. (Being written.) */
public final class MqttServer implements AutoCloseable {
    public MqttServer(Config config, DeviceRegistry registry, Broker broker) {
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
