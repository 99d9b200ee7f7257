package io.stratus.e2e;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.concurrent.TimeUnit.SECONDS;

import io.stratus.e2e.TestPlatform.TestDevice;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.IMqttToken;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;

/** A Paho client that queues the messages it receives and records when its connection is lost. */
final class PahoClient implements MqttCallback, AutoCloseable {
    /** One received message. */
    record Received(String topic, MqttMessage message) {
        String text() {
            return new String(message.getPayload(), UTF_8);
        }
    }

    private final MqttClient client;
    private final BlockingQueue<Received> inbox = new LinkedBlockingQueue<>();
    private final CompletableFuture<Throwable> lost = new CompletableFuture<>();

    PahoClient(TestPlatform platform, String clientId) throws MqttException {
        client = new MqttClient(platform.mqttUri(), clientId, new MemoryPersistence());
        client.setCallback(this);
        client.setTimeToWait(5000);
    }

    /** A client of {@code device}, connected with its OneNET login. */
    static PahoClient connected(TestPlatform platform, TestDevice device, boolean cleanSession) throws MqttException {
        PahoClient c = new PahoClient(platform, device.id());
        c.connect(Clients.pahoOptions(device, cleanSession));
        return c;
    }

    IMqttToken connect(MqttConnectOptions options) throws MqttException {
        return client.connectWithResult(options);
    }

    MqttClient client() {
        return client;
    }

    void subscribe(String filter, int qos) throws MqttException {
        client.subscribe(filter, qos);
    }

    void publish(String topic, String payload, int qos) throws MqttException {
        client.publish(topic, payload.getBytes(UTF_8), qos, false);
    }

    /** The next message, failing the test when none arrives within 5 s. */
    Received next() throws InterruptedException {
        Received r = inbox.poll(5, SECONDS);
        if (r == null) {
            throw new AssertionError("no message within 5 s");
        }
        return r;
    }

    /** Completes when the server closes the connection. */
    CompletableFuture<Throwable> lost() {
        return lost;
    }

    @Override
    public void connectionLost(Throwable cause) {
        lost.complete(cause);
    }

    @Override
    public void messageArrived(String topic, MqttMessage message) {
        inbox.add(new Received(topic, message));
    }

    @Override
    public void deliveryComplete(IMqttDeliveryToken token) {
    }

    @Override
    public void close() throws MqttException {
        try {
            if (client.isConnected()) {
                client.disconnect(1000);
            }
        } catch (MqttException e) {
            // already gone: closing is all that is left
        }
        client.close(true);
    }
}
