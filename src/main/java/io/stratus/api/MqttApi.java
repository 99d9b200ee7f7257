package io.stratus.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.http.Context;
import io.stratus.broker.Broker;
import io.stratus.broker.Message;
import io.stratus.broker.Topics;
import io.stratus.broker.UserTopics;
import io.stratus.device.Device;
import io.stratus.device.DeviceRegistry;
import java.util.List;
import java.util.concurrent.TimeoutException;

/**
 * {@code /mqtt}: publishing over HTTP and the user-topic API (protocol §5 and D26 in docs/decisions.md). Master key or
 * admin (with {@code product_id}); a device-level key gets errno 3.
 */
final class MqttApi {
    static final int DEFAULT_PER_PAGE = 10;
    /** OneNET's limit of {@code per_page} in {@code GET /mqtt/topic_device}. */
    static final int MAX_TOPIC_DEVICES_PER_PAGE = 1000;

    private final DeviceRegistry registry;
    private final Broker broker;

    MqttApi(DeviceRegistry registry, Broker broker) {
        this.registry = registry;
        this.broker = broker;
    }

    /**
     * {@code POST /mqtt?topic=}: the raw body (at most 64 KiB, may be empty) published at QoS 0, not retained, to
     * the product's subscribers that are online now (§5: no queueing for offline sessions).
     */
    Object publish(Context ctx, Access caller) {
        caller.requireManager();
        long productId = caller.productId(ctx, registry);
        String topic = topicName(Params.text(ctx, "topic"), "topic");
        byte[] body = JsonBody.readLimited(ctx, JsonBody.MAX_BYTES);
        broker.publish(productId, new Message(topic, body, 0, false));
        return null;
    }

    /** {@code POST /mqtt/topic {"name"}}: errno 12 when it exists, 6 when the product has its maximum (D26). */
    Object createTopic(Context ctx, Access caller) throws Exception {
        caller.requireManager();
        long productId = caller.productId(ctx, registry);
        String name = topicName(JsonBody.read(ctx).text("name", Integer.MAX_VALUE), "name");
        UserTopics.Outcome outcome = StoreWait.await(broker.userTopics().create(productId, name));
        return switch (outcome) {
            case CREATED -> null;
            case EXISTS -> throw new ApiError(Errno.ALREADY_EXISTS, "topic " + name);
            case LIMIT -> throw ApiError.invalid("the product has its maximum of " + broker.userTopics().maxPerProduct()
                    + " topics (topics.max-per-product)");
        };
    }

    /** {@code GET /mqtt/topic} -> {@code ["a","b"]}, sorted. */
    Object listTopics(Context ctx, Access caller) {
        caller.requireManager();
        return broker.userTopics().list(caller.productId(ctx, registry));
    }

    /** {@code DELETE /mqtt/topic?name=}: errno 8 when the product has no such topic. Subscriptions stay. */
    Object deleteTopic(Context ctx, Access caller) throws Exception {
        caller.requireManager();
        long productId = caller.productId(ctx, registry);
        String name = Params.text(ctx, "name");
        if (name == null) {
            throw ApiError.required("name");
        }
        if (!StoreWait.await(broker.userTopics().delete(productId, name))) {
            throw ApiError.notFound("topic not found: " + name);
        }
        return null;
    }

    /**
     * {@code GET /mqtt/device_topic/{device_id}} -> the topic filters the device's session holds, sorted (wildcard
     * filters included, as subscribed); a persistent session counts while the device is offline.
     */
    Object deviceTopics(Context ctx, Access caller) {
        caller.requireManager();
        Device d = caller.device(ctx, registry);
        return broker.subscriptionsOf(d.productId(), String.valueOf(d.id())).keySet().stream().sorted().toList();
    }

    /**
     * {@code GET /mqtt/topic_device?topic=&page=&per_page=} -> {@code {total_count,page,per_page,devices:[ids]}}: the
     * product's devices whose sessions hold exactly this topic (a filter such as {@code a/+} matches only itself).
     */
    Object topicDevices(Context ctx, Access caller) {
        caller.requireManager();
        long productId = caller.productId(ctx, registry);
        String topic = Params.text(ctx, "topic");
        if (topic == null) {
            throw ApiError.required("topic");
        }
        String problem = Topics.checkFilter(topic);
        if (problem != null) {
            throw ApiError.invalid("topic: " + problem);
        }
        int page = Params.integer(ctx, "page", 1, Page.MAX_PAGE, 1);
        int perPage = Params.integer(ctx, "per_page", 1, MAX_TOPIC_DEVICES_PER_PAGE, DEFAULT_PER_PAGE);
        List<Long> devices = broker.devicesSubscribedTo(productId, topic).stream()
                .filter(id -> registry.device(id).filter(d -> d.productId() == productId).isPresent()).toList();
        int from = (int) Math.min((long) (page - 1) * perPage, devices.size());
        ObjectNode o = JsonBody.MAPPER.createObjectNode();
        o.put("total_count", devices.size());
        o.put("page", page);
        o.put("per_page", perPage);
        ArrayNode out = o.putArray("devices");
        devices.subList(from, Math.min(from + perPage, devices.size())).forEach(out::add);
        return o;
    }

    /** A user topic name (D26): required (errno 7), a valid MQTT topic name of at most 1024 bytes, no {@code $} (6). */
    private static String topicName(String name, String field) {
        if (name == null || name.isEmpty()) {
            throw ApiError.required(field);
        }
        String problem = Topics.checkTopicName(name);
        if (problem != null) {
            throw ApiError.invalid(field + ": " + problem);
        }
        if (Topics.isSystem(name)) {
            throw ApiError.invalid(field + ": topics starting with '$' are reserved");
        }
        return name;
    }
}
